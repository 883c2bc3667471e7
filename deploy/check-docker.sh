#!/usr/bin/env bash
# Static checks of the container setup; needs no Docker engine and installs nothing.
#   1. Dockerfile: static build of ./cmd/auth-service, non-root numeric USER, HEALTHCHECK, ...
#   2. docker-compose.yml: `docker compose config` (or docker-compose) when a client is there;
#      its structure is checked by deploy/compose_test.go (compose-go) in `make test`.
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
	skip "no docker compose client"
fi
# The structure (services, healthchecks, start order, published ports, no secret with a
# default) is checked by deploy/compose_test.go with compose-go, in `make test`.
printf '  note  %s\n' "structure: checked by go test ./deploy/ (compose-go), not here"

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
