// Test data for unit tests of the core (no database): a plain active user, as a repository returns it.
import { randomUUID } from 'node:crypto';
import type { User } from '../model.ts';

export function testUser(overrides: Partial<User> = {}): User {
  const now = new Date();
  return {
    id: randomUUID(),
    realm: 'main',
    login: 'a',
    email: null,
    emailVerified: false,
    phone: null,
    phoneVerified: false,
    birthDate: null,
    locale: null,
    status: 'active',
    rights: [],
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
