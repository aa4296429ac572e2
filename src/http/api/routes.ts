// The public JSON API: the same login flow the hosted pages use, rendered as JSON.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { DostupError } from '../../core/errors.ts';
import type { SessionWithUser } from '../../core/ports.ts';
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
  whoamiView,
} from './schemas.ts';
import { createSessionBodyCache } from './session-body-cache.ts';

/** The content type fastify gives a JSON body it serializes; set by hand when we send a string. */
const JSON_UTF8 = 'application/json; charset=utf-8';

export function registerApiRoutes(root: FastifyInstance, deps: HttpDeps) {
  const api = root.withTypeProvider<TypeBoxTypeProvider>();

  // CSRF for the JSON API: a state-changing call authenticated by the cookie must be JSON.
  // Browsers cannot send `application/json` cross-site without a CORS preflight, which we never
  // grant, so a forged form post or <img> can't act on a signed-in user's behalf.
  // (Takes `done` rather than being async: it runs on every API request, `whoami` included, and never waits.)
  api.addHook('preValidation', (req, _reply, done) => {
    if (req.method === 'GET' || req.method === 'HEAD' || usesBearer(req)) return done();
    const type = req.headers['content-type'] ?? '';
    if (req.method === 'POST' && !type.startsWith('application/json'))
      return done(new DostupError('UNSUPPORTED_MEDIA_TYPE'));
    if (req.method === 'DELETE' && req.headers['sec-fetch-site'] === 'cross-site')
      return done(new DostupError('CSRF_INVALID'));
    done();
  });

  const noPolicy = () => undefined;
  const authenticated = async (req: FastifyRequest) => {
    const found = await deps.sessions.authenticate(readSessionToken(req), noPolicy);
    if (!found) throw new DostupError('UNAUTHENTICATED');
    return found;
  };

  const whoamiBodies = createSessionBodyCache();
  const sendWhoami = (reply: FastifyReply, found: SessionWithUser | null) => {
    if (!found) throw new DostupError('UNAUTHENTICATED');
    // Serialized by this route's own response schema (fast-json-stringify: a string), once per
    // session-cache entry instead of on every request.
    const body = whoamiBodies.get(found, () => reply.serialize(whoamiView(found)) as string);
    return reply.type(JSON_UTF8).send(body);
  };
  // The session cache could not answer: the database decides (returning the reply, as fastify asks of
  // an async handler that sent it).
  const whoamiAfterLookup = async (reply: FastifyReply, token: string | undefined) =>
    sendWhoami(reply, await deps.sessions.authenticate(token, noPolicy));

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
    (req, reply) => {
      const token = readSessionToken(req);
      // Nearly every call is answered by the session cache: then no promise is made at all.
      // (A handler that calls reply.send and returns nothing is fastify's callback style.)
      const cached = deps.sessions.authenticateCached(token, noPolicy);
      if (cached !== undefined) {
        sendWhoami(reply, cached);
        return;
      }
      return whoamiAfterLookup(reply, token);
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
