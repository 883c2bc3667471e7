/**
 * End-to-end smoke test of auth-service through its gateway.
 *
 *   npm run smoke -- <baseUrl> <email> <password>
 *   AUTH_BASE_URL=... AUTH_EMAIL=... AUTH_PASSWORD=... npm run smoke
 *
 * Arguments win over the environment. The user must exist and be active.
 * Prints one JSON line and exits 0 on success; prints `smoke: FAIL ...` to stderr and exits 1
 * otherwise. Tokens and the password are never printed.
 *
 * Optional: AUTH_SMOKE_TIMEOUT_MS (per request, default 10000).
 */
import { AuthApiError, createAuthClient, type TokenPair, type User } from "./client.js";

class SmokeFailure extends Error {}

function usage(): never {
  console.error(
    "usage: npm run smoke -- <baseUrl> <email> <password>\n" +
      "   or: AUTH_BASE_URL=... AUTH_EMAIL=... AUTH_PASSWORD=... npm run smoke",
  );
  process.exit(1);
}

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new SmokeFailure(message);
}

/** Awaits a call that must fail with an AuthApiError of the given status (and code, if given). */
async function expectApiError(p: Promise<unknown>, status: number, code?: string): Promise<AuthApiError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert(err !== undefined, `expected HTTP ${status}${code ? ` ${code}` : ""}, but the call succeeded`);
  if (!(err instanceof AuthApiError)) throw err;
  assert(err.status === status, `expected HTTP ${status}, got ${err.message}`);
  if (code !== undefined) assert(err.code === code, `expected code ${code}, got ${err.message}`);
  return err;
}

const sameEmail = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

async function main(): Promise<void> {
  const [argBase, argEmail, argPassword] = process.argv.slice(2);
  const baseUrl = argBase || process.env.AUTH_BASE_URL;
  const email = argEmail || process.env.AUTH_EMAIL;
  const password = argPassword || process.env.AUTH_PASSWORD;
  if (!baseUrl || !email || !password) usage();

  const timeoutMs = Number(process.env.AUTH_SMOKE_TIMEOUT_MS) || 10_000;
  const api = createAuthClient(baseUrl, {
    fetch: (request: Request) => fetch(request, { signal: AbortSignal.timeout(timeoutMs) }),
  });

  const started = Date.now();
  const steps: string[] = [];
  let step = "start";
  const run = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    step = name;
    const out = await fn();
    steps.push(name);
    return out;
  };

  try {
    const ready = await run("ready", () => api.ready());
    assert(ready.status === "ready", `/auth/ready/ returned ${JSON.stringify(ready)}`);

    const first: TokenPair = await run("login", () => api.login(email, password));

    const user: User = await run("me", () => api.me(first.access));
    assert(sameEmail(user.email, email), `/auth/me/ returned email ${JSON.stringify(user.email)}, expected ${JSON.stringify(email)}`);

    const second: TokenPair = await run("refresh", () => api.refresh(first.refresh));
    assert(second.refresh !== first.refresh, "refresh returned the same refresh token: it must rotate");

    const again: User = await run("me-after-refresh", () => api.me(second.access));
    assert(again.id === user.id && sameEmail(again.email, email), "/auth/me/ with the refreshed access token returned another user");

    const garbage = await run("me-garbage-token", () => expectApiError(api.me("not-a-jwt"), 401, "token_not_valid"));

    // A second login is a second session: listed, and ended from the first.
    const other: TokenPair = await run("login-again", () => api.login(email, password));
    const otherSessions = await run("sessions", () => api.sessions(other.access));
    const otherId = otherSessions.find((s) => s.current)?.id;
    assert(otherId !== undefined, "/auth/sessions/ did not mark the asking token's session as current");
    const listed = await run("sessions-from-first", () => api.sessions(second.access));
    assert(listed.some((s) => s.id === otherId && !s.current), "the first session does not see the second one");
    await run("end-session", () => api.endSession(second.access, otherId));
    await run("refresh-ended-session", () => expectApiError(api.refresh(other.refresh), 401, "token_not_valid"));

    await run("logout", () => api.logout(second.refresh));

    const afterLogout = await run("refresh-after-logout", () => expectApiError(api.refresh(second.refresh), 401));

    // Failed logins for one (unknown) account are throttled: 429 `throttled` with the seconds
    // to wait, from the service's login throttle or, if it is quicker, the gateway's rate limit.
    const nobody = `smoke-${Date.now()}@example.invalid`;
    const throttled = await run("throttled-login", async () => {
      for (let i = 0; i < 8; i++) {
        try {
          await api.login(nobody, "wrong-password");
        } catch (e) {
          if (e instanceof AuthApiError && e.status === 429) return e;
          if (!(e instanceof AuthApiError) || e.status !== 401) throw e;
        }
      }
      throw new SmokeFailure("8 failed logins for one account were never throttled");
    });
    assert(throttled.code === "throttled", `429 with code ${throttled.code}, expected throttled`);
    assert(throttled.retryAfter !== undefined && throttled.retryAfter >= 1, `429 without Retry-After seconds`);

    console.log(
      JSON.stringify({
        ok: true,
        baseUrl,
        userId: user.id,
        email: user.email,
        steps,
        garbageToken: { status: garbage.status, code: garbage.code },
        refreshAfterLogout: { status: afterLogout.status, code: afterLogout.code },
        throttled: { status: throttled.status, code: throttled.code, retryAfter: throttled.retryAfter },
        ms: Date.now() - started,
      }),
    );
  } catch (e) {
    const why = e instanceof SmokeFailure || e instanceof AuthApiError ? e.message : e instanceof Error ? e.stack : String(e);
    console.error(`smoke: FAIL at step ${step} (after ${steps.length} passed: ${steps.join(", ") || "none"}): ${why}`);
    process.exit(1);
  }
}

main().catch((e: unknown) => {
  console.error(`smoke: FAIL: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
