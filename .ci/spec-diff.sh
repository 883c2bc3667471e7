#!/usr/bin/env bash
# Breaking-change check of the API contract: compares api/openapi.yaml with its
# version in the previous commit (SPEC_BASE_REF, default HEAD~1) using oasdiff,
# prints the changelog and the breaking-change report, and fails when oasdiff
# reports an ERR-level breaking change (a removed operation, field, enum value,
# a new required field, ...), unless ALLOW_BREAKING=1.
#
#   bash .ci/spec-diff.sh                      # against HEAD~1
#   SPEC_BASE_REF=origin/main bash .ci/spec-diff.sh
#   ALLOW_BREAKING=1 bash .ci/spec-diff.sh     # report, but do not fail
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"

OASDIFF_MODULE=github.com/oasdiff/oasdiff@v1.37.0
spec=api/openapi.yaml
base_ref=${SPEC_BASE_REF:-HEAD~1}

if ! git rev-parse --verify --quiet "$base_ref^{commit}" >/dev/null; then
	echo "spec-diff: no commit $base_ref (first commit or shallow clone): nothing to compare"
	exit 0
fi
if ! git cat-file -e "$base_ref:$spec" 2>/dev/null; then
	echo "spec-diff: $base_ref has no $spec: nothing to compare"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git show "$base_ref:$spec" >"$tmp/base.yaml"

# Installed into a temporary GOBIN rather than `go run`, because `go run` turns
# every non-zero exit into 1, and the exit code must tell "breaking changes"
# (1, from --fail-on) from "could not load a spec" (100 and up).
GOBIN="$tmp/bin" go install "$OASDIFF_MODULE"
oasdiff=("$tmp/bin/oasdiff")

echo "=== spec-diff: $spec at $base_ref -> working tree ($OASDIFF_MODULE)"
echo "--- changelog"
"${oasdiff[@]}" changelog "$tmp/base.yaml" "$spec" --color never
echo "--- breaking changes"
rc=0
"${oasdiff[@]}" breaking "$tmp/base.yaml" "$spec" --color never --fail-on ERR || rc=$?

case $rc in
0)
	echo "spec-diff: no ERR-level breaking changes"
	;;
1)
	if [[ ${ALLOW_BREAKING:-} == 1 ]]; then
		echo "spec-diff: breaking changes (ERR) found, allowed by ALLOW_BREAKING=1"
		exit 0
	fi
	echo "spec-diff: breaking changes (ERR) found; bump info.version and set ALLOW_BREAKING=1 if they are intended" >&2
	exit 1
	;;
*)
	echo "spec-diff: oasdiff failed (exit $rc)" >&2
	exit "$rc"
	;;
esac
