// The hosted pages: the same login flow as the JSON API, rendered as HTML forms that work without
// JavaScript. Every POST carries a CSRF token (double-submit cookie, checked in preHandler after
// the body is parsed); every redirect target is a path on this realm, never a URL from the request.
import { existsSync, readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { DostupError } from '../../core/errors.ts';
import type { Locale, User } from '../../core/model.ts';
import { realmTitle } from '../../core/realm/policy.ts';
import type { RealmPolicy } from '../../core/realm/policy-schema.ts';
import { type HttpDeps, LANG_COOKIE, localeOf, requestContext } from '../app.ts';
import { clearSessionCookie, readSessionToken, setSessionCookie } from '../plugins/session-cookie.ts';
import { accountPage } from './views/account-page.ts';
import type { PageChrome } from './views/layout.ts';
import { loginPage } from './views/login-page.ts';
import { messagePage } from './views/message-page.ts';

const CSS = readFileSync(new URL('../../../public/dostup.css', import.meta.url), 'utf8');
const jsFile = new URL('../../../public/dostup.js', import.meta.url);
const JS = existsSync(jsFile) ? readFileSync(jsFile, 'utf8') : '';
const RealmParams = Type.Object({ realm: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }) });

const LoginForm = Type.Object(
  {
    _csrf: Type.Optional(Type.String({ maxLength: 200 })),
    identifier: Type.String({ maxLength: 320 }),
    password: Type.String({ maxLength: 8192 }),
    remember: Type.Optional(Type.String({ maxLength: 10 })),
  },
  { additionalProperties: false },
);
const CsrfOnly = Type.Object(
  { _csrf: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);

/** Notices a page may show after a redirect; the query names one of these, never free text. */
const NOTICES = {
  signed_out: 'page.signed_out',
  session_ended: 'page.session_ended',
  password_changed: 'recovery.password_changed_notice',
} as const;

export function chromeFor(
  deps: HttpDeps,
  req: FastifyRequest,
  realm: RealmPolicy | undefined,
  title: string,
  locale: Locale,
): PageChrome {
  const t = (id: string, params?: Record<string, string | number>) => deps.catalog.t(locale, id, params);
  const name = realm?.name ?? deps.config.DOSTUP_DEFAULT_REALM;
  const back = req.url.split('?')[0] ?? '/';
  const available = realm?.locales.available ?? ['ru', 'en'];
  return {
    locale,
    t,
    realm: {
      name,
      title: realm ? realmTitle(realm, locale) : 'Dostup',
      ...(realm?.branding.logoUrl ? { logoUrl: realm.branding.logoUrl } : {}),
      ...(realm?.branding.supportText?.[locale] ? { supportText: realm.branding.supportText[locale] } : {}),
    },
    themeCssUrl: `/r/${name}/theme.css`,
    langLinks: available.map((l) => ({
      locale: l,
      label: l === 'ru' ? 'Русский' : 'English',
      href: `/r/${name}/lang?set=${l}&back=${encodeURIComponent(back)}`,
      current: l === locale,
    })),
    title: t(title),
  };
}

/** A page heading that says what happened, not just "something went wrong". */
const ERROR_TITLES: Partial<Record<DostupError['code'], string>> = {
  NOT_FOUND: 'page.not_found_title',
  REALM_NOT_FOUND: 'page.not_found_title',
  CSRF_INVALID: 'page.page_expired_title',
  RATE_LIMITED: 'page.rate_limited_title',
  RESEND_TOO_SOON: 'page.rate_limited_title',
  CODE_EXHAUSTED: 'recovery.code_dead_title',
  CODE_INVALID: 'recovery.code_dead_title',
  FLOW_EXPIRED: 'recovery.link_dead_title',
  FLOW_NOT_FOUND: 'recovery.link_dead_title',
};
/** Errors after which the way forward is to ask for a new recovery mail. */
const RESTART_RECOVERY = new Set(['CODE_EXHAUSTED', 'CODE_INVALID', 'FLOW_EXPIRED', 'FLOW_NOT_FOUND']);

export async function renderErrorPage(deps: HttpDeps, req: FastifyRequest, reply: FastifyReply, e: DostupError) {
  const realm = req.realmPolicy;
  const locale = localeOf(req, realm);
  const heading = ERROR_TITLES[e.code] ?? 'page.error_title';
  const chrome = chromeFor(deps, req, realm, heading, locale);
  if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
  const links = realm
    ? [
        ...(RESTART_RECOVERY.has(e.code) && realm.recovery.enabled
          ? [{ href: `/r/${realm.name}/forgot`, label: chrome.t('recovery.request_new') }]
          : []),
        { href: `/r/${realm.name}/login`, label: chrome.t('page.back_to_signin') },
      ]
    : [];
  const body = messagePage({
    chrome,
    heading: chrome.t(heading),
    message: deps.catalog.t(locale, e.messageId, e.params),
    kind: 'error',
    links,
  });
  return reply.code(e.status).type('text/html; charset=utf-8').send(body.value);
}

export function registerWebRoutes(root: FastifyInstance, deps: HttpDeps) {
  const web = root.withTypeProvider<TypeBoxTypeProvider>();

  const realmOf = async (req: FastifyRequest, name: string) => {
    const realm = await deps.realms.require(name);
    req.realmPolicy = realm;
    return realm;
  };
  const identifierLabel = (realm: RealmPolicy) => {
    const ids = realm.signIn.identifiers;
    if (ids.length === 1) return `page.identifier_${ids[0]}`;
    if (ids.includes('email') && ids.includes('login') && ids.length === 2) return 'page.identifier_login_or_email';
    return 'page.identifier_any';
  };
  const signedIn = async (req: FastifyRequest, realm: RealmPolicy) => {
    const found = await deps.sessions.authenticate(readSessionToken(req), () => realm);
    return found && found.session.realm === realm.name ? found : null;
  };
  const html = (reply: FastifyReply, status: number, body: { value: string }) =>
    reply.code(status).type('text/html; charset=utf-8').send(body.value);

  web.get('/', async (_req, reply) => reply.redirect(`/r/${deps.config.DOSTUP_DEFAULT_REALM}/login`, 302));
  web.get('/assets/dostup.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CSS),
  );

  web.get('/assets/dostup.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(JS),
  );

  web.get('/r/:realm/theme.css', { schema: { params: RealmParams } }, async (req, reply) => {
    const realm = await realmOf(req, req.params.realm);
    // Colours were validated as #rrggbb by the policy schema, so nothing else can reach the CSS.
    const css = `:root{--brand:${realm.branding.primaryColor};--bg:${realm.branding.backgroundColor}}\n`;
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=60').send(css);
  });

  web.get(
    '/r/:realm/lang',
    {
      schema: {
        params: RealmParams,
        querystring: Type.Object({
          set: Type.String({ maxLength: 5 }),
          back: Type.Optional(Type.String({ maxLength: 300 })),
        }),
      },
    },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      const set = realm.locales.available.find((l) => l === req.query.set);
      if (set) reply.setCookie(LANG_COOKIE, set, { path: '/', sameSite: 'lax', httpOnly: true, maxAge: 365 * 86400 });
      // Only a path inside this realm's pages: an open redirect here would help phishing.
      const back = req.query.back ?? '';
      // Our own page paths only: no `..`/`%2e` (a browser resolves them out of the realm), no character
      // a Location header can't carry (CR/LF, non-Latin-1 → ERR_INVALID_CHAR, a 500).
      const safe = new RegExp(`^/r/${realm.name}/[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*$`).test(back)
        ? back
        : `/r/${realm.name}/login`;
      return reply.redirect(safe, 303);
    },
  );

  const renderLogin = async (
    req: FastifyRequest,
    reply: FastifyReply,
    realm: RealmPolicy,
    status: number,
    extra: { identifier?: string; remember?: boolean; error?: DostupError; notice?: keyof typeof NOTICES },
  ) => {
    const locale = localeOf(req, realm);
    const chrome = chromeFor(deps, req, realm, 'page.signin_title', locale);
    if (extra.error?.retryAfter !== undefined) reply.header('retry-after', String(extra.error.retryAfter));
    const page = loginPage({
      chrome,
      action: `/r/${realm.name}/login`,
      csrfToken: reply.generateCsrf(),
      values: { identifier: extra.identifier ?? '', remember: extra.remember ?? false },
      identifierLabel: chrome.t(identifierLabel(realm)),
      showRemember: realm.sessions.rememberMeDays > 0,
      forgotHref: realm.recovery.enabled ? `/r/${realm.name}/forgot` : '',
      ...(extra.error
        ? {
            error: {
              message: deps.catalog.t(
                locale,
                extra.error.issues[0]?.messageId ?? extra.error.messageId,
                extra.error.params,
              ),
              field: extra.error.code === 'USER_NOT_FOUND' ? ('identifier' as const) : ('password' as const),
            },
          }
        : {}),
      ...(extra.notice ? { notice: { kind: 'success' as const, message: chrome.t(NOTICES[extra.notice]) } } : {}),
    });
    return html(reply, status, page);
  };

  web.get(
    '/r/:realm/login',
    {
      schema: {
        params: RealmParams,
        querystring: Type.Object({ notice: Type.Optional(Type.String({ maxLength: 40 })) }),
      },
    },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      if (await signedIn(req, realm)) return reply.redirect(`/r/${realm.name}/account`, 303);
      const notice =
        req.query.notice && Object.hasOwn(NOTICES, req.query.notice)
          ? (req.query.notice as keyof typeof NOTICES)
          : undefined;
      return renderLogin(req, reply, realm, 200, notice ? { notice } : {});
    },
  );

  web.post(
    '/r/:realm/login',
    { schema: { params: RealmParams, body: LoginForm }, preHandler: web.csrfProtection },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      const remember = req.body.remember === '1' || req.body.remember === 'on';
      const out = await deps.login.signInWithPassword(
        realm,
        { identifier: req.body.identifier, password: req.body.password, remember },
        requestContext(req, realm),
      );
      if (out.kind === 'rejected') {
        return renderLogin(req, reply, realm, out.error.status, {
          identifier: req.body.identifier.slice(0, 320),
          remember,
          error: out.error,
        });
      }
      if (out.kind !== 'completed') throw new DostupError('FLOW_STATE_INVALID');
      setSessionCookie(reply, realm, out.value.token, out.value.session);
      return reply.redirect(`/r/${realm.name}/account`, 303);
    },
  );

  web.get('/r/:realm/account', { schema: { params: RealmParams } }, async (req, reply) => {
    const realm = await realmOf(req, req.params.realm);
    const found = await signedIn(req, realm);
    if (!found) return reply.redirect(`/r/${realm.name}/login`, 303);
    return renderAccount(req, reply, realm, found.user, found.session.id);
  });

  const renderAccount = async (
    req: FastifyRequest,
    reply: FastifyReply,
    realm: RealmPolicy,
    user: User,
    currentId: string,
  ) => {
    const locale = localeOf(req, realm, user.locale);
    const chrome = chromeFor(deps, req, realm, 'page.account_title', locale);
    const csrfToken = reply.generateCsrf();
    const sessions = await deps.sessions.list(user.id);
    const page = accountPage({
      chrome,
      csrfToken,
      user: { login: user.login, email: user.email, phone: user.phone, rights: user.rights },
      sessions: sessions.map((s) => ({
        id: s.id,
        current: s.id === currentId,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        expiresAt: s.expiresAt,
        remember: s.remember,
        ip: s.ip,
        userAgent: s.userAgent,
        revokeAction: `/r/${realm.name}/sessions/${s.id}/end`,
      })),
      logoutAction: `/r/${realm.name}/logout`,
    });
    return html(reply, 200, page);
  };

  web.post(
    '/r/:realm/logout',
    { schema: { params: RealmParams, body: CsrfOnly }, preHandler: web.csrfProtection },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      await deps.sessions.signOut(readSessionToken(req), requestContext(req, realm));
      clearSessionCookie(reply, realm);
      return reply.redirect(`/r/${realm.name}/login?notice=signed_out`, 303);
    },
  );

  web.post(
    '/r/:realm/sessions/:id/end',
    {
      schema: {
        params: Type.Object({ realm: RealmParams.properties.realm, id: Type.String({ format: 'uuid' }) }),
        body: CsrfOnly,
      },
      preHandler: web.csrfProtection,
    },
    async (req, reply) => {
      const realm = await realmOf(req, req.params.realm);
      const found = await signedIn(req, realm);
      if (!found) return reply.redirect(`/r/${realm.name}/login`, 303);
      const ok = await deps.sessions.endSession(found.user, req.params.id, requestContext(req, realm), 'page');
      if (!ok) throw new DostupError('SESSION_NOT_FOUND');
      if (req.params.id === found.session.id) {
        clearSessionCookie(reply, realm);
        return reply.redirect(`/r/${realm.name}/login?notice=session_ended`, 303);
      }
      return reply.redirect(`/r/${realm.name}/account`, 303);
    },
  );
}
