// The public JSON API: the same login flow the hosted pages use, rendered as JSON.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { DostupError } from '../../core/errors.ts';
import { type HttpDeps, localeOf, requestContext } from '../app.ts';
import { sendError } from '../plugins/errors.ts';
import { clearSessionCookie, readSessionToken, setSessionCookie, usesBearer } from '../plugins/session-cookie.ts';
import {
  errorResponses,
  IdParams,
  LoginBody,
  LoginResponse,
  RealmParams,
  SessionSchema,
  sessionView,
  userView,
  WhoamiResponse,
} from './schemas.ts';

export function registerApiRoutes(root: FastifyInstance, deps: HttpDeps) {
  const api = root.withTypeProvider<TypeBoxTypeProvider>();

  // CSRF for the JSON API: a state-changing call authenticated by the cookie must be JSON.
  // Browsers cannot send `application/json` cross-site without a CORS preflight, which we never
  // grant, so a forged form post or <img> can't act on a signed-in user's behalf.
  api.addHook('preValidation', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD' || usesBearer(req)) return;
    const type = req.headers['content-type'] ?? '';
    if (req.method === 'POST' && !type.startsWith('application/json')) throw new DostupError('UNSUPPORTED_MEDIA_TYPE');
    if (req.method === 'DELETE' && req.headers['sec-fetch-site'] === 'cross-site')
      throw new DostupError('CSRF_INVALID');
  });

  const authenticated = async (req: FastifyRequest) => {
    const found = await deps.sessions.authenticate(readSessionToken(req), () => undefined);
    if (!found) throw new DostupError('UNAUTHENTICATED');
    return found;
  };

  api.post(
    '/api/v1/realms/:realm/login',
    {
      schema: {
        tags: ['sign-in'],
        summary: 'Sign in with an identifier and a password (the login flow, password method)',
        description:
          'Wrong login and wrong password give the same 401 INVALID_CREDENTIALS. Sets the dostup_session cookie and returns the same token for bearer use.',
        params: RealmParams,
        body: LoginBody,
        response: { 200: LoginResponse, ...errorResponses(400, 401, 403, 404, 413, 415, 429) },
      },
    },
    async (req, reply) => {
      const realm = await deps.realms.require(req.params.realm);
      req.realmPolicy = realm;
      const ctx = requestContext(req, realm);
      const out = await deps.login.signInWithPassword(
        realm,
        { identifier: req.body.identifier, password: req.body.password, remember: req.body.remember ?? false },
        ctx,
      );
      if (out.kind !== 'completed') {
        if (out.kind === 'rejected') return sendError(reply, out.error, deps.catalog, ctx.locale);
        throw new DostupError('FLOW_STATE_INVALID');
      }
      const { user, session, token } = out.value;
      setSessionCookie(reply, realm, token, session);
      return {
        status: 'completed' as const,
        user: userView(user),
        session: { id: session.id, token, expiresAt: session.expiresAt.toISOString(), remember: session.remember },
      };
    },
  );

  api.get(
    '/api/v1/whoami',
    {
      schema: {
        tags: ['sessions'],
        summary: 'The signed-in user, realm and rights (cookie or bearer). The portal hot path.',
        security: [{ session: [] }, { bearer: [] }],
        response: { 200: WhoamiResponse, ...errorResponses(401) },
      },
    },
    async (req) => {
      const { user, session } = await authenticated(req);
      return {
        user: userView(user),
        realm: user.realm,
        rights: user.rights,
        session: { id: session.id, expiresAt: session.expiresAt.toISOString(), remember: session.remember },
      };
    },
  );

  api.post(
    '/api/v1/logout',
    {
      schema: {
        tags: ['sessions'],
        summary: 'End the current session',
        security: [{ session: [] }, { bearer: [] }],
        // No body or `{}`. (Type.Optional is a no-op on a top-level schema: it made the body required.)
        body: Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]),
        response: { 204: Type.Null(), ...errorResponses(401, 415) },
      },
    },
    async (req, reply) => {
      const ended = await deps.sessions.signOut(readSessionToken(req), requestContext(req));
      clearSessionCookie(reply);
      if (!ended) throw new DostupError('UNAUTHENTICATED');
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/api/v1/sessions',
    {
      schema: {
        tags: ['sessions'],
        summary: "The signed-in user's live sessions",
        security: [{ session: [] }, { bearer: [] }],
        response: { 200: Type.Object({ sessions: Type.Array(SessionSchema) }), ...errorResponses(401) },
      },
    },
    async (req) => {
      const { user, session } = await authenticated(req);
      const list = await deps.sessions.list(user.id);
      return { sessions: list.map((s) => sessionView(s, session.id)) };
    },
  );

  api.delete(
    '/api/v1/sessions/:id',
    {
      schema: {
        tags: ['sessions'],
        summary: 'End one of your sessions (e.g. on a lost device)',
        security: [{ session: [] }, { bearer: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const { user } = await authenticated(req);
      const ok = await deps.sessions.endSession(user, req.params.id, requestContext(req), 'api');
      if (!ok) return sendError(reply, new DostupError('SESSION_NOT_FOUND'), deps.catalog, localeOf(req));
      return reply.code(204).send(null);
    },
  );
}
