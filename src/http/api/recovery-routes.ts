// Password recovery over JSON: the same flow the hosted pages drive, for portals that draw their own
// pages and for mobile apps. API flows are not bound to a browser: the flow id is the handle.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { DostupError } from '../../core/errors.ts';
import type { CodeSource } from '../../core/flows/recovery/reset-service.ts';
import { type HttpDeps, requestContext } from '../app.ts';
import { errorResponses, RealmParams } from './schemas.ts';

const Ident = {
  identifier: Type.Optional(
    Type.String({ maxLength: 320, description: 'login / e-mail, as the realm identifies (recovery.identifyBy)' }),
  ),
  login: Type.Optional(
    Type.String({ maxLength: 320, description: 'with `email`, for identifyBy=login-and-email (S2.2)' }),
  ),
  email: Type.Optional(Type.String({ maxLength: 320 })),
};
const View = Type.Object({
  flowId: Type.String({ format: 'uuid' }),
  state: Type.String({ description: 'requested | code_sent | completed | failed' }),
  resendInSeconds: Type.Integer(),
});
const FlowParams = Type.Object({ realm: RealmParams.properties.realm, flowId: Type.String({ format: 'uuid' }) });

export function registerRecoveryApi(root: FastifyInstance, deps: HttpDeps) {
  const api = root.withTypeProvider<TypeBoxTypeProvider>();
  // As for the rest of the JSON API (routes.ts): a body must be JSON, so a cross-site HTML form (which
  // cannot send application/json without a CORS preflight) can't drive these endpoints. A bodiless
  // POST (resend) carries no content type and stays allowed.
  api.addHook('preValidation', async (req) => {
    const type = req.headers['content-type'];
    if (req.method === 'POST' && type !== undefined && !type.startsWith('application/json'))
      throw new DostupError('UNSUPPORTED_MEDIA_TYPE');
  });

  api.post(
    '/api/v1/realms/:realm/recovery',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Start password recovery: a code and a link are mailed if the account may reset its password',
        description:
          'The answer is the same whether or not the account exists (unless the realm opted in to reveal it).',
        params: RealmParams,
        body: Type.Object(Ident, { additionalProperties: false }),
        response: { 202: View, ...errorResponses(400, 404, 413, 415, 429) },
      },
    },
    async (req, reply) => {
      const realm = await deps.realms.require(req.params.realm);
      req.realmPolicy = realm;
      return reply.code(202).send(await deps.recovery.request(realm, req.body, requestContext(req, realm), null));
    },
  );

  api.get(
    '/api/v1/realms/:realm/recovery/:flowId',
    {
      schema: {
        tags: ['recovery'],
        summary: 'State of a recovery flow',
        params: FlowParams,
        response: { 200: View, ...errorResponses(400, 404, 410) },
      },
    },
    async (req) => {
      const realm = await deps.realms.require(req.params.realm);
      req.realmPolicy = realm;
      return deps.recovery.show(realm, req.params.flowId, null);
    },
  );

  api.post(
    '/api/v1/realms/:realm/recovery/:flowId/resend',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Send the mail again (after the cool-down); older codes stop working',
        params: FlowParams,
        body: Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]),
        response: { 202: View, ...errorResponses(400, 404, 409, 410, 415, 429) },
      },
    },
    async (req, reply) => {
      const realm = await deps.realms.require(req.params.realm);
      req.realmPolicy = realm;
      return reply
        .code(202)
        .send(await deps.recovery.resend(realm, req.params.flowId, requestContext(req, realm), null));
    },
  );

  api.post(
    '/api/v1/realms/:realm/recovery/complete',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Set a new password with the mailed code',
        description:
          'Give the code with one of: `secretId` (from the mailed link, parameter `s`), `flowId` (the flow that asked), or the identifier(s) (typed on another device). Ends every session of the user.',
        params: RealmParams,
        body: Type.Object(
          {
            secretId: Type.Optional(Type.String({ format: 'uuid' })),
            flowId: Type.Optional(Type.String({ format: 'uuid' })),
            ...Ident,
            code: Type.String({ minLength: 1, maxLength: 100 }),
            password: Type.String({ minLength: 1, maxLength: 8192 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ status: Type.Literal('completed') }),
          ...errorResponses(400, 404, 409, 410, 413, 415, 422, 429),
        },
      },
    },
    async (req) => {
      const realm = await deps.realms.require(req.params.realm);
      req.realmPolicy = realm;
      const b = req.body;
      const source: CodeSource = b.secretId
        ? { link: { secretId: b.secretId } }
        : b.flowId
          ? { flow: { flowId: b.flowId, binding: null } }
          : { typed: { identifier: b.identifier, login: b.login, email: b.email } };
      await deps.reset.complete(
        realm,
        { source, code: b.code, password: b.password, confirm: b.password },
        requestContext(req, realm),
      );
      return { status: 'completed' as const };
    },
  );
}
