// @ts-check
// Prints api/openapi.yaml as JSON (what the service serves at /auth/openapi.json),
// or writes it to the file given as the first argument.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const spec = resolve(dirname(fileURLToPath(import.meta.url)), "../../../api/openapi.yaml");
const json = JSON.stringify(parse(readFileSync(spec, "utf8")), null, 2) + "\n";
const out = process.argv[2];
if (out) writeFileSync(out, json);
else process.stdout.write(json);
