// @ts-check
/**
 * Headless check of the HTML API reference served at <baseUrl>/auth/docs/.
 *
 *   node docs-check.mjs <baseUrl> [--screenshot <file.png>]
 *   npm run docs-check -- http://127.0.0.1:8080 --screenshot /tmp/docs.png
 *
 * Uses the system Chromium (/usr/bin/chromium, or $CHROMIUM_PATH) through playwright-core;
 * never downloads a browser. Passes when the page renders one [data-operation-id] element
 * per operationId of <baseUrl>/auth/openapi.json, with no console error or warning, no
 * uncaught page error, no failed request and no HTTP error answer. Prints one JSON line;
 * exits 0 on success, 1 otherwise. Optional: DOCS_CHECK_TIMEOUT_MS (default 30000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const shotAt = args.indexOf("--screenshot");
const screenshot = shotAt >= 0 ? args.splice(shotAt, 2)[1] : process.env.DOCS_SCREENSHOT;
const baseUrl = (args[0] || process.env.AUTH_BASE_URL || "").replace(/\/+$/, "");
if (!baseUrl) {
  console.error("usage: node docs-check.mjs <baseUrl> [--screenshot <file.png>]  (or AUTH_BASE_URL)");
  process.exit(1);
}
const timeout = Number(process.env.DOCS_CHECK_TIMEOUT_MS) || 30_000;
const docsUrl = `${baseUrl}/auth/docs/`;
const specUrl = `${baseUrl}/auth/openapi.json`;
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

async function main() {
  const ids = await operationIds();
  const userDataDir = mkdtempSync(join(tmpdir(), "docs-check-chromium-"));
  /** @type {string[]} */
  const problems = [];
  /** @type {(err: Error) => void} */
  let onPageError = () => {};
  const pageErrored = new Promise((_, reject) => { onPageError = reject; });
  pageErrored.catch(() => {});
  let title = "";
  let rendered = 0;
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
      onPageError(new Error("the page threw before it finished rendering"));
    });
    page.on("requestfailed", (req) => problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
    page.on("response", (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    });

    const response = await page.goto(docsUrl, { waitUntil: "load" });
    if (!response || !response.ok()) throw new Error(`GET ${docsUrl}: HTTP ${response ? response.status() : "no response"}`);
    const type = response.headers()["content-type"] || "";
    if (!type.startsWith("text/html")) problems.push(`${docsUrl} has Content-Type ${JSON.stringify(type)}, expected text/html`);

    await Promise.race([page.waitForFunction(() => document.body.dataset.state !== "loading"), pageErrored]);
    const state = await page.evaluate(() => document.body.dataset.state);
    if (state !== "ready") {
      const shown = await page.locator("#error").innerText().catch(() => "");
      throw new Error(`page did not render (state ${state}): ${shown}`);
    }

    const found = await page.$$eval("[data-operation-id]", (els) => els.map((e) => e.getAttribute("data-operation-id") || ""));
    const missing = ids.filter((id) => !found.includes(id));
    const duplicated = [...new Set(found.filter((id, i) => found.indexOf(id) !== i))];
    const unknown = found.filter((id) => !ids.includes(id));
    if (missing.length) problems.push(`no element for operationId(s): ${missing.join(", ")}`);
    if (duplicated.length) problems.push(`several elements for operationId(s): ${duplicated.join(", ")}`);
    if (unknown.length) problems.push(`elements for operationIds not in the spec: ${unknown.join(", ")}`);

    rendered = found.length;
    title = await page.title();
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  } finally {
    if (screenshot) await context.pages()[0]?.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  for (const p of problems) fail(p);
  const summary = { ok: problems.length === 0, url: docsUrl, title, operations: ids.length, rendered, problems: problems.length, screenshot: screenshot || null };
  (summary.ok ? console.log : console.error)(JSON.stringify(summary));
}

main().catch((err) => {
  fail(err instanceof Error ? err.message : String(err));
});
