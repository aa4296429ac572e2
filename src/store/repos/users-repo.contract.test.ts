import { expect, it } from 'vitest';
import { DostupError } from '../../core/errors.ts';
import type { UserStatus } from '../../core/model.ts';
import { StoreQueryError } from '../db.ts';
import { describeEachDriver } from '../testing/each-driver.ts';
import { makeRealm, newUser, rejectionOf, sleep, uniqueName, uuid } from '../testing/fixtures.ts';

function expectTaken(err: unknown, path: string): void {
  expect(err).toBeInstanceOf(DostupError);
  const e = err as DostupError;
  expect(e.code).toBe('IDENTIFIER_TAKEN');
  expect(e.issues).toEqual([{ path, messageId: 'error.identifier_taken' }]);
}

describeEachDriver('users repository', (getStore) => {
  it('create returns the user with defaults and without the password hash', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const u = await s.users.create(
      newUser(realm, {
        login: 'Ivan.Petrov',
        loginKey: 'ivan.petrov',
        email: 'Ivan@Example.org',
        emailKey: 'ivan@example.org',
        phone: '+79161234567',
        birthDate: '1990-02-28',
        locale: 'ru',
        rights: ['password:change-own', 'admin:read'],
      }),
    );
    expect(u.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(u).toMatchObject({
      realm,
      login: 'Ivan.Petrov',
      email: 'Ivan@Example.org',
      phone: '+79161234567',
      birthDate: '1990-02-28',
      locale: 'ru',
      status: 'active',
      rights: ['password:change-own', 'admin:read'],
      emailVerified: false,
    });
    expect(u.createdAt).toBeInstanceOf(Date);
    expect('passwordHash' in u).toBe(false);
    expect(await s.users.getById(realm, u.id)).toEqual(u);
  });

  it('getById is scoped to the realm and tolerates malformed ids', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const other = await makeRealm(s);
    const u = await s.users.create(newUser(realm));
    expect(await s.users.getById(other, u.id)).toBeNull();
    expect(await s.users.getById(realm, uuid())).toBeNull();
    expect(await s.users.getById(realm, 'not-a-uuid')).toBeNull();
  });

  it('getWithSecret returns the current hash, scoped to the realm', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const other = await makeRealm(s);
    const u = await s.users.create(newUser(realm, { passwordHash: '$argon2id$fake' }));
    expect((await s.users.getWithSecret(realm, u.id))?.passwordHash).toBe('$argon2id$fake');
    expect(await s.users.getWithSecret(other, u.id)).toBeNull();
    expect(await s.users.getWithSecret(realm, 'nope')).toBeNull();
  });

  it('findManyForSignIn looks several keys up at once, only in the realm, keyed by what was asked', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const a = await s.users.create(
      newUser(realm, { email: 'A@Example.org', emailKey: 'a@example.org', passwordHash: 'h-a' }),
    );
    const b = await s.users.create(
      newUser(realm, { email: 'b@example.org', emailKey: 'b@example.org', passwordHash: 'h-b' }),
    );
    const elsewhere = await makeRealm(s);
    await s.users.create(newUser(elsewhere, { email: 'c@example.org', emailKey: 'c@example.org' }));
    const found = await s.users.findManyForSignIn(realm, 'email', [
      'b@example.org',
      'a@example.org',
      'c@example.org',
      'A@Example.org',
      'a@example.org',
    ]);
    expect([...found.keys()].sort()).toEqual(['a@example.org', 'b@example.org']);
    expect(found.get('a@example.org')).toEqual({ ...a, passwordHash: 'h-a' });
    expect(found.get('b@example.org')).toEqual({ ...b, passwordHash: 'h-b' });
    expect(await s.users.findManyForSignIn(realm, 'login', [])).toEqual(new Map());
  });

  it('findManyForSignIn passes keys as values: array-literal syntax in a key is just characters', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    // Keys a parser of '{a,b}' literals would split, unquote or read as NULL if they were spliced in.
    const odd = ['"q,u{o}te"\\@example.org', 'NULL', '{a,b}', ' sp ace ', "o'hara"];
    const made = await Promise.all(odd.map((key) => s.users.create(newUser(realm, { login: key, loginKey: key }))));
    const found = await s.users.findManyForSignIn(realm, 'login', [...odd, 'a', 'b', 'q,u{o}te']);
    expect([...found.keys()].sort()).toEqual([...odd].sort());
    for (const [i, key] of odd.entries()) expect(found.get(key)?.id).toBe(made[i]?.id);
  });

  it('findForSignIn looks up by normalized keys (case-insensitive) and returns the hash', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const u = await s.users.create(
      newUser(realm, {
        login: 'Ivan.Petrov',
        loginKey: 'ivan.petrov',
        email: 'Ivan@Example.org',
        emailKey: 'ivan@example.org',
        phone: '+79161234567',
        passwordHash: 'hash-1',
      }),
    );
    for (const [by, key] of [
      ['login', 'ivan.petrov'],
      ['email', 'ivan@example.org'],
      ['phone', '+79161234567'],
    ] as const) {
      const found = await s.users.findForSignIn(realm, by, key);
      // The whole user, mapped like every other read (the sign-in answer shows it), plus the hash.
      expect(found).toEqual({ ...u, passwordHash: 'hash-1' });
    }
    // The display value is not a key: lookups never match it directly.
    expect(await s.users.findForSignIn(realm, 'login', 'Ivan.Petrov')).toBeNull();
    expect(await s.users.findForSignIn(realm, 'email', 'ivan.petrov')).toBeNull();
    expect(await s.users.findForSignIn(await makeRealm(s), 'login', 'ivan.petrov')).toBeNull();
    // The same lookups inside a transaction (repositories bound to it are built per transaction).
    await s.transaction(async (tx) => {
      expect((await tx.users.findForSignIn(realm, 'email', 'ivan@example.org'))?.id).toBe(u.id);
      expect(await tx.users.findForSignIn(realm, 'email', 'nobody@example.org')).toBeNull();
    });
  });

  it('identifiers are unique per realm and the error names which one', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    await s.users.create(
      newUser(realm, {
        login: 'Anna',
        loginKey: 'anna',
        email: 'a@x.test',
        emailKey: 'a@x.test',
        phone: '+70000000001',
      }),
    );
    expectTaken(await rejectionOf(s.users.create(newUser(realm, { login: 'ANNA', loginKey: 'anna' }))), '/login');
    expectTaken(
      await rejectionOf(s.users.create(newUser(realm, { email: 'A@X.test', emailKey: 'a@x.test' }))),
      '/email',
    );
    expectTaken(await rejectionOf(s.users.create(newUser(realm, { phone: '+70000000001' }))), '/phone');
    expect(await s.users.count(realm)).toBe(1);
  });

  it('the same login, e-mail and phone are allowed in two realms', async () => {
    const s = getStore();
    const ids = { login: 'shared', loginKey: 'shared', email: 's@x.test', emailKey: 's@x.test', phone: '+70000000002' };
    const a = await s.users.create(newUser(await makeRealm(s), ids));
    const b = await s.users.create(newUser(await makeRealm(s), ids));
    expect(a.id).not.toBe(b.id);
  });

  it('users without a login (e-mail only) do not collide on the missing login', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    await s.users.create(newUser(realm, { login: null, loginKey: null, email: 'p@x.test', emailKey: 'p@x.test' }));
    await s.users.create(newUser(realm, { login: null, loginKey: null, email: 'q@x.test', emailKey: 'q@x.test' }));
    expect(await s.users.count(realm)).toBe(2);
  });

  it('a user in an unknown realm is REALM_NOT_FOUND', async () => {
    const err = await rejectionOf(getStore().users.create(newUser(uniqueName())));
    expect((err as DostupError).code).toBe('REALM_NOT_FOUND');
  });

  it('IDENTIFIER_TAKEN inside a transaction leaves the transaction usable', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    await s.users.create(newUser(realm, { login: 'taken', loginKey: 'taken' }));
    await s.transaction(async (tx) => {
      expectTaken(await rejectionOf(tx.users.create(newUser(realm, { login: 'taken', loginKey: 'taken' }))), '/login');
      await tx.users.create(newUser(realm, { login: 'taken2', loginKey: 'taken2' }));
    });
    expect(await s.users.findForSignIn(realm, 'login', 'taken2')).not.toBeNull();
  });

  it('list pages in creation order and count counts the realm only', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const created = [];
    for (let i = 0; i < 5; i++) {
      created.push(await s.users.create(newUser(realm)));
      // PGlite's clock moves once a millisecond; users made within one are ordered by id, not by creation.
      await sleep(2);
    }
    await s.users.create(newUser(await makeRealm(s)));
    expect(await s.users.count(realm)).toBe(5);
    const page1 = await s.users.list(realm, { limit: 2, offset: 0 });
    const page3 = await s.users.list(realm, { limit: 2, offset: 4 });
    expect(page1.map((u) => u.id)).toEqual(created.slice(0, 2).map((u) => u.id));
    expect(page3.map((u) => u.id)).toEqual([created[4]?.id]);
    expect(page1.every((u) => !('passwordHash' in u))).toBe(true);
  });

  it('rehash swaps the hash only while it is still the old one, and leaves the history alone', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const u = await s.users.create(newUser(realm, { passwordHash: 'h1' }));
    await s.users.setPasswordHash(u.id, 'h2', 3);
    expect(await s.users.passwordHistory(u.id, 10)).toEqual(['h1']);
    expect(await s.users.rehash(u.id, 'h2', 'h2-stronger')).toBe(true);
    expect((await s.users.getWithSecret(realm, u.id))?.passwordHash).toBe('h2-stronger');
    expect(await s.users.passwordHistory(u.id, 10)).toEqual(['h1']);
    // The password changed meanwhile (e.g. a reset): a late re-hash of the old one must not win.
    await s.users.setPasswordHash(u.id, 'h3', 3);
    expect(await s.users.rehash(u.id, 'h2-stronger', 'h2-late')).toBe(false);
    expect((await s.users.getWithSecret(realm, u.id))?.passwordHash).toBe('h3');
    expect(await s.users.rehash('not-a-uuid', 'x', 'y')).toBe(false);
  });

  it('setPasswordHash pushes the old hash into the history and trims it to keepHistory', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const u = await s.users.create(newUser(realm, { passwordHash: null }));
    await s.users.setPasswordHash(u.id, 'h1', 3); // no old hash: nothing to push
    expect(await s.users.passwordHistory(u.id, 10)).toEqual([]);
    for (const h of ['h2', 'h3', 'h4', 'h5', 'h6']) await s.users.setPasswordHash(u.id, h, 3);
    expect(await s.users.passwordHistory(u.id, 10)).toEqual(['h5', 'h4', 'h3']);
    expect(await s.users.passwordHistory(u.id, 2)).toEqual(['h5', 'h4']);
    const signIn = await s.users.findForSignIn(realm, 'login', u.login ?? '');
    expect(signIn?.passwordHash).toBe('h6');
  });

  it('setPasswordHash with keepHistory 0 keeps no history', async () => {
    const s = getStore();
    const u = await s.users.create(newUser(await makeRealm(s)));
    await s.users.setPasswordHash(u.id, 'a', 2);
    await s.users.setPasswordHash(u.id, 'b', 2);
    expect((await s.users.passwordHistory(u.id, 10)).length).toBe(2);
    await s.users.setPasswordHash(u.id, 'c', 0);
    expect(await s.users.passwordHistory(u.id, 10)).toEqual([]);
  });

  it('setPasswordHash inside a transaction is undone with it', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const u = await s.users.create(newUser(realm, { passwordHash: 'old' }));
    await rejectionOf(
      s.transaction(async (tx) => {
        await tx.users.setPasswordHash(u.id, 'new', 5);
        expect(await tx.users.passwordHistory(u.id, 5)).toEqual(['old']);
        throw new Error('abort');
      }),
    );
    expect((await s.users.findForSignIn(realm, 'login', u.login ?? ''))?.passwordHash).toBe('old');
    expect(await s.users.passwordHistory(u.id, 5)).toEqual([]);
  });

  it('setPasswordHash and setStatus of an unknown user are USER_NOT_FOUND', async () => {
    const s = getStore();
    for (const call of [
      () => s.users.setPasswordHash(uuid(), 'x', 3),
      () => s.users.setPasswordHash('nope', 'x', 3),
      () => s.users.setStatus(uuid(), 'locked'),
    ]) {
      expect(((await rejectionOf(call())) as DostupError).code).toBe('USER_NOT_FOUND');
    }
    expect(await s.users.passwordHistory('nope', 3)).toEqual([]);
  });

  it('setStatus changes the status; the database refuses an unknown status', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const u = await s.users.create(newUser(realm));
    await s.users.setStatus(u.id, 'locked');
    expect((await s.users.getById(realm, u.id))?.status).toBe('locked');
    const err = await rejectionOf(s.users.setStatus(u.id, 'bogus' as UserStatus));
    expect(err).toBeInstanceOf(StoreQueryError);
    expect((err as StoreQueryError).code).toBe('23514');
  });

  it('database errors leaving the store carry no query parameters', async () => {
    const s = getStore();
    const u = await s.users.create(newUser(await makeRealm(s)));
    const err = (await rejectionOf(s.users.setStatus(u.id, 'bogus' as UserStatus))) as StoreQueryError;
    expect(err.message).not.toContain(u.id);
    expect(err.message).not.toContain('bogus');
    expect(err.cause).toBeUndefined();
    expect(JSON.stringify(err)).not.toContain(u.id);
  });
});
