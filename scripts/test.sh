#!/usr/bin/env bash
# Runs every test meson knows (suites unit, integration, browser, and the short fuzz runs) on the
# build in build/, then prints one line per failed test and, as the very last line,
# `N passed, N failed` (`, N skipped` when some were). Exits non-zero when anything failed or
# nothing ran. Use `make test`, which installs the packages and builds first.
# Arguments go to `meson test`: `scripts/test.sh --suite unit` runs one suite.
#
# The browser suite needs Debian's chromium and tests/browser/node_modules (npm ci, done by
# scripts/install-deps.sh --with-browser). Without them it is left out, and under CI=true that
# counts as a failure, as does any of unit, integration and browser running no test: CI must
# run them all.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

LOG=build/meson-logs/testlog.json
# Test timeouts are set for a quiet developer machine; CI has 2 cores shared by the daemons,
# chromium and the tests themselves.
TIMEOUT_MULTIPLIER=${EVGATE_TEST_TIMEOUT_MULTIPLIER:-2}

if [ ! -f build/build.ninja ]; then
    echo "test: build/ is not set up; run \`make build\` (or \`make test\`)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

args=(--print-errorlogs --timeout-multiplier "$TIMEOUT_MULTIPLIER" --no-suite bench)
browser_missing=""
if ! command -v chromium >/dev/null 2>&1; then
    browser_missing="chromium is not installed"
elif [ ! -d tests/browser/node_modules ]; then
    browser_missing="tests/browser/node_modules is missing (npm ci in tests/browser)"
fi
if [ -n "$browser_missing" ]; then
    echo "test: leaving out the browser suite: $browser_missing;" \
        "scripts/install-deps.sh --with-browser installs both" >&2
    args+=(--no-suite browser)
fi

rm -f "$LOG"
meson test -C build "${args[@]}" "$@"
meson_rc=$?

# The summary comes from meson's own log, so it counts what really ran.
python3 - "$LOG" "$meson_rc" "${CI:-}" "$browser_missing" "$#" <<'EOF'
import json, os, sys

log, meson_rc, ci, browser_missing = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
selected = sys.argv[5] != "0"  # the caller chose tests: no suite is required then
passed = failed = skipped = 0
failures = []
suites = set()
if os.path.exists(log):
    with open(log, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                t = json.loads(line)
            except ValueError:
                t = {"name": "?:? / unreadable line in " + log, "result": "ERROR"}
            result = t.get("result", "")
            # name is "project:suite[+suite...] / test"
            full = t.get("name", "?")
            head, _, name = full.partition(" / ")
            suite = head.split(":", 1)[-1] if name else ""
            name = name or full
            suites.update(suite.split("+"))
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
                failures.append("FAILED %s / %s: %s after %.1fs"
                                % (suite or "?", name, result,
                                   t.get("duration", 0.0)))
# CI must run every suite: a suite that silently built no test (a missing tool at meson setup)
# is a failure there, not a pass.
if ci.lower() == "true" and not selected:
    for suite in ("unit", "integration", "browser"):
        if suite not in suites:
            failed += 1
            why = browser_missing if suite == "browser" and browser_missing else \
                "no %s test is registered (see meson's warnings at setup)" % suite
            failures.append("FAILED %s: suite not run (%s); CI must run it" % (suite, why))
if meson_rc != 0 and not failures:
    failed += 1
    failures.append("FAILED meson test: exited with status %d before any test failed "
                    "(see its output above)" % meson_rc)
if passed + failed == 0:
    failures.append("FAILED: no test ran")

print()
if browser_missing and "browser" not in suites:
    print("NOTE browser suite left out: " + browser_missing)
for f in failures:
    print(f)
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
sys.exit(1 if failures else 0)
EOF
summary_rc=$?

if [ "$meson_rc" -ne 0 ]; then
    exit "$meson_rc"
fi
exit "$summary_rc"
