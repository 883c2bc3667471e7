// @ts-check
/**
 * Headless check of the Swagger UI API reference served at <baseUrl>/auth/docs/.
 *
 *   node docs-check.mjs <baseUrl> [--login <email> <password>] [--screenshot <file.png>]
 *   npm run docs-check -- http://127.0.0.1:8080 --screenshot /tmp/docs.png
 *
 * Uses the system Chromium (/usr/bin/chromium, or $CHROMIUM_PATH) through playwright-core;
 * never downloads a browser. Passes when:
 *   - the page renders one Swagger UI operation block (.opblock) per operation of
 *     <baseUrl>/auth/openapi.json, each showing its operationId;
 *   - "Try it out" then "Execute" on GET /auth/health/ shows a 200 whose body holds
 *     auth-service-up;
 *   - with --login: "Try it out" on POST /auth/token/ with those credentials answers 200, the
 *     page then counts as authorized, and "Execute" on GET /auth/me/ shows a 200 with the email
 *     (the bearer token was filled in by the page, not by this script);
 *   - and nothing went wrong on the way: no console error or warning (a Content-Security-Policy
 *     violation is one), no uncaught page error, no failed request, no HTTP error answer, and
 *     no request to another origin (the page must work offline).
 * Prints one JSON line; exits 0 on success, 1 otherwise. Optional: DOCS_CHECK_TIMEOUT_MS
 * (default 30000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
/** Removes `--name` and its n values from args. @param {string} name @param {number} n */
function option(name, n) {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, n + 1).slice(1) : undefined;
}
const screenshot = option("--screenshot", 1)?.[0] || process.env.DOCS_SCREENSHOT;
const login = option("--login", 2);
const baseUrl = (args[0] || process.env.AUTH_BASE_URL || "").replace(/\/+$/, "");
if (!baseUrl || (login && login.length !== 2)) {
  console.error("usage: node docs-check.mjs <baseUrl> [--login <email> <password>] [--screenshot <file.png>]  (or AUTH_BASE_URL)");
  process.exit(1);
}
const timeout = Number(process.env.DOCS_CHECK_TIMEOUT_MS) || 30_000;
const docsUrl = `${baseUrl}/auth/docs/`;
const specUrl = `${baseUrl}/auth/openapi.json`;
const origin = new URL(baseUrl).origin;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** @param {string} message */
function fail(message) {
  console.error(`docs-check: FAIL: ${message}`);
  process.exitCode = 1;
}

/** @returns {Promise<string[]>} every operationId of the served spec, in document order */
async function operationIds() {
  const res = await fetch(specUrl, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(timeout) });
  if (!res.ok) throw new Error(`GET ${specUrl}: HTTP ${res.status}`);
  const spec = /** @type {{ paths?: Record<string, Record<string, { operationId?: string }>> }} */ (await res.json());
  const ids = [];
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      if (!op.operationId) throw new Error(`${m.toUpperCase()} ${path} has no operationId`);
      ids.push(op.operationId);
    }
  }
  if (!ids.length) throw new Error(`${specUrl} lists no operations`);
  return ids;
}

/**
 * The operation block whose displayed operationId is id (Swagger UI shows it with
 * displayOperationId, which the page turns on).
 * @param {import("playwright-core").Page} page @param {string} id
 */
function operation(page, id) {
  return page.locator(".opblock").filter({ has: page.locator(".opblock-summary-operation-id", { hasText: new RegExp(`^${id}$`) }) });
}

/**
 * Opens an operation, presses "Try it out", optionally fills the JSON body, presses "Execute",
 * and returns the status and body text Swagger UI shows for the live response.
 * @param {import("playwright-core").Page} page @param {string} id @param {object} [body]
 */
async function tryItOut(page, id, body) {
  const op = operation(page, id);
  if ((await op.count()) !== 1) throw new Error(`${id}: ${await op.count()} operation blocks`);
  if (!(await op.evaluate((el) => el.classList.contains("is-open")))) await op.locator(".opblock-summary").first().click();
  await op.locator("button.try-out__btn").click();
  if (body) await op.locator("textarea.body-param__text").fill(JSON.stringify(body));
  await op.locator("button.execute").click();
  const live = op.locator(".live-responses-table .response");
  await live.first().waitFor();
  const status = (await live.first().locator(".response-col_status").innerText()).trim();
  const text = await live.first().locator(".response-col_description").innerText();
  return { status, text };
}

async function main() {
  const ids = await operationIds();
  const userDataDir = mkdtempSync(join(tmpdir(), "docs-check-chromium-"));
  /** @type {string[]} */
  const problems = [];
  /** @type {(err: Error) => void} */
  let onPageError = () => {};
  const pageErrored = new Promise((_, reject) => { onPageError = reject; });
  pageErrored.catch(() => {});
  /** @type {Record<string, unknown>} */
  const seen = { title: "", rendered: 0, health: null, login: null };
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
    timeout,
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(timeout);
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warning") problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => {
      problems.push(`page error: ${err.message}`);
      onPageError(new Error("the page threw"));
    });
    page.on("request", (req) => {
      const url = new URL(req.url());
      if (!["data:", "blob:"].includes(url.protocol) && url.origin !== origin) problems.push(`request to another origin: ${req.method()} ${req.url()}`);
    });
    page.on("requestfailed", (req) => problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
    page.on("response", (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    });

    const response = await page.goto(docsUrl, { waitUntil: "load" });
    if (!response || !response.ok()) throw new Error(`GET ${docsUrl}: HTTP ${response ? response.status() : "no response"}`);
    const type = response.headers()["content-type"] || "";
    if (!type.startsWith("text/html")) problems.push(`${docsUrl} has Content-Type ${JSON.stringify(type)}, expected text/html`);

    // Swagger UI renders the operations once it has fetched and resolved the document.
    await Promise.race([page.locator(".opblock").first().waitFor(), pageErrored]);
    await Promise.race([page.waitForFunction((n) => document.querySelectorAll(".opblock").length >= n, ids.length), pageErrored])
      .catch(() => {}); // the comparison below says what is missing
    const found = await page.$$eval(".opblock .opblock-summary-operation-id", (els) => els.map((e) => (e.textContent || "").trim()));
    const blocks = await page.locator(".opblock").count();
    const missing = ids.filter((id) => !found.includes(id));
    const duplicated = [...new Set(found.filter((id, i) => found.indexOf(id) !== i))];
    const unknown = found.filter((id) => !ids.includes(id));
    if (missing.length) problems.push(`no operation block for operationId(s): ${missing.join(", ")}`);
    if (duplicated.length) problems.push(`several operation blocks for operationId(s): ${duplicated.join(", ")}`);
    if (unknown.length) problems.push(`operation blocks for operationIds not in the spec: ${unknown.join(", ")}`);
    if (blocks !== ids.length) problems.push(`${blocks} operation blocks for ${ids.length} operations`);
    seen.rendered = found.length;
    seen.title = await page.title();

    const health = await tryItOut(page, "getHealth");
    seen.health = health.status;
    if (health.status !== "200" || !health.text.includes("auth-service-up")) {
      problems.push(`try it out on GET /auth/health/: status ${health.status}, body ${JSON.stringify(health.text.slice(0, 200))}`);
    }

    if (login) {
      const [email = "", password = ""] = login;
      const token = await tryItOut(page, "obtainToken", { email, password });
      if (token.status !== "200") throw new Error(`try it out on POST /auth/token/: status ${token.status}`);
      // The page's response interceptor fills in the bearer token; Swagger UI then shows the
      // Authorize button locked.
      await page.locator(".auth-wrapper .btn.authorize.locked").waitFor().catch(() => {
        throw new Error("after a 200 from POST /auth/token/ the page did not fill in the bearer token");
      });
      const me = await tryItOut(page, "getMe");
      seen.login = me.status;
      if (me.status !== "200" || !me.text.includes(email)) {
        problems.push(`try it out on GET /auth/me/ after the login: status ${me.status}, body ${JSON.stringify(me.text.slice(0, 200))}`);
      }
    }
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  } finally {
    if (screenshot) await context.pages()[0]?.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  for (const p of problems) fail(p);
  const summary = { ok: problems.length === 0, url: docsUrl, operations: ids.length, ...seen, problems: problems.length, screenshot: screenshot || null };
  (summary.ok ? console.log : console.error)(JSON.stringify(summary));
}

main().catch((err) => {
  fail(err instanceof Error ? err.message : String(err));
});
