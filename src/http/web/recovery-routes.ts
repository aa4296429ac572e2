// Hosted pages of password recovery (S1.2–S1.5, S2.2–S2.5, S4.1–S4.4, S5.4):
//   GET/POST /r/:realm/forgot           identify → "mail sent" page
//   GET      /r/:realm/recover/:flow    "mail sent" (green notice, advice, the code form, send again)
//   POST     /r/:realm/recover/:flow/resend
//   GET      /r/:realm/reset            the mailed link (or "I have a code"): shows the form, consumes nothing
//   POST     /r/:realm/reset            code + new password → sign-in page with a notice
// Flows are bound to the browser's CSRF secret; the link is not (it may be opened on another device).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { DostupError } from '../../core/errors.ts';
import { csrfBinding } from '../../core/flows/engine.ts';
import { identifyFields } from '../../core/flows/recovery/identify.ts';
import type { CodeSource } from '../../core/flows/recovery/reset-service.ts';
import { passwordHints } from '../../core/password/policy.ts';
import type { RealmPolicy } from '../../core/realm/policy-schema.ts';
import { type HttpDeps, localeOf, requestContext } from '../app.ts';
import { chromeFor } from './routes.ts';
import { messagePage } from './views/message-page.ts';
import { type ResetFormModel, recoveryRequestPage, recoverySentPage, resetPage } from './views/recovery-pages.ts';

const Realm = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const Uuid = Type.String({ format: 'uuid' });
const Str = (max: number) => Type.Optional(Type.String({ maxLength: max }));
const ForgotForm = Type.Object(
  { _csrf: Str(200), identifier: Str(320), login: Str(320), email: Str(320) },
  { additionalProperties: false },
);
const ResetForm = Type.Object(
  {
    _csrf: Str(200),
    s: Type.Optional(Uuid),
    flow: Type.Optional(Uuid),
    identifier: Str(320),
    login: Str(320),
    email: Str(320),
    code: Type.String({ maxLength: 100 }),
    password: Type.String({ maxLength: 8192 }),
    confirm: Type.String({ maxLength: 8192 }),
  },
  { additionalProperties: false },
);

export function registerRecoveryRoutes(root: FastifyInstance, deps: HttpDeps) {
  const web = root.withTypeProvider<TypeBoxTypeProvider>();
  const { recovery, reset } = deps;

  const realmOf = async (req: FastifyRequest, name: string) => {
    const realm = await deps.realms.require(name);
    req.realmPolicy = realm;
    if (!realm.recovery.enabled) throw new DostupError('RECOVERY_DISABLED');
    return realm;
  };
  // The browser's CSRF secret (cookie) is what a flow is bound to. Read it; create it if missing.
  const binding = (req: FastifyRequest) => csrfBinding(req.cookies?.dostup_csrf ?? null);
  const page = (reply: FastifyReply, status: number, body: { value: string }) =>
    reply.code(status).type('text/html; charset=utf-8').send(body.value);
  const t = (req: FastifyRequest, realm: RealmPolicy, id: string, params?: Record<string, string | number>) =>
    deps.catalog.t(localeOf(req, realm), id, params);
  const identifierLabel = (realm: RealmPolicy) =>
    ({
      login: 'page.identifier_login',
      email: 'page.identifier_email',
      'login-or-email': 'page.identifier_login_or_email',
      'login-and-email': 'page.identifier_login',
    })[realm.recovery.identifyBy];
  const errorView = (req: FastifyRequest, realm: RealmPolicy, e: DostupError) => {
    const first = e.issues[0];
    const field = first?.path.slice(1) as never;
    // A general summary ("this password does not fit") lists the issues under it; an issue that IS the
    // summary (S1.4 "account does not exist", a wrong code) is not repeated as a list of one.
    const general = e.code === 'PASSWORD_REJECTED' || e.code === 'VALIDATION_FAILED';
    return {
      message: t(req, realm, general ? e.messageId : (first?.messageId ?? e.messageId), e.params),
      ...(first && field ? { field } : {}),
      ...(e.issues.length > 0 && general ? { details: e.issues.map((i) => t(req, realm, i.messageId, i.params)) } : {}),
    };
  };

  const resetForm = (
    req: FastifyRequest,
    reply: FastifyReply,
    realm: RealmPolicy,
    opts: Partial<ResetFormModel>,
  ): ResetFormModel => {
    const locale = localeOf(req, realm);
    const fmt = realm.recovery.code.format;
    return {
      action: `/r/${realm.name}/reset`,
      csrfToken: reply.generateCsrf(),
      hidden: {},
      identifierFields: [],
      values: {},
      codeLabel: t(req, realm, `recovery.code_label_${fmt.replace('-', '_')}`),
      ...(fmt !== 'uuid'
        ? {
            codeHint: t(req, realm, `recovery.code_hint_${fmt.replace('-', '_')}`, {
              count: realm.recovery.code.length,
            }),
          }
        : {}),
      codeInputMode: fmt === 'digits' ? 'numeric' : 'text',
      hints: passwordHints(realm.password).map((h) =>
        h.text ? (h.text[locale] ?? h.text.ru ?? h.text.en ?? '') : deps.catalog.t(locale, h.messageId, h.params),
      ),
      ...opts,
    };
  };

  const renderForgot = (
    req: FastifyRequest,
    reply: FastifyReply,
    realm: RealmPolicy,
    status: number,
    values = {},
    error?: DostupError,
  ) => {
    const chrome = chromeFor(deps, req, realm, 'recovery.request_title', localeOf(req, realm));
    if (error?.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
    return page(
      reply,
      status,
      recoveryRequestPage({
        chrome,
        action: `/r/${realm.name}/forgot`,
        csrfToken: reply.generateCsrf(),
        fields: identifyFields(realm),
        identifierLabel: t(req, realm, identifierLabel(realm)),
        intro: t(req, realm, `recovery.intro_${realm.recovery.identifyBy.replaceAll('-', '_')}`),
        values,
        ...(error ? { error: errorView(req, realm, error) } : {}),
        backHref: `/r/${realm.name}/login`,
        codeHref: `/r/${realm.name}/reset`,
      }),
    );
  };

  web.get('/r/:realm/forgot', { schema: { params: Type.Object({ realm: Realm }) } }, async (req, reply) => {
    const realm = await realmOf(req, req.params.realm);
    return renderForgot(req, reply, realm, 200);
  });

  web.post(
    '/r/:realm/forgot',
    { schema: { params: Type.Object({ realm: Realm }), body: ForgotForm }, preHandler: web.csrfProtection },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      const { _csrf, ...values } = req.body;
      try {
        const v = await recovery.request(realm, values, requestContext(req, realm), binding(req));
        return reply.redirect(`/r/${realm.name}/recover/${v.flowId}`, 303);
      } catch (e) {
        if (!(e instanceof DostupError) || e.status >= 500) throw e;
        return renderForgot(req, reply, realm, e.status, values, e);
      }
    },
  );

  const renderSent = async (
    req: FastifyRequest,
    reply: FastifyReply,
    realm: RealmPolicy,
    flowId: string,
    status = 200,
    extra: {
      error?: DostupError;
      resendNotice?: { kind: 'success' | 'info' | 'error'; message: string };
      code?: string;
    } = {},
  ) => {
    const v = await recovery.show(realm, flowId, binding(req));
    if (v.state === 'completed') return reply.redirect(`/r/${realm.name}/login?notice=password_changed`, 303);
    if (v.state === 'failed') throw new DostupError('CODE_EXHAUSTED');
    const locale = localeOf(req, realm);
    const chrome = chromeFor(deps, req, realm, 'recovery.sent_title', locale);
    // The footer already shows branding.supportText; the advice here is the realm's own or the default (S1.5).
    const advice = realm.recovery.sentAdvice?.[locale] ?? t(req, realm, 'recovery.default_advice');
    return page(
      reply,
      status,
      recoverySentPage({
        chrome,
        csrfToken: reply.generateCsrf(),
        notice: t(req, realm, 'recovery.sent_notice'),
        advice,
        resendAction: `/r/${realm.name}/recover/${flowId}/resend`,
        resendInSeconds: v.resendInSeconds,
        ...(extra.resendNotice ? { resendNotice: extra.resendNotice } : {}),
        form: resetForm(req, reply, realm, {
          hidden: { flow: flowId },
          values: { code: extra.code ?? '' },
          ...(extra.error ? { error: errorView(req, realm, extra.error) } : {}),
        }),
        backHref: `/r/${realm.name}/login`,
      }),
    );
  };

  web.get(
    '/r/:realm/recover/:flow',
    { schema: { params: Type.Object({ realm: Realm, flow: Uuid }) } },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      return renderSent(req, reply, realm, req.params.flow);
    },
  );

  web.post(
    '/r/:realm/recover/:flow/resend',
    {
      schema: {
        params: Type.Object({ realm: Realm, flow: Uuid }),
        body: Type.Object({ _csrf: Str(200) }, { additionalProperties: false }),
      },
      preHandler: web.csrfProtection,
    },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      try {
        await recovery.resend(realm, req.params.flow, requestContext(req, realm), binding(req));
        return renderSent(req, reply, realm, req.params.flow, 200, {
          resendNotice: { kind: 'success', message: t(req, realm, 'recovery.resend_done') },
        });
      } catch (e) {
        if (!(e instanceof DostupError) || (e.code !== 'RESEND_TOO_SOON' && e.code !== 'RATE_LIMITED')) throw e;
        reply.header('retry-after', String(e.retryAfter ?? 60));
        const message = t(req, realm, 'recovery.resend_wait', { count: e.retryAfter ?? 60 });
        return renderSent(req, reply, realm, req.params.flow, 429, { resendNotice: { kind: 'error', message } });
      }
    },
  );

  web.get(
    '/r/:realm/reset',
    {
      schema: {
        params: Type.Object({ realm: Realm }),
        querystring: Type.Object({ s: Type.Optional(Uuid), code: Str(100) }),
      },
    },
    async (req, reply) => {
      // Showing the form is all a GET does: a scanner following the link changes nothing (the
      // liveness check below reads, it neither compares the code nor counts a try).
      const realm = await realmOf(req, req.params.realm);
      if (req.query.s && !(await recovery.linkUsable(realm, req.query.s))) {
        const chrome = chromeFor(deps, req, realm, 'recovery.link_dead_title', localeOf(req, realm));
        return page(
          reply,
          410,
          messagePage({
            chrome,
            heading: chrome.t('recovery.link_dead_title'),
            message: chrome.t('recovery.link_dead_text'),
            kind: 'info',
            links: [
              { href: `/r/${realm.name}/forgot`, label: chrome.t('recovery.request_new') },
              { href: `/r/${realm.name}/login`, label: chrome.t('page.back_to_signin') },
            ],
          }),
        );
      }
      return renderReset(req, reply, realm, 200, { s: req.query.s, code: req.query.code });
    },
  );

  const renderReset = (
    req: FastifyRequest,
    reply: FastifyReply,
    realm: RealmPolicy,
    status: number,
    v: { s?: string | undefined; code?: string | undefined; identifier?: string; login?: string; email?: string },
    error?: DostupError,
  ) => {
    const chrome = chromeFor(deps, req, realm, 'recovery.reset_title', localeOf(req, realm));
    const viaLink = !!v.s;
    return page(
      reply,
      status,
      resetPage({
        chrome,
        form: resetForm(req, reply, realm, {
          hidden: viaLink ? { s: v.s! } : {},
          identifierFields: viaLink ? [] : identifyFields(realm),
          identifierLabel: t(req, realm, identifierLabel(realm)),
          values: { code: v.code ?? '', identifier: v.identifier ?? '', login: v.login ?? '', email: v.email ?? '' },
          ...(error ? { error: errorView(req, realm, error) } : {}),
        }),
        backHref: `/r/${realm.name}/login`,
      }),
    );
  };

  web.post(
    '/r/:realm/reset',
    { schema: { params: Type.Object({ realm: Realm }), body: ResetForm }, preHandler: web.csrfProtection },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      const b = req.body;
      const source: CodeSource = b.s
        ? { link: { secretId: b.s } }
        : b.flow
          ? { flow: { flowId: b.flow, binding: binding(req) } }
          : { typed: { identifier: b.identifier, login: b.login, email: b.email } };
      try {
        await reset.complete(
          realm,
          { source, code: b.code, password: b.password, confirm: b.confirm },
          requestContext(req, realm),
        );
        return reply.redirect(`/r/${realm.name}/login?notice=password_changed`, 303);
      } catch (e) {
        if (!(e instanceof DostupError) || e.status >= 500) throw e;
        if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
        if (b.flow && !b.s) return renderSent(req, reply, realm, b.flow, e.status, { error: e, code: b.code });
        const { identifier, login, email } = b;
        return renderReset(
          req,
          reply,
          realm,
          e.status,
          {
            s: b.s,
            code: b.code,
            ...(identifier ? { identifier } : {}),
            ...(login ? { login } : {}),
            ...(email ? { email } : {}),
          },
          e,
        );
      }
    },
  );
}
