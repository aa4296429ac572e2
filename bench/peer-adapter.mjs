// Adapter for the peer harness (/work/shared/peers/better-auth, see its adapters/better-auth.mjs):
// how its seed.mjs / load.mjs talk to Dostup. Same fields, same users, same checks of success.
//
// Differences from Better Auth that matter when reading the results:
//  - Dostup has no public self-service sign-up: users are created through the admin API, with the
//    token the harness run was started with (DOSTUP_ADMIN_TOKEN, set by bench/peer.sh). The name is
//    ignored; the e-mail is the only identifier (no login), and signs in as `identifier`.
//  - The session credential is the `dostup_session` cookie; the check is GET /api/v1/whoami.
//  - Password reset: POST /api/v1/realms/main/recovery answers 202 at once, the same for every
//    account; the code and the link are mailed AFTER the response. The token the harness needs is
//    read from the dev mailbox (GET /dev/mailbox/latest.json?to=…, only there without SMTP_URL): the
//    link's `s` (secret id) and `code`, joined as "s:code". lastResetToken polls briefly for a mail
//    newer than the last one it saw for that address, since the mail is queued after the response.

const COOKIE = 'dostup_session';
const REALM = 'main';
const lastSeen = new Map();
const requestedAt = new Map();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function adminToken() {
  const t = process.env.DOSTUP_ADMIN_TOKEN;
  if (!t) throw new Error('DOSTUP_ADMIN_TOKEN is not set: the adapter creates users through the admin API');
  return t;
}

export default {
  name: 'dostup',
  describe: {
    system: 'Dostup (this repository, node bin/dostup.js start)',
    endpoints: {
      signUp: `POST /api/v1/admin/realms/${REALM}/users (admin bearer token; no public sign-up)`,
      signIn: `POST /api/v1/realms/${REALM}/login`,
      session: 'GET /api/v1/whoami (cookie)',
      requestReset: `POST /api/v1/realms/${REALM}/recovery (202, same for unknown accounts; mail queued after the response)`,
      completeReset: `POST /api/v1/realms/${REALM}/recovery/complete {secretId, code, password}`,
    },
  },

  // Dostup's JSON API needs no Origin (CSRF is handled by requiring application/json on POSTs).
  headers: () => ({}),

  health: { method: 'GET', path: '/health' },

  signUp: ({ email, password }) => ({
    method: 'POST',
    path: `/api/v1/admin/realms/${REALM}/users`,
    headers: { authorization: `Bearer ${adminToken()}` },
    json: { email, password },
  }),
  isSignUpOk: (res) => res.status === 201 && !!res.json?.id,
  isAlreadyExists: (res) => res.status === 409,

  signIn: ({ email, password }) => ({
    method: 'POST',
    path: `/api/v1/realms/${REALM}/login`,
    json: { identifier: email, password, remember: false },
  }),
  isSignInOk: (res) => res.status === 200 && res.json?.status === 'completed',

  credentialFromSignIn(res) {
    const sc = res.headers['set-cookie'] || [];
    const c = (Array.isArray(sc) ? sc : [sc]).find((s) => s.startsWith(`${COOKIE}=`));
    if (!c) throw new Error('no dostup_session cookie in sign-in response');
    return c.split(';')[0]; // "dostup_session=<token>"
  },

  getSession: (credential) => ({ method: 'GET', path: '/api/v1/whoami', headers: { cookie: credential } }),
  isSessionOk: (res) => res.status === 200 && !!res.json?.user?.id,

  requestReset: ({ email }) => {
    requestedAt.set(email, Date.now());
    return { method: 'POST', path: `/api/v1/realms/${REALM}/recovery`, json: { identifier: email } };
  },
  isResetRequestOk: (res) => res.status === 202,

  async lastResetToken(client, email) {
    for (let i = 0; i < 100; i++) {
      const res = await client.request({
        method: 'GET',
        path: `/dev/mailbox/latest.json?to=${encodeURIComponent(email)}`,
      });
      const mail = res.status === 200 ? res.json : null;
      // Only a mail queued after this request: the load phases before left older ones (now void).
      const fresh = mail && Date.parse(mail.createdAt) >= (requestedAt.get(email) ?? 0) - 5;
      if (fresh && mail.id !== lastSeen.get(email)) {
        const link = (mail.links ?? []).find((l) => l.includes('/reset?'));
        if (link) {
          lastSeen.set(email, mail.id);
          const u = new URL(link);
          return `${u.searchParams.get('s')}:${u.searchParams.get('code')}`;
        }
      }
      await sleep(20);
    }
    return null;
  },

  completeReset: ({ token, newPassword }) => {
    const [secretId, code] = token.split(':');
    return {
      method: 'POST',
      path: `/api/v1/realms/${REALM}/recovery/complete`,
      json: { secretId, code, password: newPassword },
    };
  },
  isResetOk: (res) => res.status === 200 && res.json?.status === 'completed',
};
