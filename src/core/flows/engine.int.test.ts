// The flow engine on real storage (both drivers): binding, expiry by the DB clock, CAS, table.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachDriver } from '../../store/testing/each-driver.ts';
import { makeRealm } from '../../store/testing/fixtures.ts';
import { DostupError } from '../errors.ts';
import { createFlowEngine, csrfBinding } from './engine.ts';
import type { FlowMachine } from './machine.ts';

type S = 'a' | 'b' | 'done';
const twoStep: FlowMachine<S> = {
  kind: 'test-two-step',
  initial: 'a',
  transitions: { a: ['b'], b: ['done', 'b'], done: [] },
  lifetimeSeconds: 600,
};
const shortLived: FlowMachine<S> = { ...twoStep, kind: 'test-short', lifetimeSeconds: 0 };
const random = { bytes: (n: number) => randomBytes(n), uuid: () => randomUUID() };
const clock = { now: () => new Date() };

async function codeOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DostupError);
    return (e as DostupError).code;
  }
  throw new Error('expected a DostupError');
}

describeEachDriver('flow engine', (getStore) => {
  const engine = () => createFlowEngine({ flows: getStore().flows, clock, random });

  it('starts, loads and advances along the table', async () => {
    const realm = await makeRealm(getStore());
    const bind = csrfBinding('secret-1');
    const f = await engine().start(twoStep, realm, { n: 1 }, bind);
    const loaded = await engine().load(twoStep, realm, f.record.id, csrfBinding('secret-1'));
    expect(loaded.state).toBe('a');
    const b = await engine().advance(twoStep, loaded, 'b', { n: 2 });
    expect(b.state).toBe('b');
    expect((await engine().load(twoStep, realm, f.record.id, bind)).data).toEqual({ n: 2 });
  });

  it('refuses another browser (CSRF binding), another realm and another kind alike', async () => {
    const realm = await makeRealm(getStore());
    const other = await makeRealm(getStore());
    const f = await engine().start(twoStep, realm, {}, csrfBinding('mine'));
    expect(await codeOf(engine().load(twoStep, realm, f.record.id, csrfBinding('theirs')))).toBe('FLOW_NOT_FOUND');
    expect(await codeOf(engine().load(twoStep, realm, f.record.id, null))).toBe('FLOW_NOT_FOUND');
    expect(await codeOf(engine().load(twoStep, other, f.record.id, csrfBinding('mine')))).toBe('FLOW_NOT_FOUND');
    expect(await codeOf(engine().load(shortLived, realm, f.record.id, csrfBinding('mine')))).toBe('FLOW_NOT_FOUND');
    expect(await codeOf(engine().load(twoStep, realm, randomUUID(), csrfBinding('mine')))).toBe('FLOW_NOT_FOUND');
  });

  it('an expired flow is dead', async () => {
    const realm = await makeRealm(getStore());
    const f = await engine().start(shortLived, realm, {}, null);
    await new Promise((r) => setTimeout(r, 20));
    expect(await codeOf(engine().load(shortLived, realm, f.record.id, null))).toBe('FLOW_EXPIRED');
  });

  it('two racing advances from the same version: exactly one wins', async () => {
    const realm = await makeRealm(getStore());
    const f = await engine().start(twoStep, realm, {}, null);
    const results = await Promise.allSettled([
      engine().advance(twoStep, f, 'b', { who: 1 }),
      engine().advance(twoStep, f, 'b', { who: 2 }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as DostupError).code).toBe('FLOW_STATE_INVALID');
  });

  it('refuses moves outside the table and out of terminal states', async () => {
    const realm = await makeRealm(getStore());
    const f = await engine().start(twoStep, realm, {}, null);
    expect(await codeOf(engine().advance(twoStep, f, 'done', {}))).toBe('FLOW_STATE_INVALID');
    const b = await engine().advance(twoStep, f, 'b', {});
    const done = await engine().advance(twoStep, b, 'done', {});
    expect(await codeOf(engine().advance(twoStep, done, 'b', {}))).toBe('FLOW_STATE_INVALID');
  });
});
