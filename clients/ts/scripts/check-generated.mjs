// @ts-check
// Fails when gen/ts/schema.d.ts is not what `npm run generate` makes from api/openapi.yaml.
// Regenerates into a temp dir, compares byte for byte, prints a diff on drift.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "..");
const spec = resolve(pkg, "../../api/openapi.yaml");
const committed = resolve(pkg, "../../gen/ts/schema.d.ts");
const bin = resolve(pkg, "node_modules/.bin/openapi-typescript");

const dir = mkdtempSync(join(tmpdir(), "auth-schema-"));
try {
  const fresh = join(dir, "schema.d.ts");
  execFileSync(bin, [spec, "-o", fresh], { stdio: ["ignore", "ignore", "inherit"] });
  let current;
  try {
    current = readFileSync(committed);
  } catch {
    console.error(`check-generated: ${committed} is missing; run \`npm run generate\``);
    process.exit(1);
  }
  if (Buffer.compare(current, readFileSync(fresh)) !== 0) {
    spawnSync("diff", ["-u", committed, fresh], { stdio: "inherit" });
    console.error("check-generated: gen/ts/schema.d.ts is stale; run `npm run generate` in clients/ts and commit it");
    process.exit(1);
  }
  console.log("check-generated: gen/ts/schema.d.ts is up to date with api/openapi.yaml");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
