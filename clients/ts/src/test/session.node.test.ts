/**
 * createAuthSession against the real service under Node.js: concurrent callers in one "tab",
 * two "tabs" sharing a storage (and, in the cookie transport, a cookie jar, as a browser's tabs
 * do), the retry after a 401, and the end of a session. Access tokens live 2 s, so every test
 * goes through several refreshes; the grace interval is 1 s, so a tab that presented a refresh
 * token another tab had retired a refresh earlier would be caught as reuse.
 *
 * Node.js 20 has no Web Locks: the tabs here coordinate through the BroadcastChannel fallback.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createAuthClient } from "../client.js";
import { broadcastChannelLock, createAuthSession, memoryStorage, SessionEndedError, type AuthSession, type SessionStorage, type TokenTransport } from "../session.js";
import { hammer, MAX_REFRESHES, MIN_REFRESHES, overlappingRefreshes, recordingFetch, RUN_MS, type Tally } from "./recorder.js";
import { startService, type RunningService } from "./service.js";

const EMAIL = "session@example.com";
const PASSWORD = "session-password-1";

/**
 * A cookie jar shared by the "tabs" of one browser, in front of fetch. Like a browser, it sends
 * the page's Origin (here the service's own) on every POST, which the cookie transport requires.
 */
function cookieJarFetch(inner: typeof fetch) {
  const jar = new Map<string, string>();
  const wrapped = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const headers = new Headers(request.headers);
    if (request.method === "POST") headers.set("Origin", new URL(request.url).origin);
    if (request.credentials === "include" && jar.size > 0) {
      headers.set("Cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const response = await inner(new Request(request, { headers }));
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      if (attrs.some((a) => a.trim().toLowerCase() === "max-age=0")) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1).trim());
    }
    return response;
  };
  return { jar, fetch: wrapped as typeof fetch };
}

/**
 * Storages for `n` tabs over one store, each tab seeing the others' writes only `lagMs` later, as
 * Chromium's tabs see each other's localStorage writes (asynchronously, possibly after a lock has
 * changed hands).
 */
function laggingStorages(n: number, lagMs: number) {
  const views = Array.from({ length: n }, () => new Map<string, string>());
  return views.map((own) => ({
    getItem: (key: string) => own.get(key) ?? null,
    setItem(key: string, value: string) {
      own.set(key, value);
      for (const other of views) if (other !== own) setTimeout(() => other.set(key, value), lagMs);
    },
    removeItem(key: string) {
      own.delete(key);
      for (const other of views) if (other !== own) setTimeout(() => other.delete(key), lagMs);
    },
  }));
}

/** Calls GET /auth/me/ through the session and returns the final status. */
const me = (s: AuthSession) => async () => (await s.api.GET("/auth/me/")).response.status;

function assertNoReuse(svc: RunningService, tallies: Tally[], label: string) {
  for (const t of tallies) assert.equal(t.codes.token_reused ?? 0, 0, `${label}: a client saw token_reused: ${JSON.stringify(t)}`);
  assert.equal(svc.reuseDetected(), 0, `${label}: the service detected refresh token reuse`);
}

describe("createAuthSession against auth-service", () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService(
      {
        AUTH_ACCESS_TOKEN_TTL: "2s",
        AUTH_REFRESH_REUSE_INTERVAL: "1s",
        AUTH_REFRESH_COOKIE: "on",
        AUTH_COOKIE_SECURE: "false",
      },
      [[EMAIL, PASSWORD]],
    );
  });
  after(async () => {
    await svc?.stop();
  });

  test("one tab: eight concurrent callers, one refresh at a time", async () => {
    const rec = recordingFetch();
    const session = createAuthSession({ baseUrl: svc.url, storage: memoryStorage(), fetch: rec.fetch });
    await session.login(EMAIL, PASSWORD);
    const statuses = await hammer(8, RUN_MS, me(session));
    const refreshes = rec.tally.refreshes.length;
    console.log(`one tab, 8 callers, ${RUN_MS} ms: /me ${JSON.stringify(statuses)}, ${refreshes} refreshes`);
    assert.deepEqual(Object.keys(statuses), ["200"], `every call succeeds: ${JSON.stringify(statuses)}`);
    assert.equal(rec.tally.maxRefreshesInFlight, 1, "single-flight: never two refreshes at once");
    assert.ok(refreshes >= MIN_REFRESHES && refreshes <= MAX_REFRESHES, `${refreshes} refreshes in ${RUN_MS} ms`);
    assert.ok(rec.tally.refreshes.every((r) => r.status === 200));
    assertNoReuse(svc, [rec.tally], "one tab");
  });

  for (const transport of ["body", "cookie"] as TokenTransport[]) {
    test(`two tabs sharing a storage (${transport} transport)`, async () => {
      const storage = memoryStorage();
      const browser = cookieJarFetch(globalThis.fetch.bind(globalThis));
      const [recA, recB] = [recordingFetch(browser.fetch), recordingFetch(browser.fetch)];
      const tabA = createAuthSession({ baseUrl: svc.url, storage, transport, fetch: recA.fetch });
      const tabB = createAuthSession({ baseUrl: svc.url, storage, transport, fetch: recB.fetch });
      await tabA.login(EMAIL, PASSWORD);
      assert.equal(await tabB.resume(), true, "the second tab picks up the stored session");

      const [a, b] = await Promise.all([hammer(4, RUN_MS, me(tabA)), hammer(4, RUN_MS, me(tabB))]);
      const refreshes = recA.tally.refreshes.length + recB.tally.refreshes.length;
      console.log(`two tabs (${transport}), 4 callers each: A ${JSON.stringify(a)}, B ${JSON.stringify(b)}, ` +
        `${refreshes} refreshes (A ${recA.tally.refreshes.length}, B ${recB.tally.refreshes.length})`);
      assert.deepEqual([Object.keys(a), Object.keys(b)], [["200"], ["200"]]);
      assert.equal(overlappingRefreshes(recA.tally, recB.tally), 0, "the tabs never refreshed at once");
      assert.ok(refreshes >= MIN_REFRESHES && refreshes <= MAX_REFRESHES, `${refreshes} refreshes in ${RUN_MS} ms for both tabs`);
      assertNoReuse(svc, [recA.tally, recB.tally], `two tabs, ${transport}`);

      const stored = storage.getItem("auth-service.session") ?? "";
      if (transport === "cookie") {
        assert.ok(!stored.includes('"refresh"'), "the cookie transport keeps no refresh token in storage");
        assert.ok(browser.jar.has("refresh"), "the refresh token is in the cookie");
      } else {
        assert.ok(stored.includes('"refresh"'), "the body transport keeps the pair in storage");
      }

      await tabB.logout();
      assert.equal(tabA.loggedIn, false, "a logout ends the session in every tab");
      await assert.rejects(tabA.accessToken(), (e) => e instanceof SessionEndedError && e.code === "not_logged_in");
      if (transport === "cookie") assert.equal(browser.jar.size, 0, "logout cleared the cookie");
    });
  }

  test("two tabs whose storages lag behind each other's writes (as Chromium's localStorage does)", async () => {
    // The lag (150 ms) outlasts the lock's hand-over (about 40 ms for the BroadcastChannel
    // lock): without the lock's ledger the next holder would read, and present, the refresh
    // token the previous holder had just retired.
    const [storageA, storageB] = laggingStorages(2, 150) as [SessionStorage, SessionStorage];
    const [recA, recB] = [recordingFetch(), recordingFetch()];
    const tabA = createAuthSession({ baseUrl: svc.url, storage: storageA, fetch: recA.fetch });
    const tabB = createAuthSession({ baseUrl: svc.url, storage: storageB, fetch: recB.fetch });
    await tabA.login(EMAIL, PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await tabB.resume(), true, "the second tab picks up the stored session");

    const [a, b] = await Promise.all([hammer(4, RUN_MS, me(tabA)), hammer(4, RUN_MS, me(tabB))]);
    const refreshes = recA.tally.refreshes.length + recB.tally.refreshes.length;
    console.log(`two tabs, storages 150 ms apart: A ${JSON.stringify(a)}, B ${JSON.stringify(b)}, ` +
      `${refreshes} refreshes (A ${recA.tally.refreshes.length}, B ${recB.tally.refreshes.length})`);
    assert.deepEqual([Object.keys(a), Object.keys(b)], [["200"], ["200"]]);
    assert.ok(recA.tally.refreshes.length > 0 && recB.tally.refreshes.length > 0, "both tabs refreshed");
    assertNoReuse(svc, [recA.tally, recB.tally], "lagging storages");

    await tabB.logout();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(tabA.loggedIn, false, "a logout ends the session in every tab");
  });

  test("a 401 token_not_valid is refreshed and retried once", async () => {
    const raw = createAuthClient(svc.url);
    const pair = await raw.login(EMAIL, PASSWORD);
    // An access token the client cannot tell is bad (a signing key rolled, say): valid-looking
    // claims, a far expiry, a wrong signature.
    const [header = "", , signature = ""] = pair.access.split(".");
    const payload = btoa(JSON.stringify({ token_type: "access", iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 }))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const storage = memoryStorage();
    storage.setItem("auth-service.session", JSON.stringify({ access: `${header}.${payload}.${signature}`, refresh: pair.refresh, skewMs: 0 }));
    const rec = recordingFetch();
    const session = createAuthSession({ baseUrl: svc.url, storage, fetch: rec.fetch });

    const { data, response } = await session.api.GET("/auth/me/");
    assert.equal(response.status, 200);
    assert.equal(data?.email, EMAIL);
    assert.deepEqual(rec.tally.statuses, { "200": 2, "401": 1 }, "one 401, one refresh, one retry");
    assert.equal(rec.tally.codes.token_not_valid, 1);

    // The same through session.fetch, for services without an openapi-fetch client.
    storage.setItem("auth-service.session", JSON.stringify({ ...JSON.parse(storage.getItem("auth-service.session") ?? "{}"), access: `${header}.${payload}.${signature}` }));
    const res = await session.fetch(`${svc.url}/auth/me/`);
    assert.equal(res.status, 200);
    assert.equal(rec.tally.codes.token_not_valid, 2);
    assert.equal(rec.tally.refreshes.length, 2);
  });

  test("a session the service ends is ended in the client, once", async () => {
    const ends: string[] = [];
    const session = createAuthSession({ baseUrl: svc.url, storage: memoryStorage(), onSessionEnd: (e) => ends.push(e.code) });
    await session.login(EMAIL, PASSWORD);
    const access = await session.accessToken();
    await createAuthClient(svc.url).logoutAll(access); // from another device
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // the access token expires

    const { response } = await session.api.GET("/auth/me/");
    assert.equal(response.status, 401, "the call fails instead of retrying forever");
    assert.equal(session.loggedIn, false);
    assert.deepEqual(ends, ["token_not_valid"]);
    await assert.rejects(session.accessToken(), SessionEndedError);
  });

  test("the cookie transport resumes from the cookie after a reload", async () => {
    const browser = cookieJarFetch(globalThis.fetch.bind(globalThis));
    const first = createAuthSession({ baseUrl: svc.url, storage: memoryStorage(), transport: "cookie", fetch: browser.fetch });
    await first.login(EMAIL, PASSWORD);
    // A reload with an empty storage (sessionStorage in a new tab, or memoryStorage): the cookie remains.
    const reloaded = createAuthSession({ baseUrl: svc.url, storage: memoryStorage(), transport: "cookie", fetch: browser.fetch });
    assert.equal(await reloaded.resume(), true);
    assert.equal((await reloaded.api.GET("/auth/me/")).data?.email, EMAIL);
    await reloaded.logout();
    const fresh = createAuthSession({ baseUrl: svc.url, storage: memoryStorage(), transport: "cookie", fetch: browser.fetch });
    assert.equal(await fresh.resume(), false, "no cookie, no session");
  });
});

describe("broadcastChannelLock (the fallback without Web Locks)", () => {
  test("one holder at a time, also for a tab that opens its channel while another claims", async () => {
    let inside = 0;
    let most = 0;
    const section = async () => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inside--;
    };
    // Each trial: one tab claims; a new tab opens its channel (first use) during that claim's
    // settle time, or just after it, and claims too.
    const trials = 40;
    for (let i = 0; i < trials; i++) {
      const [first, late] = [broadcastChannelLock(), broadcastChannelLock()];
      const delayMs = (i % 10) * 6;
      await Promise.all([
        first.run("refresh", section),
        new Promise((resolve) => setTimeout(resolve, delayMs)).then(() => late.run("refresh", section)),
      ]);
      first.close();
      late.close();
    }
    // And under load: three tabs, two callers each, for 2 s.
    const tabs = [broadcastChannelLock(), broadcastChannelLock(), broadcastChannelLock()];
    let sections = 0;
    const deadline = Date.now() + 2_000;
    const worker = async (lock: (typeof tabs)[number]) => {
      while (Date.now() < deadline) {
        await lock.run("refresh", section);
        sections++;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
      }
    };
    await Promise.all(tabs.flatMap((lock) => [worker(lock), worker(lock)]));
    for (const lock of tabs) lock.close();
    console.log(`broadcastChannelLock: ${trials} late-tab trials, then 3 tabs x 2 callers for 2 s (${sections} sections): at most ${most} inside at once`);
    assert.equal(most, 1);
  });
});
