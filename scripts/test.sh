#!/usr/bin/env bash
# Runs the whole test suite: set-up (idempotent, cached), then vitest with the supported Node.
# Unit tests use the in-memory bus; differential tests use real numpy, Jinja2 and json; the
# interop tests in test/interop/ run the real bridge and real Python HEROS, BOSS, herostools.
# Extra arguments go to vitest (e.g. a test file).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
export PATH="$root/.tools/node/bin:$PATH"
cd "$root"
report="$(mktemp -t heros-archiver-vitest.XXXXXX.json)"
trap 'rm -f "$report"' EXIT
status=0
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One closing line in the common "N passed, N failed" form.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" 2>/dev/null || true
exit "$status"
