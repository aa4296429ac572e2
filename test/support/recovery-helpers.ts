import { expect } from 'vitest';
import type { User } from '../../src/core/model.ts';
import type { RealmPolicy } from '../../src/core/realm/policy-schema.ts';
import type { NewUserInput } from '../../src/core/users/user-service.ts';
import { devMailboxReader } from '../../src/delivery/dev-mailbox.ts';
import {
  GOOD_PASSWORD,
  type InjectResponse,
  type StartOptions,
  startTestDostup,
  type TestDostup,
  uniqueLogin,
} from './test-server.ts';

/** The test server (it carries a raw SQL handle on its database); kept as a name for the recovery suites. */
export type RecoveryTestDostup = TestDostup;

export const startRecoveryTestDostup = (opts: StartOptions = {}): Promise<RecoveryTestDostup> => startTestDostup(opts);

// ---------------------------------------------------------------------------------------------
// Realms and users.

let realmCounter = 0;
/** A realm name nobody else in this process uses. */
export function uniqueRealm(prefix = 'rec'): string {
  realmCounter += 1;
  return `${prefix}-${realmCounter}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Create (or replace) a realm through the admin API; resolves with the validated policy. */
export async function putRealm(
  t: TestDostup,
  name: string,
  policy: Record<string, unknown> = {},
): Promise<RealmPolicy> {
  const res = await t.inject({
    method: 'PUT',
    url: `/api/v1/admin/realms/${name}`,
    headers: t.adminHeaders({ 'content-type': 'application/json' }),
    payload: { name, baseUrl: 'http://localhost:8080', ...policy },
  });
  expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
  return t.d.realms.require(name);
}

export interface TestUser {
  user: User;
  login: string;
  email: string;
  password: string;
}

/** A user with a unique login and e-mail in `realm`, password GOOD_PASSWORD unless given. */
export async function newUser(t: TestDostup, realm: RealmPolicy, extra: Partial<NewUserInput> = {}): Promise<TestUser> {
  const login = uniqueLogin('rec');
  const email = `${login}@mail.example.test`;
  const password = extra.password ?? GOOD_PASSWORD;
  const user = await t.addUser({ login, email, password, ...extra }, realm);
  return { user, login, email: extra.email ?? email, password };
}

// ---------------------------------------------------------------------------------------------
// Waiting for the work done after the response.

/** Wait until the processor took the flow out of `requested` (mail queued or pretended). */
export async function settleFlow(t: TestDostup, flowId: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const rec = await t.d.store.flows.get(flowId);
    if (!rec) throw new Error(`flow ${flowId} not found`);
    if (rec.state !== 'requested') break;
    if (Date.now() > until) throw new Error(`flow ${flowId} still requested after ${timeoutMs} ms`);
    await sleep(10);
  }
  await t.d.processor.idle();
  // Deliver whatever is due now rather than at the worker's next poll.
  await t.d.outbox.runOnce();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface DevMailJson {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  links: string[];
  realm: string | null;
  createdAt: string;
}

/** The newest dev-mailbox mail to `to`, or null. */
export async function latestMail(t: TestDostup, to: string): Promise<DevMailJson | null> {
  const res = await t.inject({ method: 'GET', url: `/dev/mailbox/latest.json?to=${encodeURIComponent(to)}` });
  if (res.statusCode === 404) return null;
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return JSON.parse(res.body) as DevMailJson;
}

/** Poll the dev mailbox until the newest mail to `to` satisfies `pred` (default: any mail). */
export async function waitForMail(
  t: TestDostup,
  to: string,
  pred: (m: DevMailJson) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<DevMailJson> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await t.d.processor.idle();
    await t.d.outbox.runOnce();
    const m = await latestMail(t, to);
    if (m && pred(m)) return m;
    if (Date.now() > until)
      throw new Error(`no matching mail to ${to} within ${timeoutMs} ms (latest: ${m?.subject ?? 'none'})`);
    await sleep(20);
  }
}

/** All dev-mailbox mails to `to` (case-insensitive), newest first. */
export async function mailsTo(t: TestDostup, to: string): Promise<{ subject: string; textBody: string }[]> {
  const all = await devMailboxReader(t.d.store.devMailbox, t.d.catalog).list(1000);
  return all.filter((m) => m.recipient.toLowerCase() === to.toLowerCase());
}

export interface MailedCode {
  /** The reset link as mailed. */
  link: string;
  /** The secret id (`s` parameter of the link). */
  secretId: string;
  /** The code, from the link's `code` parameter. */
  code: string;
}

/** The reset link of a recovery mail and what it carries. */
export function codeFromMail(m: { links: string[] }): MailedCode {
  const link = m.links.find((l) => /\/reset\?/.test(l));
  if (!link) throw new Error(`no reset link in the mail: ${JSON.stringify(m.links)}`);
  const u = new URL(link);
  const secretId = u.searchParams.get('s');
  const code = u.searchParams.get('code');
  if (!secretId || !code) throw new Error(`reset link without s/code: ${link}`);
  return { link, secretId, code };
}

// ---------------------------------------------------------------------------------------------
// Comparing answers.

const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
export const withoutUuids = (s: string): string => s.replace(UUID_G, '<uuid>');

/** Header names minus those whose presence may legitimately vary per request. */
export function headerNames(res: InjectResponse): string[] {
  return Object.keys(res.headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h !== 'date' && h !== 'x-request-id' && h !== 'request-id')
    .sort();
}

/** What a stack trace of our sources (or a raw framework error) looks like in a body. */
export function looksLikeLeak(body: string): boolean {
  return (
    /\bat [^\n]*\.ts:\d+/.test(body) ||
    /\.ts:\d+:\d+/.test(body) ||
    body.includes('node_modules/') ||
    /\n\s+at \S+ \(/.test(body)
  );
}

/** A strong password different from GOOD_PASSWORD (each call a new one). */
let pwCounter = 0;
export function newPassword(): string {
  pwCounter += 1;
  return `fresh violet ladder ${pwCounter} ${Math.random().toString(36).slice(2, 8)}`;
}
