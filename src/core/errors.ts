// One error type for the whole product. Every failure a client can see has a stable UPPER_SNAKE code,
// an HTTP status and a message id from the locale catalogue; internal detail never leaves the server
// (`expose` is false for 5xx, as node-oidc-provider does), so a stack trace can never reach a page.

export const ERRORS = {
  VALIDATION_FAILED: { status: 400, messageId: 'error.validation_failed' },
  BODY_TOO_LARGE: { status: 413, messageId: 'error.body_too_large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, messageId: 'error.unsupported_media_type' },
  INVALID_CREDENTIALS: { status: 401, messageId: 'error.invalid_credentials' },
  UNAUTHENTICATED: { status: 401, messageId: 'error.unauthenticated' },
  ADMIN_TOKEN_INVALID: { status: 401, messageId: 'error.admin_token_invalid' },
  FORBIDDEN: { status: 403, messageId: 'error.forbidden' },
  CSRF_INVALID: { status: 403, messageId: 'error.csrf_invalid' },
  ACCOUNT_LOCKED: { status: 403, messageId: 'error.account_locked' },
  NOT_FOUND: { status: 404, messageId: 'error.not_found' },
  REALM_NOT_FOUND: { status: 404, messageId: 'error.realm_not_found' },
  USER_NOT_FOUND: { status: 404, messageId: 'error.user_not_found' },
  SESSION_NOT_FOUND: { status: 404, messageId: 'error.session_not_found' },
  FLOW_NOT_FOUND: { status: 404, messageId: 'error.flow_not_found' },
  FLOW_EXPIRED: { status: 410, messageId: 'error.flow_expired' },
  FLOW_STATE_INVALID: { status: 409, messageId: 'error.flow_state_invalid' },
  IDENTIFIER_TAKEN: { status: 409, messageId: 'error.identifier_taken' },
  IDENTIFIER_INVALID: { status: 400, messageId: 'error.identifier_invalid' },
  PASSWORD_REJECTED: { status: 422, messageId: 'error.password_rejected' },
  PASSWORD_TOO_LONG: { status: 400, messageId: 'error.password_too_long' },
  REALM_POLICY_INVALID: { status: 400, messageId: 'error.realm_policy_invalid' },
  RATE_LIMITED: { status: 429, messageId: 'error.rate_limited' },
  RECOVERY_DISABLED: { status: 404, messageId: 'error.recovery_disabled' },
  RECOVERY_UNKNOWN_ACCOUNT: { status: 404, messageId: 'error.recovery_unknown_account' },
  CODE_INVALID: { status: 400, messageId: 'error.code_invalid' },
  CODE_EXHAUSTED: { status: 410, messageId: 'error.code_exhausted' },
  RESEND_TOO_SOON: { status: 429, messageId: 'error.resend_too_soon' },
  SERVICE_UNAVAILABLE: { status: 503, messageId: 'error.service_unavailable' },
  INTERNAL: { status: 500, messageId: 'error.internal' },
} as const satisfies Record<string, { status: number; messageId: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One problem with one field of the input, e.g. `{ path: '/password/minLength', messageId: '…' }`. */
export interface FieldIssue {
  path: string;
  messageId: string;
  params?: Record<string, string | number>;
  /** Untranslated detail for logs and API clients (e.g. the JSON Schema keyword). */
  detail?: string;
}

export class DostupError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly messageId: string;
  readonly params: Record<string, string | number>;
  readonly issues: FieldIssue[];
  /** Seconds until a retry may succeed (rate limits). */
  readonly retryAfter?: number;
  /** Only 4xx errors are shown as they are; a 5xx is shown as INTERNAL with no detail. */
  readonly expose: boolean;

  constructor(
    code: ErrorCode,
    opts: {
      message?: string;
      params?: Record<string, string | number>;
      issues?: FieldIssue[];
      retryAfter?: number;
      cause?: unknown;
    } = {},
  ) {
    super(opts.message ?? code, { cause: opts.cause });
    this.name = 'DostupError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.messageId = ERRORS[code].messageId;
    this.params = opts.params ?? {};
    this.issues = opts.issues ?? [];
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
    this.expose = this.status < 500;
  }
}

export const isDostupError = (e: unknown): e is DostupError => e instanceof DostupError;
