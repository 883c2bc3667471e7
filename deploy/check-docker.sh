#!/usr/bin/env bash
# Static checks of the container setup; needs no Docker engine and installs nothing.
#   1. Dockerfile: static build of ./cmd/auth-service, non-root numeric USER, HEALTHCHECK, ...
#   2. docker-compose.yml: `docker compose config` (or docker-compose) when a client is there,
#      else a structural check with python3 + PyYAML of what this project relies on.
#   3. nginx gateway template: rendered with envsubst and `nginx -t` against standalone.conf,
#      when nginx and envsubst are installed (Debian: apt-get install nginx gettext-base).
# Exits non-zero on the first failed group; prints what it checked. Run from anywhere.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
failed=0

ok()   { printf '  ok    %s\n' "$*"; }
bad()  { printf '  FAIL  %s\n' "$*"; failed=1; }
skip() { printf '  SKIP  %s\n' "$*"; }

# need FILE REGEX DESCRIPTION: FILE has a line matching the extended REGEX.
need() {
	if grep -Eq -- "$2" "$1"; then ok "$3"; else bad "$3 (no line matching /$2/ in $1)"; fi
}

echo "== Dockerfile"
df=Dockerfile
need "$df" '^FROM[[:space:]]+golang:1\.26([.-][^[:space:]]*)?[[:space:]]+AS[[:space:]]+[a-z]+' "builder stage FROM golang:1.26"
need "$df" 'CGO_ENABLED=0' "CGO_ENABLED=0"
need "$df" 'go build .*-trimpath' "go build -trimpath"
need "$df" 'go build .*\./cmd/auth-service' "builds ./cmd/auth-service"
need "$df" '^RUN .*go mod download' "go mod download layer"
need "$df" '^COPY go\.mod go\.sum' "go.mod/go.sum copied before the sources"
need "$df" '^EXPOSE[[:space:]]+8000' "EXPOSE 8000"
need "$df" '^HEALTHCHECK .*' "HEALTHCHECK present"
need "$df" 'CMD \["auth-service", *"healthcheck"\]' "HEALTHCHECK runs auth-service healthcheck"
need "$df" '^ENTRYPOINT \["auth-service"\]' "ENTRYPOINT is auth-service (on PATH)"
last_user="$(grep -E '^USER[[:space:]]' "$df" | tail -n1 | awk '{print $2}')"
if [[ "$last_user" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]]; then
	ok "final USER is numeric and non-root ($last_user)"
else
	bad "final USER must be a numeric non-root uid, got '${last_user:-none}'"
fi
if [[ -f .dockerignore ]] && grep -qx '.git' .dockerignore; then
	ok ".dockerignore excludes .git"
else
	bad ".dockerignore missing or does not exclude .git"
fi

echo "== docker-compose.yml"
compose=docker-compose.yml
if docker compose version >/dev/null 2>&1; then
	if AUTH_SECRET_KEY="${AUTH_SECRET_KEY:-x}" docker compose -f "$compose" config --quiet; then
		ok "docker compose config --quiet"
	else
		bad "docker compose config"
	fi
elif command -v docker-compose >/dev/null 2>&1; then
	if docker-compose -f "$compose" config --quiet; then
		ok "docker-compose config --quiet"
	else
		bad "docker-compose config"
	fi
else
	skip "no docker compose client: structural check only"
fi
if python3 -c 'import yaml' 2>/dev/null; then
	if python3 - "$compose" <<'PY'
import sys, yaml

path = sys.argv[1]
with open(path) as f:
    doc = yaml.safe_load(f)
errors = []
def check(cond, what):
    print(("  ok    " if cond else "  FAIL  ") + what)
    if not cond:
        errors.append(what)

services = doc.get("services") or {}
check(set(services) == {"auth-service", "auth-db", "gateway"},
      "services are exactly auth-service, auth-db, gateway")
svc = services.get("auth-service") or {}
db = services.get("auth-db") or {}
gw = services.get("gateway") or {}
env = svc.get("environment") or {}
check(isinstance(env, dict), "auth-service environment is a mapping")
check(svc.get("build") in (".", {"context": "."}) or (isinstance(svc.get("build"), dict) and svc["build"].get("context") == "."),
      "auth-service is built from .")
check("container_name" not in svc, "auth-service has no container_name (--scale works)")
check("ports" not in svc, "auth-service publishes no port")
check("8000" in [str(p) for p in svc.get("expose") or []], "auth-service exposes 8000")
check(str(env.get("AUTH_DATABASE_URL", "")).startswith("postgres://") and "@auth-db:5432/" in str(env.get("AUTH_DATABASE_URL", "")),
      "AUTH_DATABASE_URL points at auth-db")
check("AUTH_SECRET_KEY" in env, "AUTH_SECRET_KEY is set")
check(str(env.get("AUTH_MIGRATE_ON_START")).lower() == "true", "AUTH_MIGRATE_ON_START is true")
gw = services.get("gateway") or {}
for name in ("AUTH_LISTEN_ADDR", "AUTH_ACCESS_TOKEN_TTL", "AUTH_REFRESH_TOKEN_TTL", "AUTH_LOG_LEVEL",
             "AUTH_JWT_ALGORITHM", "AUTH_JWT_PRIVATE_KEYS", "AUTH_REFRESH_REUSE_INTERVAL"):
    check(name in env, f"{name} is passed to auth-service")
deps = svc.get("depends_on") or {}
check(isinstance(deps, dict) and (deps.get("auth-db") or {}).get("condition") == "service_healthy",
      "auth-service waits for auth-db to be healthy")
check(svc.get("restart") == "unless-stopped", "auth-service restart: unless-stopped")
hc = svc.get("healthcheck") or {}
check("--ready" in [str(x) for x in hc.get("test") or []], "auth-service healthcheck is readiness (healthcheck --ready)")
check("AUTH_TRUSTED_PROXIES" in env, "auth-service trusts the gateway's network (AUTH_TRUSTED_PROXIES)")
grace = str(svc.get("stop_grace_period", ""))
check(grace.endswith("s") and grace[:-1].isdigit() and int(grace[:-1]) >= 20,
      "auth-service stop_grace_period covers the drain and the shutdown wait (>= 20s)")
nets = doc.get("networks") or {}
subnets = [c.get("subnet") for c in ((nets.get("gateway") or {}).get("ipam") or {}).get("config") or []]
check(len(subnets) == 1 and str(env.get("AUTH_TRUSTED_PROXIES")) == str(subnets[0]),
      "AUTH_TRUSTED_PROXIES is the gateway network's subnet")
check("gateway" in (svc.get("networks") or []) and (gw.get("networks") or []) == ["gateway"],
      "the gateway reaches the replicas on the gateway network only")
check("gateway" not in (db.get("networks") or []), "the database is not on the gateway network")

check(str(db.get("image", "")).startswith("postgres:16"), "auth-db is postgres:16")
check("ports" not in db, "auth-db publishes no port")
check("healthcheck" in db and "pg_isready" in str(db["healthcheck"].get("test")), "auth-db healthcheck uses pg_isready")
check(any(str(v).startswith("auth-db-data:") for v in db.get("volumes") or []), "auth-db stores data in volume auth-db-data")
volumes = doc.get("volumes") or {}
check("auth-db-data" in volumes, "volume auth-db-data is declared")
users = [n for n, s in services.items() if any(str(v).startswith("auth-db-data:") for v in (s or {}).get("volumes") or [])]
check(users == ["auth-db"], "auth-db-data is mounted by auth-db only")

check(str(gw.get("image", "")).startswith("nginx:1.27"), "gateway is nginx:1.27")
ports = [s.get("ports") for s in services.values() if (s or {}).get("ports")]
check(len(ports) == 1 and "ports" in gw, "gateway is the only service publishing a port")
check(any("deploy/nginx/templates:/etc/nginx/templates" in str(v) for v in gw.get("volumes") or []),
      "gateway mounts deploy/nginx/templates")
genv = gw.get("environment") or {}
for name in ("AUTH_UPSTREAM", "GATEWAY_LISTEN"):
    check(name in genv, f"gateway sets {name}")
check(str(genv.get("AUTH_UPSTREAM", "")) == "auth-service:8000", "gateway upstream is auth-service:8000")
sys.exit(1 if errors else 0)
PY
	then :; else failed=1; fi
else
	skip "python3 with PyYAML not available: compose structure not checked"
fi

echo "== nginx gateway template"
tmpl=deploy/nginx/templates/default.conf.template
main=deploy/nginx/standalone.conf
for v in AUTH_UPSTREAM GATEWAY_LISTEN; do
	need "$tmpl" "\\\$\\{$v\\}" "template uses \${$v}"
done
if command -v nginx >/dev/null 2>&1 && command -v envsubst >/dev/null 2>&1; then
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/conf.d"
	cp "$main" "$tmp/standalone.conf"
	AUTH_UPSTREAM=127.0.0.1:18001 GATEWAY_LISTEN=127.0.0.1:18080 \
		envsubst '${AUTH_UPSTREAM} ${GATEWAY_LISTEN}' <"$tmpl" >"$tmp/conf.d/default.conf"
	if grep -q '\${' "$tmp/conf.d/default.conf"; then
		bad "rendered template still contains \${...}"
	else
		ok "template renders with envsubst"
	fi
	if out="$(nginx -e stderr -t -p "$tmp/" -c "$tmp/standalone.conf" 2>&1 </dev/null)"; then
		ok "nginx -t: $(nginx -v 2>&1 | sed 's/^nginx version: //') accepts the rendered template"
	else
		printf '%s\n' "$out"
		bad "nginx -t on the rendered template"
	fi
else
	skip "nginx or envsubst not installed: template not rendered (apt-get install nginx gettext-base)"
fi

if ((failed)); then
	echo "check-docker: FAILED"
	exit 1
fi
echo "check-docker: all checks passed"
