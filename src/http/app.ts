// The HTTP adapter: fastify with our plugins, the JSON API, the admin API and the hosted pages.
// Thin by design — routes validate input with their schema, call a core service and render its
// outcome; no business rule lives here.
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { LoginService } from '../core/flows/login/login-service.ts';
import type { RecoveryService } from '../core/flows/recovery/recovery-service.ts';
import type { ResetService } from '../core/flows/recovery/reset-service.ts';
import type { Catalog } from '../core/i18n/catalog.ts';
import { negotiateLocale } from '../core/i18n/negotiate.ts';
import type { Locale, RequestContext } from '../core/model.ts';
import type { Store } from '../core/ports.ts';
import type { RealmPolicy } from '../core/realm/policy-schema.ts';
import type { RealmService } from '../core/realm/realm-service.ts';
import type { SessionService } from '../core/sessions/session-service.ts';
import type { UserService } from '../core/users/user-service.ts';
import { devMailboxReader } from '../delivery/dev-mailbox.ts';
import { registerAdminRoutes } from './admin/routes.ts';
import { registerRecoveryApi } from './api/recovery-routes.ts';
import { registerApiRoutes } from './api/routes.ts';
import { registerDevMailboxRoutes } from './dev/mailbox-routes.ts';
import { frameworkErrorHandler, installErrorHandling } from './plugins/errors.ts';
import { createWriteCoalescer } from './plugins/write-coalescer.ts';
import { registerRecoveryRoutes } from './web/recovery-routes.ts';
import { registerWebRoutes, renderErrorPage } from './web/routes.ts';

export interface HttpDeps {
  config: Config;
  store: Store;
  realms: RealmService;
  users: UserService;
  login: LoginService;
  sessions: SessionService;
  recovery: RecoveryService;
  reset: ResetService;
  catalog: Catalog;
  /** SHA-256 of the admin API token. */
  adminTokenHash: Buffer;
  logger: Logger;
  /** Told of every request (the idle collector): must be cheap and synchronous. */
  onRequest?: () => void;
}

export const LANG_COOKIE = 'dostup_lang';
export const SESSION_COOKIE = 'dostup_session';
/** Request bodies above this are refused before parsing (413 BODY_TOO_LARGE). */
export const BODY_LIMIT = 64 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** The realm this request is about, once a route resolved it. */
    realmPolicy?: RealmPolicy;
  }
}

export function localeOf(req: FastifyRequest, realm?: RealmPolicy, userLocale?: Locale | null): Locale {
  return negotiateLocale({
    userLocale: userLocale ?? null,
    cookie: req.cookies?.[LANG_COOKIE] ?? null,
    acceptLanguage: req.headers['accept-language'] ?? null,
    realmDefault: realm?.locales.default ?? 'ru',
    available: realm?.locales.available ?? ['ru', 'en'],
  });
}

export function requestContext(req: FastifyRequest, realm?: RealmPolicy, userLocale?: Locale | null): RequestContext {
  const ua = req.headers['user-agent'];
  return {
    ip: req.ip ?? null,
    userAgent: typeof ua === 'string' ? ua.slice(0, 400) : null,
    locale: localeOf(req, realm, userLocale),
  };
}

/**
 * The JSON API's headers (OWASP REST Security Cheat Sheet): a JSON answer is never a document, so
 * the document-only headers of the pages (COOP, origin-agent-cluster, x-dns-prefetch-control, …)
 * mean nothing on it, and its CSP can forbid everything. Fewer headers is less work on the hottest
 * path (`whoami`).
 */
export function apiSecurityHeaders(https: boolean): Record<string, string> {
  return {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    ...(https ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/** What helmet would send with our settings, as one fixed object (pages, and everything not under /api/v1/). */
export function staticSecurityHeaders(https: boolean): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https: data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    "font-src 'self'",
    "script-src-attr 'none'",
  ].join(';');
  return {
    'content-security-policy': csp,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
    // Pages are served over http on localhost during development; HSTS only with an https public URL.
    ...(https ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  let errorHandler: ReturnType<typeof installErrorHandling> | null = null;
  const app = Fastify({
    frameworkErrors: frameworkErrorHandler(() => errorHandler),
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    trustProxy: deps.config.TRUST_PROXY,
    // Never let a client choose a request id: it ends up in logs.
    genReqId: () => crypto.randomUUID(),
    logController: new LogController({
      disableRequestLogging: deps.config.LOG_LEVEL !== 'debug' && deps.config.LOG_LEVEL !== 'trace',
    }),
    routerOptions: { maxParamLength: 200 },
    ajv: {
      // No type coercion: `"password": 123` is a 400, not the string "123". No silent removal of
      // unknown fields either: they are refused, so a typo in a field name is visible.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'dostup_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto', signed: false },
    getToken: (req) => (req.body as Record<string, string> | undefined)?._csrf,
  });
  // Security headers: the same for every response, so they are computed once here instead of per
  // request (@fastify/helmet rebuilds its middleware on every request: ~11 % of a whoami). A route
  // that needs another policy (the dev mailbox preview, the API docs) sets its own header, which wins.
  // Both hooks run on every request, so they take `done` instead of being async: an async hook costs
  // promises and microtask turns per request for work that never waits.
  const https = deps.config.DOSTUP_PUBLIC_URL?.startsWith('https://') ?? false;
  const pageHeaders = staticSecurityHeaders(https);
  const apiHeaders = apiSecurityHeaders(https);
  const onRequest = deps.onRequest ?? (() => {});
  app.addHook('onRequest', (req, reply, done) => {
    onRequest();
    reply.headers(req.url.startsWith('/api/v1/') ? apiHeaders : pageHeaders);
    done();
  });
  // Responses are written at the end of the event-loop turn they were finished in, all together
  // (plugins/write-coalescer.ts: fewer wake-ups of the clients, the largest cost of `whoami`).
  const writes = createWriteCoalescer((e) => deps.logger.error({ err: e }, 'http: a deferred response write failed'));
  app.addHook('onSend', (_req, reply, payload, done) => {
    // Nothing we answer may be cached by a shared cache: pages carry CSRF tokens, the API personal data.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    writes.defer(() => done(null, payload));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Dostup API', version: '0.1.0', description: 'Sign-in, sessions and administration.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          bearer: { type: 'http', scheme: 'bearer' },
          admin: { type: 'http', scheme: 'bearer', description: 'Admin API token' },
        },
      },
    },
    hideUntagged: true,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  errorHandler = installErrorHandling(app, {
    catalog: deps.catalog,
    localeOf: (req) => localeOf(req, req.realmPolicy),
    renderHtml: (req, reply, e) => renderErrorPage(deps, req, reply, e),
  });

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await deps.store.ping();
      return { status: 'ready', database: deps.store.driver };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  await app.register(async (api) => registerApiRoutes(api, deps));
  await app.register(async (admin) => registerAdminRoutes(admin, deps));
  await app.register(async (api) => registerRecoveryApi(api, deps));
  await app.register(async (web) => registerWebRoutes(web, deps));
  await app.register(async (web) => registerRecoveryRoutes(web, deps));
  // The dev mailbox shows codes in clear text: only when no real mail server is configured.
  if (!deps.config.SMTP_URL)
    await app.register(async (dev) =>
      registerDevMailboxRoutes(dev, { mailbox: devMailboxReader(deps.store.devMailbox, deps.catalog) }),
    );
  return app;
}
