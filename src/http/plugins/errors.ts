// One place turns every failure into a response: a DostupError keeps its code and status; fastify's
// own errors (schema validation, body too large, bad JSON, wrong content type) are mapped to our
// codes; anything else is logged and shown as INTERNAL without detail — never a stack trace.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DostupError, type ErrorCode, type FieldIssue } from '../../core/errors.ts';
import type { Catalog } from '../../core/i18n/catalog.ts';
import type { Locale } from '../../core/model.ts';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  FST_CSRF_INVALID_TOKEN: 'CSRF_INVALID',
  FST_CSRF_MISSING_SECRET: 'CSRF_INVALID',
  FST_ERR_BAD_URL: 'NOT_FOUND',
  FST_ERR_ASYNC_CONSTRAINT: 'VALIDATION_FAILED',
};

/** Map anything thrown to a DostupError the client may see. */
export function toDostupError(err: unknown): DostupError {
  if (err instanceof DostupError) return err;
  const fe = err as FastifyError & {
    validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
  };
  if (fe?.validation) {
    const issues: FieldIssue[] = fe.validation.map((v) => {
      const missing = v.params?.missingProperty as string | undefined;
      const extra = v.params?.additionalProperty as string | undefined;
      const path = `${v.instancePath ?? ''}${missing ? `/${missing}` : ''}${extra ? `/${extra}` : ''}` || '/';
      return { path, messageId: 'error.field_invalid', detail: v.message ?? 'invalid' };
    });
    return new DostupError('VALIDATION_FAILED', { issues });
  }
  const mapped = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new DostupError(mapped, { message: fe.message });
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new DostupError(
      fe.statusCode === 404 ? 'NOT_FOUND' : fe.statusCode === 413 ? 'BODY_TOO_LARGE' : 'VALIDATION_FAILED',
      {
        message: fe.message,
      },
    );
  }
  return new DostupError('INTERNAL', { cause: err });
}

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    issues?: { path: string; message: string }[];
  };
}

export function errorBody(e: DostupError, catalog: Catalog, locale: Locale): ErrorBody {
  const body: ErrorBody = { error: { code: e.code, message: catalog.t(locale, e.messageId, e.params) } };
  if (e.issues.length > 0) {
    body.error.issues = e.issues.map((i) => ({
      path: i.path,
      message:
        i.messageId === 'error.field_invalid' && i.detail
          ? `${catalog.t(locale, i.messageId)} (${i.detail})`
          : catalog.t(locale, i.messageId, i.params),
    }));
  }
  return body;
}

export function sendError(reply: FastifyReply, e: DostupError, catalog: Catalog, locale: Locale) {
  if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
  return reply
    .code(e.status)
    .type('application/json; charset=utf-8')
    .send(errorBody(e, catalog, locale));
}

/**
 * Installs the error and not-found handlers. `renderHtml` draws the page version for browsers
 * (hosted pages); JSON otherwise.
 */
export function installErrorHandling(
  app: FastifyInstance,
  opts: {
    catalog: Catalog;
    localeOf: (req: FastifyRequest) => Locale;
    renderHtml: (req: FastifyRequest, reply: FastifyReply, e: DostupError) => unknown;
  },
) {
  const wantsHtml = (req: FastifyRequest) => req.url.startsWith('/r/') || req.url === '/';
  const handle = (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const e = toDostupError(err);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.debug({ code: e.code }, 'request rejected');
    if (wantsHtml(req)) return opts.renderHtml(req, reply, e);
    return sendError(reply, e, opts.catalog, opts.localeOf(req));
  };
  app.setErrorHandler(handle);
  app.setNotFoundHandler((req, reply) => {
    const e = new DostupError('NOT_FOUND');
    if (wantsHtml(req)) return opts.renderHtml(req, reply, e);
    return sendError(reply, e, opts.catalog, opts.localeOf(req));
  });
  return handle;
}

/**
 * Errors the router raises before any route or hook runs (a broken %-escape, an over-long path
 * parameter). Hooks don't run for them, so the headers our hooks would add are set here, and the
 * body comes from our handler — never fastify's default, which echoes the path.
 */
export function frameworkErrorHandler(
  getHandler: () => ((err: unknown, req: FastifyRequest, reply: FastifyReply) => unknown) | null,
) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer');
    const h = getHandler();
    if (h) return h(err, req, reply);
    return reply.code(400).send({ error: { code: 'VALIDATION_FAILED', message: 'Bad request' } });
  };
}
