/**
 * createAuthSession in Chromium, for the cross-tab part: two tabs of one origin sharing
 * localStorage, Web Locks and the cookie jar call the real service for several access-token
 * lifetimes (2 s) with a 1 s grace interval, in the cookie transport, in the body transport, and
 * in the body transport over the BroadcastChannel fallback. The page is served from its own
 * origin, another port of 127.0.0.1, which the service allows (AUTH_CORS_ALLOWED_ORIGINS), so
 * every call is a real cross-origin request with its CORS preflight, and the cookie is
 * `refresh` without Secure (AUTH_COOKIE_SECURE=false) over plain HTTP.
 *
 * Uses the system Chromium (/usr/bin/chromium, or $CHROMIUM_PATH) through playwright-core; it
 * never downloads a browser. Without one it skips, except under CI=true, where it fails.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type {} from "./browser-page.js"; // window.sessionTest
import { MAX_REFRESHES, MIN_REFRESHES, overlappingRefreshes, RUN_MS } from "./recorder.js";
import { startService, type RunningService } from "./service.js";

const EMAIL = "browser@example.com";
const PASSWORD = "browser-password-1";
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>loading</title>
<script type="importmap">{ "imports": { "openapi-fetch": "/vendor/openapi-fetch.mjs" } }</script>
<script type="module" src="/dist/test/browser-page.js"></script>
`;

/** Serves the test page, the compiled client (dist/) and openapi-fetch, on a free port. */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const dist = join(pkg, "dist");
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://page").pathname;
    let file: string | undefined;
    if (path === "/") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(PAGE);
      return;
    } else if (path === "/vendor/openapi-fetch.mjs") {
      file = join(pkg, "node_modules/openapi-fetch/dist/index.mjs");
    } else if (path.startsWith("/dist/") && path.endsWith(".js")) {
      const candidate = resolve(dist, `.${path.slice("/dist".length)}`);
      if (candidate.startsWith(dist + sep)) file = candidate;
    }
    if (!file || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("createAuthSession in Chromium: two tabs", { skip: !existsSync(chromiumPath) && process.env.CI !== "true" && `no Chromium at ${chromiumPath}` }, () => {
  let svc: RunningService;
  let page: { server: Server; origin: string };
  let context: BrowserContext;
  let userDataDir: string;
  let tabs: Page[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    page = await servePage();
    svc = await startService(
      {
        AUTH_ACCESS_TOKEN_TTL: "2s",
        AUTH_REFRESH_REUSE_INTERVAL: "1s",
        AUTH_REFRESH_COOKIE: "on",
        AUTH_COOKIE_SECURE: "false",
        AUTH_CORS_ALLOWED_ORIGINS: page.origin,
      },
      [[EMAIL, PASSWORD]],
    );
    userDataDir = mkdtempSync(join(tmpdir(), "session-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
      timeout: 30_000,
    });
    tabs = [context.pages()[0] ?? (await context.newPage()), await context.newPage()];
    for (const [i, tab] of tabs.entries()) {
      tab.on("pageerror", (e) => pageErrors.push(`tab ${i}: ${e.message}`));
      await tab.goto(`${page.origin}/`);
      await tab.waitForFunction(() => document.title === "ready", undefined, { timeout: 15_000 });
    }
  });

  after(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await svc?.stop();
    await new Promise((resolve) => page?.server.close(resolve));
  });

  const scenarios = [
    { transport: "cookie", lock: "default" },
    { transport: "body", lock: "default" },
    { transport: "body", lock: "broadcast" },
  ] as const;
  for (const { transport, lock } of scenarios) {
    test(`${transport} transport, ${lock === "default" ? "Web Locks" : "BroadcastChannel"}`, async () => {
      const [a, b] = tabs as [Page, Page];
      for (const tab of tabs) {
        await tab.evaluate(([url, tr, l]) => window.sessionTest.start(url, tr, l), [svc.url, transport, lock] as const);
      }
      await a.evaluate(([e, p]) => window.sessionTest.login(e, p), [EMAIL, PASSWORD] as const);
      assert.equal(await b.evaluate(() => window.sessionTest.resume()), true, "the second tab picks up the session");

      const statuses = await Promise.all(tabs.map((tab) => tab.evaluate((ms) => window.sessionTest.hammer(4, ms), RUN_MS)));
      const tallies = await Promise.all(tabs.map((tab) => tab.evaluate(() => window.sessionTest.tally())));
      const refreshes = tallies.map((t) => t.refreshes.length);
      console.log(`chromium, ${transport}, ${lock} lock, 2 tabs x 4 callers, ${RUN_MS} ms: ` +
        `/me ${JSON.stringify(statuses)}, refreshes per tab ${JSON.stringify(refreshes)}, codes ${JSON.stringify(tallies.map((t) => t.codes))}`);

      assert.deepEqual(statuses.map((s) => Object.keys(s)), [["200"], ["200"]], "every call succeeds");
      assert.equal(overlappingRefreshes(...tallies), 0, "the tabs never refreshed at once");
      const total = refreshes[0]! + refreshes[1]!;
      assert.ok(total >= MIN_REFRESHES && total <= MAX_REFRESHES, `${total} refreshes in ${RUN_MS} ms for both tabs`);
      for (const t of tallies) assert.equal(t.codes.token_reused ?? 0, 0, "no tab saw token_reused");
      assert.equal(svc.reuseDetected(), 0, "the service detected no refresh token reuse");

      const seen = await a.evaluate(() => window.sessionTest.visible());
      if (lock === "default") assert.equal(seen.webLocks, true, "Chromium has Web Locks");
      if (transport === "cookie") {
        assert.ok(seen.stored && !seen.stored.includes('"refresh"'), `no refresh token in localStorage: ${seen.stored}`);
        assert.ok(!seen.cookies.includes("refresh="), `the HttpOnly cookie is out of the page's reach: ${seen.cookies}`);
      }

      await b.evaluate(() => window.sessionTest.logout());
      assert.equal(await a.evaluate(() => window.sessionTest.accessTokenError()), "not_logged_in", "logout in one tab ends the other's");
      assert.deepEqual(pageErrors, []);
    });
  }
});
