// Request and response schemas of the JSON API, written once: they validate input, type the
// handlers (TypeBox provider), serialize responses fast (fast-json-stringify) and feed OpenAPI.
import Type, { type Static } from 'typebox';
import type { Session, User } from '../../core/model.ts';
import type { SessionWithUser } from '../../core/ports.ts';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable UPPER_SNAKE error code' }),
      message: Type.String({ description: 'Localized, human-readable' }),
      issues: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: 'Error' },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const UserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  realm: Type.String(),
  login: Nullable(Type.String()),
  email: Nullable(Type.String()),
  emailVerified: Type.Boolean(),
  phone: Nullable(Type.String()),
  phoneVerified: Type.Boolean(),
  birthDate: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  status: Type.String(),
  rights: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const SessionSchema = Type.Object({
  id: Type.String(),
  remember: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  current: Type.Boolean(),
});

export const LoginBody = Type.Object(
  {
    identifier: Type.String({
      minLength: 1,
      maxLength: 320,
      description: 'Login, e-mail or phone, as the realm allows',
    }),
    password: Type.String({ minLength: 1, maxLength: 8192, description: 'Refused above 4 KiB (UTF-8) before hashing' }),
    remember: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const LoginResponse = Type.Object({
  status: Type.Literal('completed'),
  user: UserSchema,
  session: Type.Object({
    id: Type.String(),
    token: Type.String({ description: 'Bearer token (also set as the dostup_session cookie)' }),
    expiresAt: Type.String({ format: 'date-time' }),
    remember: Type.Boolean(),
  }),
});

export const WhoamiResponse = Type.Object({
  user: UserSchema,
  realm: Type.String(),
  rights: Type.Array(Type.String()),
  session: Type.Object({
    id: Type.String(),
    expiresAt: Type.String({ format: 'date-time' }),
    remember: Type.Boolean(),
  }),
});

/** The whoami body. Cached per session lookup (session-body-cache.ts): only fields fixed for the entry's life. */
export function whoamiView({ user, session }: SessionWithUser): Static<typeof WhoamiResponse> {
  return {
    user: userView(user),
    realm: user.realm,
    rights: user.rights,
    session: { id: session.id, expiresAt: session.expiresAt.toISOString(), remember: session.remember },
  };
}

export const RealmParams = Type.Object({ realm: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }) });
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function userView(u: User) {
  return {
    id: u.id,
    realm: u.realm,
    login: u.login,
    email: u.email,
    emailVerified: u.emailVerified,
    phone: u.phone,
    phoneVerified: u.phoneVerified,
    birthDate: u.birthDate,
    locale: u.locale,
    status: u.status,
    rights: u.rights,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

export function sessionView(s: Session, currentId: string | null) {
  return {
    id: s.id,
    remember: s.remember,
    createdAt: s.createdAt.toISOString(),
    lastSeenAt: s.lastSeenAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
    current: s.id === currentId,
  };
}

export const errorResponses = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
