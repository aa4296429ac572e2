// The admin API: realms, users and the event log, behind the admin bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { DostupError } from '../../core/errors.ts';
import type { EventKind } from '../../core/model.ts';
import { realmPolicyJsonSchema, validateRealmPolicy } from '../../core/realm/policy.ts';
import { errorResponses, IdParams, RealmParams, UserSchema, userView } from '../api/schemas.ts';
import { type HttpDeps, requestContext } from '../app.ts';

const NewUserBody = Type.Object(
  {
    login: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    email: Type.Optional(Type.Union([Type.String({ maxLength: 320 }), Type.Null()])),
    emailVerified: Type.Optional(Type.Boolean()),
    phone: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
    phoneVerified: Type.Optional(Type.Boolean()),
    birthDate: Type.Optional(Type.Union([Type.String({ maxLength: 10 }), Type.Null()])),
    locale: Type.Optional(Type.Union([Type.Literal('ru'), Type.Literal('en'), Type.Null()])),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('locked'), Type.Literal('disabled')])),
    rights: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })),
    password: Type.Optional(Type.Union([Type.String({ maxLength: 8192 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const Paging = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  },
  { additionalProperties: false },
);

const EventsQuery = Type.Object(
  {
    realm: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),
    user: Type.Optional(Type.String({ format: 'uuid' })),
    kind: Type.Optional(Type.String({ pattern: '^[a-z_.]{1,40}$' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    before: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$' })),
  },
  { additionalProperties: false },
);

const RealmRecordSchema = Type.Object({
  name: Type.String(),
  policy: Type.Unknown(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const clampLimit = (s: string | undefined, dflt: number) => Math.min(500, Math.max(1, s ? Number(s) : dflt));

export function registerAdminRoutes(root: FastifyInstance, deps: HttpDeps) {
  const admin = root.withTypeProvider<TypeBoxTypeProvider>();
  const security = [{ admin: [] }];

  admin.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/v1/admin/')) return;
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    // Compare hashes in constant time: equal length whatever was sent, and no early exit.
    const ok = given.length > 0 && timingSafeEqual(createHash('sha256').update(given).digest(), deps.adminTokenHash);
    if (!ok) throw new DostupError('ADMIN_TOKEN_INVALID');
  });
  const actor = (req: Parameters<typeof requestContext>[0]) => ({ ...requestContext(req), via: 'admin-api' });

  admin.get(
    '/api/realm-policy.schema.json',
    { schema: { tags: ['realms'], summary: 'JSON Schema of realm policy files' } },
    async () => realmPolicyJsonSchema(),
  );

  admin.get(
    '/api/v1/admin/realms',
    {
      schema: {
        tags: ['admin'],
        security,
        response: { 200: Type.Object({ realms: Type.Array(RealmRecordSchema) }), ...errorResponses(401) },
      },
    },
    async () => ({
      realms: (await deps.realms.list()).map((r) => ({
        ...r,
        createdAt: r.createdAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
      })),
    }),
  );

  admin.get(
    '/api/v1/admin/realms/:realm',
    {
      schema: {
        tags: ['admin'],
        security,
        params: RealmParams,
        response: { 200: RealmRecordSchema, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      const rec = await deps.store.realms.get(req.params.realm);
      if (!rec) throw new DostupError('REALM_NOT_FOUND');
      return { ...rec, createdAt: rec.createdAt.toISOString(), updatedAt: rec.updatedAt.toISOString() };
    },
  );

  admin.put(
    '/api/v1/admin/realms/:realm',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create or replace a realm policy (validated; errors name the field path)',
        security,
        params: RealmParams,
        body: Type.Object({}, { additionalProperties: true }),
        response: { 200: RealmRecordSchema, ...errorResponses(400, 401) },
      },
    },
    async (req) => {
      const policy = validateRealmPolicy(req.body, `realm ${req.params.realm}`);
      if (policy.name !== req.params.realm) {
        throw new DostupError('REALM_POLICY_INVALID', {
          issues: [{ path: '/name', messageId: 'realm.name_mismatch' }],
        });
      }
      const rec = await deps.realms.apply(policy, actor(req));
      return { ...rec, createdAt: rec.createdAt.toISOString(), updatedAt: rec.updatedAt.toISOString() };
    },
  );

  admin.post(
    '/api/v1/admin/realms/:realm/users',
    {
      schema: {
        tags: ['admin'],
        summary: 'Add a user (password checked against the realm policy)',
        security,
        params: RealmParams,
        body: NewUserBody,
        response: { 201: UserSchema, ...errorResponses(400, 401, 404, 409, 413, 422) },
      },
    },
    async (req, reply) => {
      const realm = await deps.realms.require(req.params.realm);
      req.realmPolicy = realm;
      const user = await deps.users.create(realm, req.body, actor(req));
      return reply.code(201).send(userView(user));
    },
  );

  admin.get(
    '/api/v1/admin/realms/:realm/users',
    {
      schema: {
        tags: ['admin'],
        security,
        params: RealmParams,
        querystring: Paging,
        response: {
          200: Type.Object({ users: Type.Array(UserSchema), total: Type.Integer() }),
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (req) => {
      await deps.realms.require(req.params.realm);
      const limit = clampLimit(req.query.limit, 50);
      const [users, total] = await Promise.all([
        deps.users.list(req.params.realm, limit, Number(req.query.offset ?? 0)),
        deps.users.count(req.params.realm),
      ]);
      return { users: users.map(userView), total };
    },
  );

  admin.get(
    '/api/v1/admin/realms/:realm/users/:id',
    {
      schema: {
        tags: ['admin'],
        security,
        params: Type.Intersect([RealmParams, IdParams]),
        response: { 200: UserSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (req) => {
      const user = await deps.users.get(req.params.realm, req.params.id);
      if (!user) throw new DostupError('USER_NOT_FOUND');
      return userView(user);
    },
  );

  admin.get(
    '/api/v1/admin/events',
    {
      schema: {
        tags: ['admin'],
        summary: 'The event log, newest first (keyset paging with `before`)',
        security,
        querystring: EventsQuery,
        response: {
          200: Type.Object({
            events: Type.Array(
              Type.Object({
                id: Type.String(),
                at: Type.String(),
                realm: Type.Union([Type.String(), Type.Null()]),
                kind: Type.String(),
                userId: Type.Union([Type.String(), Type.Null()]),
                ip: Type.Union([Type.String(), Type.Null()]),
                userAgent: Type.Union([Type.String(), Type.Null()]),
                data: Type.Record(Type.String(), Type.Unknown()),
              }),
            ),
          }),
          ...errorResponses(400, 401),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const events = await deps.store.events.list({
        limit: clampLimit(q.limit, 100),
        ...(q.realm ? { realm: q.realm } : {}),
        ...(q.user ? { userId: q.user } : {}),
        ...(q.kind ? { kind: q.kind as EventKind } : {}),
        ...(q.before ? { before: q.before } : {}),
      });
      return { events: events.map((e) => ({ ...e, at: e.at.toISOString() })) };
    },
  );
}
