/**
 * Runs the real auth-service for the session tests: the binary from $AUTH_SERVICE_BIN (the Go
 * end-to-end test passes the one it built) or `go build`, on SQLite in a temporary directory,
 * listening on a free 127.0.0.1 port.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from dist/test/ (or src/test/) of clients/ts. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface RunningService {
  /** http://127.0.0.1:port */
  url: string;
  /** The service's JSON log lines so far. */
  log(): string;
  /** How many times the service logged a refresh token reuse (and revoked a session). */
  reuseDetected(): number;
  stop(): Promise<void>;
}

let built: string | undefined;

/** The auth-service binary: $AUTH_SERVICE_BIN, or one built once per process. */
export function serviceBinary(): string {
  if (process.env.AUTH_SERVICE_BIN) return process.env.AUTH_SERVICE_BIN;
  if (!built) {
    const dir = mkdtempSync(join(tmpdir(), "auth-session-bin-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, "auth-service");
    const r = spawnSync("go", ["build", "-o", out, "./cmd/auth-service"], { cwd: repoRoot, stdio: "inherit" });
    if (r.status !== 0) throw new Error(`go build ./cmd/auth-service failed (exit ${r.status})`);
    built = out;
  }
  return built;
}

/** The test's environment without any AUTH_* variable, then the service's settings, then extra. */
function serviceEnv(dir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AUTH_")) env[k] = v;
  return {
    ...env,
    AUTH_DATABASE_URL: `sqlite:${join(dir, "auth.db")}`,
    AUTH_SECRET_KEY: "session-test-secret-0123456789-abcdefghijklmnop",
    AUTH_LISTEN_ADDR: "127.0.0.1:0",
    AUTH_MIGRATE_ON_START: "true",
    AUTH_ARGON2_MEMORY_KIB: "1024",
    AUTH_ARGON2_ITERATIONS: "1",
    ...extra,
  };
}

/**
 * Creates the users (`createsuperuser --noinput --force-weak`), then starts `serve` with `env` and resolves
 * once it has logged the address it listens on.
 */
export async function startService(env: Record<string, string>, users: [string, string][]): Promise<RunningService> {
  const bin = serviceBinary();
  const dir = mkdtempSync(join(tmpdir(), "auth-session-"));
  for (const [email, password] of users) {
    // --force-weak: the fixtures' passwords are not the policy's business here.
    const r = spawnSync(bin, ["createsuperuser", "--email", email, "--noinput", "--force-weak"], {
      env: serviceEnv(dir, { ...env, AUTH_SUPERUSER_PASSWORD: password }),
      encoding: "utf8",
      timeout: 30_000,
    });
    if (r.status !== 0) throw new Error(`createsuperuser ${email}: ${r.stderr}${r.stdout}`);
  }
  const child = spawn(bin, ["serve"], { env: serviceEnv(dir, env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`auth-service did not listen within 20s:\n${out}${err}`)), 20_000);
    const look = () => {
      for (const line of out.split("\n")) {
        try {
          const l = JSON.parse(line) as { msg?: string; addr?: string };
          if (l.msg === "listening" && l.addr) {
            clearTimeout(timer);
            child.stdout.off("data", look);
            resolve(`http://${l.addr}`);
            return;
          }
        } catch {
          // not a JSON line (yet)
        }
      }
    };
    child.stdout.on("data", look);
    void exited.then(() => reject(new Error(`auth-service exited before listening:\n${out}${err}`)));
  });

  return {
    url,
    log: () => out,
    reuseDetected: () => out.split("\n").filter((l) => l.includes("refresh token reuse detected")).length,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
