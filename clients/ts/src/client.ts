/**
 * A small typed client for auth-service, built on openapi-fetch and the types that
 * openapi-typescript generates from api/openapi.yaml into gen/ts/schema.d.ts.
 *
 * Every method resolves with the typed success body, or rejects with an AuthApiError that
 * carries the HTTP status and the spec's `Error` body (`detail`, `code`, optional `fields`),
 * and, on 429 and 503, how many seconds to wait before trying again (`retryAfter`).
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, paths } from "../../../gen/ts/schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
export type ErrorBody = Schemas["Error"];
export type TokenPair = Schemas["TokenPair"];
export type User = Schemas["User"];
export type VerifyResponse = Schemas["VerifyResponse"];
export type Health = Schemas["Health"];
export type Ready = Schemas["Ready"];
export type JWKS = Schemas["JWKS"];
export type Accepted = Schemas["Accepted"];
export type SessionInfo = Schemas["SessionInfo"];
export type SessionList = Schemas["SessionList"];

/**
 * Codes of answers a client should retry later rather than show as a failure: each comes with
 * `retryAfter` (seconds).
 */
export const RETRY_LATER_CODES = {
  /** 429: too many failed logins for this account or from this address (or the gateway's limit). */
  throttled: "throttled",
  /** 503 on login: password hashing is saturated; nothing was checked or counted. */
  overloaded: "overloaded",
  /** 503: the database is unavailable. */
  unavailable: "unavailable",
  /** 503 from GET /auth/ready/: the service cannot serve now (database away, or shutting down). */
  notReady: "not_ready",
} as const;

/** Codes the client itself uses when the server's answer is not the spec's `Error` body. */
export const CLIENT_ERROR_CODES = {
  /** The request never got an HTTP answer (connection refused, DNS, timeout, abort). */
  requestFailed: "request_failed",
  /** An HTTP answer whose status or body does not match the contract. */
  unexpectedResponse: "unexpected_response",
} as const;

export class AuthApiError extends Error {
  /** HTTP status; 0 when no HTTP answer was received. */
  readonly status: number;
  /** The `Error` body: from the server, or synthesised by the client for off-contract answers. */
  readonly body: ErrorBody;
  /** The `WWW-Authenticate` header of the answer, when present (401s carry one). */
  readonly wwwAuthenticate: string | null;
  /**
   * Seconds to wait before trying again, from the `Retry-After` header (429 `throttled`, 503
   * `overloaded` and `unavailable` carry one); undefined when the answer had none.
   */
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    body: ErrorBody,
    options?: { cause?: unknown; wwwAuthenticate?: string | null; retryAfter?: number | undefined },
  ) {
    super(`${status ? `HTTP ${status}` : "no response"} ${body.code}: ${body.detail}`, { cause: options?.cause });
    this.name = "AuthApiError";
    this.status = status;
    this.body = body;
    this.wwwAuthenticate = options?.wwwAuthenticate ?? null;
    this.retryAfter = options?.retryAfter;
  }

  get code(): string {
    return this.body.code;
  }

  get detail(): string {
    return this.body.detail;
  }

  get fields(): ErrorBody["fields"] {
    return this.body.fields;
  }
}

export function isAuthApiError(e: unknown): e is AuthApiError {
  return e instanceof AuthApiError;
}

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  if (typeof o.detail !== "string" || typeof o.code !== "string") return false;
  if (o.fields === undefined) return true;
  return (
    typeof o.fields === "object" &&
    o.fields !== null &&
    Object.values(o.fields).every((msgs) => Array.isArray(msgs) && msgs.every((m) => typeof m === "string"))
  );
}

/**
 * Reads a `Retry-After` header: delta-seconds, or an HTTP date (RFC 9110), as whole seconds from
 * `now`; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function unexpected(response: Response, detail: string): AuthApiError {
  return new AuthApiError(
    response.status,
    { detail, code: CLIENT_ERROR_CODES.unexpectedResponse },
    {
      wwwAuthenticate: response.headers.get("WWW-Authenticate"),
      retryAfter: parseRetryAfter(response.headers.get("Retry-After")),
    },
  );
}

interface RawResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/**
 * Runs one openapi-fetch call and turns every failure into an AuthApiError.
 * `expected` is the one success status the operation documents; `check` validates the body.
 * Exported for session.ts.
 */
export async function call<T>(
  request: () => Promise<RawResult>,
  expected: number,
  check: (data: unknown) => data is T,
): Promise<T> {
  let result: RawResult;
  try {
    result = await request();
  } catch (cause) {
    // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, timeout, ...) is its cause.
    const inner = cause instanceof Error && cause.cause instanceof Error ? `: ${cause.cause.message}` : "";
    const detail = cause instanceof Error ? `${cause.message}${inner}` : String(cause);
    throw new AuthApiError(0, { detail, code: CLIENT_ERROR_CODES.requestFailed }, { cause });
  }
  const { response } = result;
  if (!response.ok) {
    const www = response.headers.get("WWW-Authenticate");
    const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
    if (isErrorBody(result.error)) {
      throw new AuthApiError(response.status, result.error, { wwwAuthenticate: www, retryAfter });
    }
    const text = typeof result.error === "string" ? result.error.trim().slice(0, 200) : "";
    throw unexpected(response, text || response.statusText || `HTTP ${response.status} without an Error body`);
  }
  if (response.status !== expected) {
    throw unexpected(response, `expected HTTP ${expected}, got ${response.status}`);
  }
  if (!check(result.data)) {
    throw unexpected(response, `HTTP ${response.status} body does not match the contract`);
  }
  return result.data;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isTokenPair = (v: unknown): v is TokenPair =>
  isObject(v) && typeof v.access === "string" && v.access !== "" && typeof v.refresh === "string" && v.refresh !== "";
const isUser = (v: unknown): v is User => isObject(v) && typeof v.id === "number" && typeof v.email === "string";
const isVerifyResponse = (v: unknown): v is VerifyResponse => isObject(v) && Object.keys(v).length === 0;
const isHealth = (v: unknown): v is Health => isObject(v) && v.status === "auth-service-up";
const isReady = (v: unknown): v is Ready => isObject(v) && v.status === "ready";
const isJWKS = (v: unknown): v is JWKS => isObject(v) && Array.isArray(v.keys);
const isNoContent = (v: unknown): v is undefined => v === undefined;
const isAccepted = (v: unknown): v is Accepted => isObject(v) && typeof v.detail === "string";
const isSessionInfo = (v: unknown): v is SessionInfo =>
  isObject(v) &&
  typeof v.id === "string" &&
  typeof v.created_at === "string" &&
  typeof v.expires_at === "string" &&
  typeof v.created_address === "string" &&
  typeof v.created_user_agent === "string" &&
  typeof v.current === "boolean";
const isSessionList = (v: unknown): v is SessionList =>
  isObject(v) && Array.isArray(v.sessions) && v.sessions.every(isSessionInfo);

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export interface AuthClient {
  /** POST /auth/token/ — log in; returns an access and a refresh token. */
  login(email: string, password: string): Promise<TokenPair>;
  /** POST /auth/token/refresh/ — rotates the refresh token: the one given is retired. */
  refresh(refresh: string): Promise<TokenPair>;
  /** GET /auth/me/ — the user the access token was issued to. */
  me(access: string): Promise<User>;
  /** POST /auth/logout/ — revokes the session of the refresh token (204). */
  logout(refresh: string): Promise<void>;
  /** POST /auth/logout/all/ — revokes every session of the token's user (204). */
  logoutAll(access: string): Promise<void>;
  /**
   * POST /auth/token/verify/ — resolves with `{}` when the access or refresh token is valid.
   * A retired refresh token counts as reuse and revokes its session: do not use this to ask
   * whether a refresh token has been rotated.
   */
  verify(token: string): Promise<VerifyResponse>;
  /** POST /auth/register/ — sign up (202 whether or not the address is taken); a verification mail follows. */
  register(email: string, password: string): Promise<Accepted>;
  /** POST /auth/register/verify/ — activates the account with the token from the mail (204). */
  verifyEmail(token: string): Promise<void>;
  /** POST /auth/password/change/ — returns the session's new pair; every other session is revoked. */
  changePassword(access: string, currentPassword: string, newPassword: string): Promise<TokenPair>;
  /** POST /auth/password/reset/ — has a reset link mailed (202 whatever the address). */
  requestPasswordReset(email: string): Promise<Accepted>;
  /** POST /auth/password/reset/confirm/ — sets the password with the token from the mail (204). */
  confirmPasswordReset(token: string, newPassword: string): Promise<void>;
  /** GET /auth/sessions/ — the user's live sessions, newest first; `current` marks the token's own. */
  sessions(access: string): Promise<SessionInfo[]>;
  /** DELETE /auth/sessions/{id}/ — ends one of the user's sessions (204); another user's is a 404. */
  endSession(access: string, id: string): Promise<void>;
  /** GET /auth/health/ — liveness: the process answers. */
  health(): Promise<Health>;
  /** GET /auth/ready/ — readiness: rejects with 503 `not_ready` while the service cannot serve. */
  ready(): Promise<Ready>;
  /** GET /auth/.well-known/jwks.json */
  jwks(): Promise<JWKS>;
  /** The underlying openapi-fetch client, for anything the wrapper does not cover. */
  readonly raw: Client<paths>;
}

/**
 * @param baseUrl the gateway origin (and prefix, if any) in front of `/auth/...`,
 *   e.g. `http://localhost:8080`. A trailing slash is ignored.
 * @param options extra openapi-fetch options (a custom `fetch`, default `headers`, ...).
 */
export function createAuthClient(baseUrl: string, options: Omit<ClientOptions, "baseUrl"> = {}): AuthClient {
  const raw = createClient<paths>({ ...options, baseUrl });
  return {
    raw,
    login: (email, password) =>
      call(() => raw.POST("/auth/token/", { body: { email, password } }), 200, isTokenPair),
    refresh: (refresh) => call(() => raw.POST("/auth/token/refresh/", { body: { refresh } }), 200, isTokenPair),
    me: (access) => call(() => raw.GET("/auth/me/", { headers: bearer(access) }), 200, isUser),
    logout: (refresh) => call(() => raw.POST("/auth/logout/", { body: { refresh } }), 204, isNoContent),
    logoutAll: (access) => call(() => raw.POST("/auth/logout/all/", { headers: bearer(access) }), 204, isNoContent),
    verify: (token) => call(() => raw.POST("/auth/token/verify/", { body: { token } }), 200, isVerifyResponse),
    register: (email, password) => call(() => raw.POST("/auth/register/", { body: { email, password } }), 202, isAccepted),
    verifyEmail: (token) => call(() => raw.POST("/auth/register/verify/", { body: { token } }), 204, isNoContent),
    changePassword: (access, currentPassword, newPassword) =>
      call(
        () =>
          raw.POST("/auth/password/change/", {
            headers: bearer(access),
            body: { current_password: currentPassword, new_password: newPassword },
          }),
        200,
        isTokenPair,
      ),
    requestPasswordReset: (email) => call(() => raw.POST("/auth/password/reset/", { body: { email } }), 202, isAccepted),
    confirmPasswordReset: (token, newPassword) =>
      call(() => raw.POST("/auth/password/reset/confirm/", { body: { token, new_password: newPassword } }), 204, isNoContent),
    sessions: async (access) =>
      (await call(() => raw.GET("/auth/sessions/", { headers: bearer(access) }), 200, isSessionList)).sessions,
    endSession: (access, id) =>
      call(
        () => raw.DELETE("/auth/sessions/{id}/", { params: { path: { id } }, headers: bearer(access) }),
        204,
        isNoContent,
      ),
    health: () => call(() => raw.GET("/auth/health/"), 200, isHealth),
    ready: () => call(() => raw.GET("/auth/ready/"), 200, isReady),
    jwks: () => call(() => raw.GET("/auth/.well-known/jwks.json"), 200, isJWKS),
  };
}
