// Adapter for the peer harness (/work/shared/peers/better-auth, see its adapters/better-auth.mjs):
// how its seed.mjs / load.mjs talk to Dostup. Same fields, same users, same checks of success.
//
// Differences from Better Auth that matter when reading the results:
//  - Dostup has no public self-service sign-up: users are created through the admin API, with the
//    token the harness run was started with (DOSTUP_ADMIN_TOKEN, set by bench/peer.sh). The name is
//    ignored; the e-mail is the only identifier (no login), and signs in as `identifier`.
//  - The session credential is the `dostup_session` cookie; the check is GET /api/v1/whoami.
//  - There is no password-reset endpoint yet (the next issue). The reset hooks throw, so a run that
//    includes the reset phases stops with this explanation instead of reporting 404s as numbers;
//    bench/peer.sh runs PHASES=signin,session.

const COOKIE = 'dostup_session';
const REALM = 'main';
const NO_RESET =
  'dostup has no password-reset endpoint yet (next issue): run the peer harness with PHASES=signin,session';

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
      requestReset: 'not implemented yet',
      completeReset: 'not implemented yet',
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

  requestReset() {
    throw new Error(NO_RESET);
  },
  isResetRequestOk: () => false,
  async lastResetToken() {
    throw new Error(NO_RESET);
  },
  completeReset() {
    throw new Error(NO_RESET);
  },
  isResetOk: () => false,
};
