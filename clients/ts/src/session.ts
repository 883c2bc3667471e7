/**
 * A session helper for browser apps (and Node.js): logs in, attaches the access token to
 * requests, refreshes it shortly before it expires and when a service answers 401
 * `token_not_valid` (retrying that request once), keeps one refresh in flight per tab and one at
 * a time across tabs, and stores each rotated pair atomically, so that no tab ever presents a
 * refresh token another tab has retired.
 *
 *   const session = createAuthSession({ baseUrl: "https://shop.example.com", storage: localStorage,
 *                                       transport: "cookie" });
 *   await session.login(email, password);             // or, after a reload: await session.resume()
 *   const { data } = await session.api.GET("/auth/me/");
 *   catalog.use(session.middleware);                  // any openapi-fetch client of another service
 *   await session.fetch("/api/orders/");              // or plain fetch, authenticated
 *
 * Transports (README, "For frontend teams"): `"body"` keeps the refresh token in `storage`, where
 * any script of the page can read it; `"cookie"` (the service must enable it) leaves it in an
 * HttpOnly cookie no script can read, and stores only the short-lived access token.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import { AuthApiError, call, type paths, type Schemas, type TokenPair } from "./client.js";
import { defaultLock, type SessionLock } from "./locks.js";

export type { SessionLock } from "./locks.js";
export { broadcastChannelLock, processLock, webLocksLock } from "./locks.js";

export type TokenTransport = Schemas["TokenTransport"];
export type AccessToken = Schemas["AccessToken"];

/** The part of the Web Storage API the session uses: `localStorage`, `sessionStorage`, `memoryStorage()`. */
export interface SessionStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A storage that lives as long as the page (or process): nothing survives a reload. */
export function memoryStorage(): SessionStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

export interface AuthSessionOptions {
  /** The gateway origin (and prefix) in front of `/auth/...`, e.g. `https://shop.example.com`. */
  baseUrl: string;
  /** Where the tokens live, shared by the tabs that share the session: usually `localStorage`. */
  storage: SessionStorage;
  /** `"body"` (default): both tokens in `storage`. `"cookie"`: the refresh token in an HttpOnly cookie. */
  transport?: TokenTransport;
  /** The fetch to use (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** The cross-tab lock (default: Web Locks, else BroadcastChannel; see locks.ts). */
  lock?: SessionLock;
  /** The storage key, and the lock's name (default `auth-service.session`). */
  storageKey?: string;
  /** Refresh this long before the access token expires, at most a third of its lifetime (default 30 s). */
  refreshMarginMs?: number;
  /** Called once when the service ends the session (a refresh answered 401), or on logout. */
  onSessionEnd?: (reason: SessionEndedError) => void;
}

/** The session is over: never started, logged out, or refused by the service (`code`). */
export class SessionEndedError extends Error {
  /** `not_logged_in`, `logged_out`, or the service's code (`token_reused`, `token_not_valid`, ...). */
  readonly code: string;

  constructor(code: string, options?: { cause?: unknown }) {
    super(`auth session ended: ${code}`, options);
    this.name = "SessionEndedError";
    this.code = code;
  }
}

export interface AuthSession {
  /** Logs in (`POST /auth/token/`) and stores the session, replacing any other. */
  login(email: string, password: string): Promise<void>;
  /**
   * Picks up a session after a reload: true when `storage` holds one, or, in the cookie
   * transport, when the refresh cookie still gives an access token.
   */
  resume(): Promise<boolean>;
  /** Ends the session on the service (`POST /auth/logout/`) and in every tab. */
  logout(): Promise<void>;
  /** A valid access token, refreshed first if it is about to expire; rejects with SessionEndedError. */
  accessToken(): Promise<string>;
  /** Whether `storage` holds a session (no request). */
  readonly loggedIn: boolean;
  /** An openapi-fetch client of auth-service that sends the access token (`/auth/me/`, ...). */
  readonly api: Client<paths>;
  /** openapi-fetch middleware for the clients of other services (`client.use(session.middleware)`). */
  readonly middleware: Middleware;
  /** `fetch` with the access token attached and one retry after a 401 `token_not_valid`. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

/** What one storage key holds, written whole so that tabs never see half a rotation. */
interface Stored {
  access: string;
  /** Body transport only. */
  refresh?: string;
  /** The service's clock minus ours when the pair arrived, from the token's iat. */
  skewMs: number;
}

/**
 * The storage key as read: the session, if any, and its stamp: `sid`, a random name of the login
 * (kept through its rotations), and `gen`, how many times it has been written (login 1, each
 * rotation one more, the end one more, leaving only the stamp). The lock's ledger holds the same
 * stamps (locks.ts).
 */
interface Seen {
  session?: Stored;
  sid?: string;
  gen: number;
}

/** How long a lock holder waits for its storage to show what the previous holder wrote. */
const CATCH_UP_MS = 2_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const newSid = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isPair = (v: unknown): v is TokenPair =>
  isObject(v) && typeof v.access === "string" && v.access !== "" && typeof v.refresh === "string" && v.refresh !== "";
const isAccessToken = (v: unknown): v is AccessToken => isObject(v) && typeof v.access === "string" && v.access !== "";
const isNoContent = (v: unknown): v is undefined => v === undefined;

/** The JWT's `iat` and `exp`, in seconds; undefined for a token that is not a readable JWT. */
function times(jwt: string): { iat: number; exp: number } | undefined {
  try {
    const part = jwt.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims: unknown = JSON.parse(json);
    if (isObject(claims) && typeof claims.exp === "number" && typeof claims.iat === "number") {
      return { iat: claims.iat, exp: claims.exp };
    }
  } catch {
    // not a JWT we can read: the service will say what it thinks of it
  }
  return undefined;
}

/** Whether the service answered 401 `token_not_valid`: an expired or unknown access token. */
async function tokenNotValid(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  try {
    const body: unknown = await response.clone().json();
    return isObject(body) && body.code === "token_not_valid";
  } catch {
    return false;
  }
}

function withBearer(request: Request, access: string | undefined): Request {
  if (access === undefined) return request;
  const headers = new Headers(request.headers);
  headers.set("Authorization", `Bearer ${access}`);
  return new Request(request, { headers });
}

export function createAuthSession(options: AuthSessionOptions): AuthSession {
  const { baseUrl, storage } = options;
  const transport: TokenTransport = options.transport ?? "body";
  const cookie = transport === "cookie";
  const key = options.storageKey ?? "auth-service.session";
  const lock = options.lock ?? defaultLock();
  const marginMs = options.refreshMarginMs ?? 30_000;
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  // Token calls: without the middleware, and with the cookie where it is the transport.
  const tokens = createClient<paths>({ baseUrl, fetch: baseFetch, ...(cookie ? { credentials: "include" } : {}) });
  const transportHeader = { "X-Token-Transport": transport };

  function load(): Seen {
    const raw = storage.getItem(key);
    if (raw === null) return { gen: 0 };
    try {
      const v: unknown = JSON.parse(raw);
      if (!isObject(v)) return { gen: 0 };
      const seen: Seen = {
        sid: typeof v.sid === "string" ? v.sid : undefined,
        gen: typeof v.gen === "number" && Number.isSafeInteger(v.gen) ? v.gen : 0,
      };
      if (typeof v.access === "string" && typeof v.skewMs === "number") {
        const refresh = typeof v.refresh === "string" ? v.refresh : undefined;
        if (cookie || refresh) seen.session = { access: v.access, refresh, skewMs: v.skewMs };
      }
      return seen;
    } catch {
      return { gen: 0 }; // unreadable: treated as no session
    }
  }

  const read = (): Stored | undefined => load().session;

  /**
   * Under the lock: the storage as the lock's previous holder left it. This tab's storage may
   * not show that holder's write yet (see locks.ts); presenting the refresh token it still shows,
   * one the service has just retired, would look like a thief's replay. So when the lock's ledger
   * knows a newer generation of this login than the storage shows, wait for the storage.
   */
  async function settle(): Promise<Seen> {
    let seen = load();
    const sid = seen.sid;
    if (sid === undefined || !lock.latest) return seen;
    const want = await lock.latest(key, sid);
    if (want === undefined) return seen;
    const deadline = Date.now() + CATCH_UP_MS;
    while (seen.sid === sid && seen.gen < want && Date.now() < deadline) {
      await sleep(5);
      seen = load();
    }
    return seen;
  }

  /** Under the lock: writes the storage key whole, then publishes its stamp on the lock. */
  async function commit(stored: Stored | undefined, sid: string, gen: number): Promise<void> {
    storage.setItem(key, JSON.stringify({ ...stored, sid, gen }));
    await lock.publish?.(key, sid, gen);
  }

  /** Under the lock: stores a pair (or, in the cookie transport, an access token) as generation `gen`. */
  async function save(body: TokenPair | AccessToken, sid: string, gen: number): Promise<Stored> {
    // iat has whole seconds: only a skew beyond that noise is corrected for.
    const t = times(body.access);
    const skew = t ? t.iat * 1000 - Date.now() : 0;
    const stored: Stored = { access: body.access, skewMs: Math.abs(skew) > 2000 ? skew : 0 };
    if (!cookie && "refresh" in body) stored.refresh = body.refresh;
    await commit(stored, sid, gen);
    return stored;
  }

  /** Under the lock: ends the stored session for every tab, leaving only its stamp. */
  async function clear(seen: Seen): Promise<void> {
    if (seen.sid === undefined) storage.removeItem(key);
    else await commit(undefined, seen.sid, seen.gen + 1);
  }

  function expiring(s: Stored): boolean {
    const t = times(s.access);
    if (!t) return false;
    const margin = Math.min(marginMs, ((t.exp - t.iat) * 1000) / 3);
    return Date.now() + s.skewMs >= t.exp * 1000 - margin;
  }

  let ended = false;
  /** The error that reports the session's end, after `onSessionEnd` the first time; see clear. */
  function end(code: string, cause?: unknown): SessionEndedError {
    const err = new SessionEndedError(code, { cause });
    if (!ended) {
      ended = true;
      options.onSessionEnd?.(err);
    }
    return err;
  }

  /** One network refresh of the stored session `seen`; runs under the lock. */
  async function rotate(seen: Seen): Promise<Stored> {
    const current = seen.session;
    if (!cookie && !current?.refresh) throw new SessionEndedError("not_logged_in");
    try {
      const body = await call(
        () =>
          tokens.POST("/auth/token/refresh/", {
            params: { header: transportHeader },
            body: cookie ? {} : { refresh: current?.refresh ?? "" },
          }),
        200,
        cookie ? isAccessToken : isPair,
      );
      // A cookie session picked up after a reload has no stamp yet: it is a new one here.
      return await (current && seen.sid !== undefined ? save(body, seen.sid, seen.gen + 1) : save(body, newSid(), 1));
    } catch (e) {
      // 401: the service has ended this session (reused, revoked, expired, user gone); 400 with
      // fields.refresh in the cookie transport: there is no cookie (any more).
      if (e instanceof AuthApiError && (e.status === 401 || (cookie && e.status === 400 && e.fields?.refresh))) {
        await clear(seen);
        throw end(e.status === 401 ? e.code : "not_logged_in", e);
      }
      throw e;
    }
  }

  let inflight: Promise<Stored> | undefined;
  /**
   * A fresh session, refreshed once by whichever caller comes first (single-flight in this tab,
   * the lock across tabs). `stale` is the access token the caller found wanting: if, read again
   * under the lock, the stored one differs and is fresh, another tab has rotated already and its
   * pair is used as it is; the refresh always presents the stored token, never a copy, and only
   * once the storage shows what the lock's previous holder wrote (settle).
   */
  function refresh(stale: string | undefined): Promise<Stored> {
    inflight ??= lock
      .run(key, async () => {
        const seen = await settle();
        const current = seen.session;
        if (current && current.access !== stale && !expiring(current)) return current;
        if (!current && !cookie) throw new SessionEndedError("not_logged_in");
        return rotate(seen);
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  async function accessToken(): Promise<string> {
    const current = read();
    if (!current) throw new SessionEndedError("not_logged_in");
    return expiring(current) ? (await refresh(current.access)).access : current.access;
  }

  /** The token to send, or undefined (the request goes without, and the service says 401). */
  async function tokenForRequest(): Promise<string | undefined> {
    try {
      return await accessToken();
    } catch {
      return read()?.access;
    }
  }

  /** After a 401 token_not_valid for `sent`: a new token to retry with, or undefined. */
  async function tokenForRetry(sent: string | undefined): Promise<string | undefined> {
    if (sent === undefined) return undefined;
    try {
      const next = await refresh(sent);
      return next.access === sent ? undefined : next.access;
    } catch {
      return undefined;
    }
  }

  // Requests of openapi-fetch clients in flight: a copy to retry with, and the token sent.
  const pending = new Map<string, { retry: Request; sent: string | undefined }>();
  const middleware: Middleware = {
    async onRequest({ request, id }) {
      const sent = await tokenForRequest();
      pending.set(id, { retry: request.clone(), sent });
      return withBearer(request, sent);
    },
    async onResponse({ response, id, options: clientOptions }) {
      const p = pending.get(id);
      pending.delete(id);
      if (!p || !(await tokenNotValid(response))) return undefined;
      const next = await tokenForRetry(p.sent);
      return next === undefined ? undefined : clientOptions.fetch(withBearer(p.retry, next));
    },
    onError({ id }) {
      pending.delete(id);
      return undefined;
    },
  };

  const api = createClient<paths>({ baseUrl, fetch: baseFetch });
  api.use(middleware);

  async function authedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    const retry = request.clone();
    const sent = await tokenForRequest();
    const response = await baseFetch(withBearer(request, sent));
    if (!(await tokenNotValid(response))) return response;
    const next = await tokenForRetry(sent);
    return next === undefined ? response : baseFetch(withBearer(retry, next));
  }

  return {
    async login(email, password) {
      const body = await call(
        () => tokens.POST("/auth/token/", { params: { header: transportHeader }, body: { email, password } }),
        200,
        cookie ? isAccessToken : isPair,
      );
      await lock.run(key, async () => {
        await save(body, newSid(), 1);
      });
      ended = false;
    },
    async resume() {
      if (read()) return true;
      if (!cookie) return false;
      try {
        await refresh(undefined);
        ended = false;
        return true;
      } catch (e) {
        if (e instanceof SessionEndedError) return false;
        throw e;
      }
    },
    async logout() {
      await lock.run(key, async () => {
        const seen = await settle();
        const current = seen.session;
        await clear(seen);
        end("logged_out");
        if (!cookie && !current?.refresh) return;
        try {
          await call(
            () =>
              tokens.POST("/auth/logout/", {
                params: { header: transportHeader },
                body: cookie ? {} : { refresh: current?.refresh ?? "" },
              }),
            204,
            isNoContent,
          );
        } catch (e) {
          // 401: the session had ended already; 400 in the cookie transport: no cookie left.
          const gone = e instanceof AuthApiError && (e.status === 401 || (cookie && e.status === 400));
          if (!gone) throw e;
        }
      });
    },
    accessToken,
    get loggedIn() {
      return read() !== undefined;
    },
    api,
    middleware,
    fetch: authedFetch,
  };
}

