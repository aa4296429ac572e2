// Reading and writing the session credential. The cookie is HttpOnly (scripts can't read it),
// SameSite=Lax (not sent on cross-site POSTs), Secure when the realm is served over https, and has
// no Max-Age unless "remember me" was ticked — then it ends with the browser.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Session } from '../../core/model.ts';
import type { RealmPolicy } from '../../core/realm/policy-schema.ts';
import { SESSION_COOKIE } from '../app.ts';

/** Bearer token first (apps, portals' back ends), then the cookie (browsers). */
export function readSessionToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return req.cookies?.[SESSION_COOKIE];
}

export function usesBearer(req: FastifyRequest): boolean {
  return req.headers.authorization?.startsWith('Bearer ') ?? false;
}

export function setSessionCookie(reply: FastifyReply, realm: RealmPolicy, token: string, session: Session) {
  const secure = realm.baseUrl.startsWith('https://');
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    ...(session.remember ? { maxAge: Math.floor((session.expiresAt.getTime() - Date.now()) / 1000) } : {}),
  });
}

export function clearSessionCookie(reply: FastifyReply, realm?: RealmPolicy) {
  reply.clearCookie(SESSION_COOKIE, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: realm?.baseUrl.startsWith('https://') ?? false,
  });
}
