#!/usr/bin/env bash
# Builds the Dockerfile and runs the image for real (`make image-test`), with podman, since no
# Docker engine runs here: ../shared/container/ (or $CONTAINER_TOOLS) supplies local stand-ins for
# the base images and `podman-here`. See its README.
#   1. local base images, then `podman-here build --format docker --network host --pull=never`;
#   2. the embedded default (SQLite on /data): serve with --read-only and /data as a volume;
#   3. PostgreSQL on 127.0.0.1:5432 (a fresh database, dropped afterwards): a one-off `migrate`
#      container, then serve with --read-only and nothing writable mounted;
#   each serve is checked: health, the image's HEALTHCHECK, createsuperuser through exec, login
#   and /auth/me/, uid 65532, the read-only root, and SIGTERM (`stop -t 15`) exiting 0;
#   4. the image size, which must stay under 25 MB.
# Needs root (podman), curl, ss, and PostgreSQL's createdb/dropdb. Bounded: the whole run is
# killed after IMAGE_TEST_TIMEOUT seconds (default 2700: the build alone takes about 4 minutes on
# 2 idle cores, and took 17 while other builds shared them). Containers and the database are
# removed on exit, whatever happened.
set -euo pipefail

limit=${IMAGE_TEST_TIMEOUT:-2700}
if [[ -z ${IMAGE_TEST_BOUNDED:-} ]]; then
	# timeout signals its whole process group, so the build is stopped too; the traps below then
	# clean up, and -k kills whatever ignores the signal.
	IMAGE_TEST_BOUNDED=1 exec timeout -k 30 "$limit" bash "$0" "$@"
fi

root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$root"
tools=${CONTAINER_TOOLS:-$root/../shared/container}
# Through bash: the shared copy may lack execute bits.
podman=(bash "$tools/podman-here")
image=${IMAGE_TEST_TAG:-auth-service:test}
max_bytes=$((25 * 1000 * 1000)) # 25 MB, as podman counts (decimal)
stop_timeout=15                  # seconds from SIGTERM to SIGKILL; the drain must fit in it
pg_host=127.0.0.1
pg_user=postgres
run_id="auth-image-test-$$"

containers=()
database=""
workdir=$(mktemp -d)
# podman's stderr for run and stop: without systemd it complains there about healthcheck timers,
# harmlessly; shown only when podman itself fails.
: >"$workdir/podman.log"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for c in "${containers[@]}"; do
		"${podman[@]}" rm -f -t 0 "$c" >/dev/null 2>&1 || true
	done
	if [[ -n $database ]]; then
		dropdb --if-exists -h "$pg_host" -U "$pg_user" "$database" >/dev/null 2>&1 || true
	fi
	rm -rf "$workdir"
	if ((rc == 0)); then
		echo "image-test: PASS"
	else
		echo "image-test: FAIL (exit $rc)"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

step() { printf '\n--- %s\n' "$*"; }
ok() { printf '  ok    %s\n' "$*"; }
# fail MESSAGE [CONTAINER]: prints the container's last log lines, then stops the run.
fail() {
	printf '  FAIL  %s\n' "$1" >&2
	if [[ -n ${2:-} ]]; then
		echo "  last log lines of $2:" >&2
		"${podman[@]}" logs --tail 30 "$2" 2>&1 | sed 's/^/    /' >&2 || true
	fi
	exit 1
}

# free_port prints a TCP port nothing listens on at 127.0.0.1.
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 20000))
		if [[ -z $(ss -Htln "sport = :$p") ]]; then
			echo "$p"
			return
		fi
	done
	fail "no free port found"
}

# check_endpoint CONTAINER PORT METHOD PATH STATUS SUBSTRING [curl args...]: one request to the
# container's server; fails unless the status and a substring of the body are as expected.
# Prints the body.
check_endpoint() {
	local ctr=$1 port=$2 method=$3 path=$4 want_status=$5 want_body=$6
	shift 6
	local out status body
	out=$(curl -sS --max-time 10 -X "$method" -w '\n%{http_code}' "$@" "http://127.0.0.1:$port$path") ||
		fail "$method $path: curl failed" "$ctr"
	status=${out##*$'\n'}
	body=${out%$'\n'*}
	[[ $status == "$want_status" ]] || fail "$method $path: HTTP $status, want $want_status: $body" "$ctr"
	[[ $body == *"$want_body"* ]] || fail "$method $path: body lacks '$want_body': $body" "$ctr"
	ok "$method $path -> $status" >&2
	printf '%s' "$body"
}

# wait_serving CONTAINER PORT: waits up to 60 s for /auth/health/ to answer.
wait_serving() {
	local ctr=$1 port=$2
	for _ in $(seq 1 120); do
		if curl -sf --max-time 2 "http://127.0.0.1:$port/auth/health/" >/dev/null 2>&1; then
			return
		fi
		[[ $("${podman[@]}" inspect -f '{{.State.Running}}' "$ctr") == true ]] || fail "$ctr exited before serving" "$ctr"
		sleep 0.5
	done
	fail "$ctr did not serve /auth/health/ within 60 s" "$ctr"
}

# check_serving CONTAINER PORT LABEL: every check of a serving container, then SIGTERM.
check_serving() {
	local ctr=$1 port=$2 label=$3
	local email="image-test-$label@example.com" password="image-test-password-$RANDOM$RANDOM"
	wait_serving "$ctr" "$port"

	check_endpoint "$ctr" "$port" GET /auth/health/ 200 '"auth-service-up"' >/dev/null
	# Readiness: the database answers and the process is not draining.
	check_endpoint "$ctr" "$port" GET /auth/ready/ 200 '"ready"' >/dev/null
	# The readiness form of the healthcheck command, as compose's healthcheck runs it.
	"${podman[@]}" exec "$ctr" auth-service healthcheck --ready >"$workdir/ready.log" 2>&1 ||
		{ cat "$workdir/ready.log" >&2; fail "auth-service healthcheck --ready through exec" "$ctr"; }
	ok "auth-service healthcheck --ready through exec"

	# The image's HEALTHCHECK. podman prints harmless complaints about systemd timers here.
	if "${podman[@]}" healthcheck run "$ctr" >"$workdir/healthcheck.log" 2>&1; then
		ok "HEALTHCHECK (auth-service healthcheck) passes"
	else
		cat "$workdir/healthcheck.log" >&2
		fail "HEALTHCHECK failed" "$ctr"
	fi

	# The password travels in podman's environment, not on its command line.
	AUTH_SUPERUSER_PASSWORD=$password "${podman[@]}" exec -e AUTH_SUPERUSER_PASSWORD "$ctr" \
		auth-service createsuperuser --email "$email" --noinput >"$workdir/createsuperuser.log" 2>&1 ||
		{ cat "$workdir/createsuperuser.log" >&2; fail "createsuperuser through exec" "$ctr"; }
	ok "createsuperuser --noinput through exec: $(grep -m1 -i superuser "$workdir/createsuperuser.log" || true)"

	local pair access
	pair=$(check_endpoint "$ctr" "$port" POST /auth/token/ 200 '"refresh"' \
		-H 'Content-Type: application/json' --data-binary @- <<<"{\"email\":\"$email\",\"password\":\"$password\"}")
	access=$(sed -n 's/.*"access":"\([^"]*\)".*/\1/p' <<<"$pair")
	[[ -n $access ]] || fail "no access token in the login answer: $pair" "$ctr"
	check_endpoint "$ctr" "$port" GET /auth/me/ 200 "\"email\":\"$email\"" -H "Authorization: Bearer $access" >/dev/null

	local user pid uid gid readonly
	user=$("${podman[@]}" inspect -f '{{.Config.User}}' "$ctr")
	pid=$("${podman[@]}" inspect -f '{{.State.Pid}}' "$ctr")
	uid=$(stat -c %u "/proc/$pid")
	gid=$(stat -c %g "/proc/$pid")
	[[ $user == 65532:65532 && $uid == 65532 && $gid == 65532 ]] ||
		fail "runs as uid $uid gid $gid (image USER '$user'), want 65532" "$ctr"
	ok "runs as 65532:65532 (image USER $user; /proc/$pid owned by $uid:$gid)"
	readonly=$("${podman[@]}" inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$ctr")
	[[ $readonly == true ]] || fail "the root filesystem is not read-only" "$ctr"
	ok "serves with a read-only root filesystem"

	local started=$SECONDS code
	"${podman[@]}" stop -t "$stop_timeout" "$ctr" >/dev/null 2>>"$workdir/podman.log" ||
		{ cat "$workdir/podman.log" >&2; fail "podman stop" "$ctr"; }
	code=$("${podman[@]}" inspect -f '{{.State.ExitCode}}' "$ctr")
	[[ $code == 0 ]] || fail "exit code $code after SIGTERM, want 0 (137 means it was killed after ${stop_timeout} s)" "$ctr"
	ok "SIGTERM: exit 0 after $((SECONDS - started)) s (stop -t $stop_timeout)"
}

step "local base images ($tools)"
[[ -f $tools/podman-here && -f $tools/local-base-images.sh ]] ||
	fail "no podman-here and local-base-images.sh in $tools: set CONTAINER_TOOLS to their folder"
bash "$tools/local-base-images.sh"

step "build $image"
started=$SECONDS
"${podman[@]}" build --format docker --network host --pull=never -t "$image" . >"$workdir/build.log" 2>&1 ||
	{ tail -n 40 "$workdir/build.log" >&2; fail "podman build"; }
ok "built in $((SECONDS - started)) s"

step "embedded default: SQLite on /data, read-only root"
data="$workdir/data"
mkdir -p "$data"
chown 65532:65532 "$data" # the volume belongs to the image's user, as a fresh named volume would
port=$(free_port)
ctr="$run_id-sqlite"
containers+=("$ctr")
"${podman[@]}" run -d --name "$ctr" --network host --read-only -v "$data:/data" \
	-e AUTH_LISTEN_ADDR="127.0.0.1:$port" "$image" >/dev/null 2>>"$workdir/podman.log" ||
	{ cat "$workdir/podman.log" >&2; fail "podman run"; }
check_serving "$ctr" "$port" sqlite
[[ -s $data/auth-service.db ]] || fail "no database in the /data volume: $(ls -A "$data")"
ok "the database and its generated secret are in the volume: $(ls "$data" | tr '\n' ' ')"

step "PostgreSQL at $pg_host:5432, read-only root, nothing writable mounted"
database="auth_image_test_$$"
createdb -h "$pg_host" -U "$pg_user" "$database"
export AUTH_DATABASE_URL="postgres://$pg_user@$pg_host:5432/$database?sslmode=disable"
AUTH_SECRET_KEY=$(head -c 36 /dev/urandom | base64 -w0) # 48 characters
export AUTH_SECRET_KEY
# -e NAME without a value passes the variable from podman's environment: no secret in argv.
pgenv=(-e AUTH_DATABASE_URL -e AUTH_SECRET_KEY)
"${podman[@]}" run --rm --network host --read-only "${pgenv[@]}" "$image" migrate >"$workdir/migrate.log" 2>&1 ||
	{ cat "$workdir/migrate.log" >&2; fail "migrate"; }
ok "migrate in a one-off container"
port=$(free_port)
ctr="$run_id-postgres"
containers+=("$ctr")
"${podman[@]}" run -d --name "$ctr" --network host --read-only "${pgenv[@]}" \
	-e AUTH_LISTEN_ADDR="127.0.0.1:$port" "$image" >/dev/null 2>>"$workdir/podman.log" ||
	{ cat "$workdir/podman.log" >&2; fail "podman run"; }
check_serving "$ctr" "$port" postgres

step "image size"
size=$("${podman[@]}" image inspect "$image" --format '{{.Size}}')
printf '  %s: %d bytes (%s MB; limit %d MB)\n' "$image" "$size" \
	"$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')" $((max_bytes / 1000000))
((size <= max_bytes)) || fail "the image is larger than $((max_bytes / 1000000)) MB"
ok "under $((max_bytes / 1000000)) MB"
