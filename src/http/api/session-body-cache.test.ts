import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SessionWithUser } from '../../core/ports.ts';
import { testUser } from '../../core/testing/users.ts';
import { createSessionBodyCache } from './session-body-cache.ts';

function found(rights: string[]): SessionWithUser {
  const now = new Date();
  return {
    session: {
      id: randomUUID(),
      realm: 'main',
      userId: 'u',
      remember: false,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now,
      expiresAt: now,
      revokedAt: null,
      ip: null,
      userAgent: null,
    },
    user: testUser({ id: 'u', rights, createdAt: now, updatedAt: now }),
  };
}

describe('session body cache', () => {
  it('renders once per session object and serves the same string after', () => {
    const cache = createSessionBodyCache();
    const f = found(['a']);
    let renders = 0;
    const render = () => {
      renders++;
      return JSON.stringify(f.user.rights);
    };
    expect(cache.get(f, render)).toBe('["a"]');
    expect(cache.get(f, render)).toBe('["a"]');
    expect(renders).toBe(1);
  });

  it('a new object (the next database lookup: after cache expiry, a revocation, forgetUser) is rendered anew', () => {
    const cache = createSessionBodyCache();
    const before = found(['a']);
    const after = found(['a', 'b']);
    expect(cache.get(before, () => JSON.stringify(before.user.rights))).toBe('["a"]');
    expect(cache.get(after, () => JSON.stringify(after.user.rights))).toBe('["a","b"]');
    // Each object keeps its own body: one never answers for the other.
    expect(cache.get(before, () => 'rendered again')).toBe('["a"]');
  });
});
