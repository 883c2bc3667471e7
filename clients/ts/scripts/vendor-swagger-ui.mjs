// @ts-check
/**
 * Vendors Swagger UI into the service binary's embedded files.
 *
 *   npm run vendor-swagger-ui            copy the files and write PROVENANCE.txt
 *   npm run vendor-swagger-ui -- --check exit 1 if the vendored files differ from what
 *                                        the pinned package would give (make lint runs this)
 *
 * The version is the exact one pinned in package.json's devDependencies (and so in
 * package-lock.json, with its integrity hash); `npm ci` installs it into node_modules, and this
 * script copies only the files the page needs, plus the licence and notices, unchanged, into
 * internal/httpapi/docs/swagger-ui/. To upgrade:
 *   npm install --save-exact --save-dev swagger-ui-dist@X.Y.Z && npm run vendor-swagger-ui
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const PKG = "swagger-ui-dist";
/** The files the page loads, then Swagger UI's licence and the notices of what its bundle contains. */
const FILES = [
  "swagger-ui-bundle.js",
  "swagger-ui.css",
  "favicon-32x32.png",
  "favicon-16x16.png",
  "LICENSE",
  "NOTICE",
  "swagger-ui-bundle.js.LICENSE.txt",
];
const PROVENANCE = "PROVENANCE.txt";

const here = dirname(fileURLToPath(import.meta.url));
const clientDir = join(here, "..");
const source = join(clientDir, "node_modules", PKG);
const target = join(clientDir, "..", "..", "internal", "httpapi", "docs", "swagger-ui");
const check = process.argv.includes("--check");
const shown = relative(process.cwd(), target);

/** @param {string} path */
const readJSON = (path) => JSON.parse(readFileSync(path, "utf8"));

function main() {
  const pinned = readJSON(join(clientDir, "package.json")).devDependencies?.[PKG];
  if (!/^\d+\.\d+\.\d+$/.test(pinned || "")) {
    throw new Error(`package.json must pin ${PKG} to an exact version (npm install --save-exact), got ${JSON.stringify(pinned)}`);
  }
  const locked = readJSON(join(clientDir, "package-lock.json")).packages?.[`node_modules/${PKG}`];
  if (!locked || locked.version !== pinned || !locked.integrity) {
    throw new Error(`package-lock.json does not lock ${PKG}@${pinned} with an integrity hash: run npm install`);
  }
  if (!existsSync(join(source, "package.json"))) {
    throw new Error(`${source} is missing: run npm ci in clients/ts`);
  }
  const installed = readJSON(join(source, "package.json"));
  if (installed.version !== pinned) {
    throw new Error(`node_modules has ${PKG}@${installed.version}, package.json pins ${pinned}: run npm ci`);
  }

  /** @type {Map<string, Buffer>} what the vendored directory must hold */
  const want = new Map();
  for (const f of FILES) want.set(f, readFileSync(join(source, f)));
  const sums = FILES.map((f) => `${createHash("sha256").update(/** @type {Buffer} */ (want.get(f))).digest("hex")}  ${f}`);
  want.set(PROVENANCE, Buffer.from([
    `${PKG} ${pinned} (licence: ${installed.license}), from the npm registry.`,
    `Locked in clients/ts/package-lock.json with integrity ${locked.integrity}.`,
    "Copied unchanged by clients/ts/scripts/vendor-swagger-ui.mjs: never edit these files by hand.",
    "",
    "sha256 of each file:",
    ...sums,
    "",
  ].join("\n")));

  const present = existsSync(target) ? readdirSync(target) : [];
  const extra = present.filter((f) => !want.has(f));
  const differing = [...want].filter(([f, data]) => !present.includes(f) || !readFileSync(join(target, f)).equals(data)).map(([f]) => f);

  if (check) {
    if (extra.length || differing.length) {
      console.error(`vendor-swagger-ui: ${shown} is not ${PKG}@${pinned}:` +
        (differing.length ? ` differs or missing: ${differing.join(", ")};` : "") +
        (extra.length ? ` not vendored by this script: ${extra.join(", ")};` : "") +
        " run `npm run vendor-swagger-ui` in clients/ts");
      process.exitCode = 1;
      return;
    }
    console.log(`vendor-swagger-ui: ${PKG}@${pinned} vendored in ${shown}, ${want.size} files match`);
    return;
  }
  mkdirSync(target, { recursive: true });
  for (const f of extra) rmSync(join(target, f));
  for (const f of differing) writeFileSync(join(target, f), /** @type {Buffer} */ (want.get(f)));
  console.log(`vendor-swagger-ui: ${PKG}@${pinned} -> ${shown} (${differing.length} files written, ${extra.length} removed)`);
}

try {
  main();
} catch (err) {
  console.error(`vendor-swagger-ui: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
