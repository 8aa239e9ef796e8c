#!/usr/bin/env bash
# Runs every test meson knows (suites unit, integration, browser, and the short fuzz runs) on the
# build in build/, then prints one line per failed test and, as the very last line,
# `N passed, N failed` (`, N skipped` when some were). Exits non-zero when anything failed or
# nothing ran. Use `make test`, which installs the packages and builds first. A full run runs the
# integration tests of suite `sanitize` (most of them) on build-asan instead, with the unit suite
# again (see the sanitizer stage below).
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

# Four at a time: the tests meson may run together (is_parallel, the default) are the short unit
# tests and the conformance tests, which mostly wait for a run's timeouts; everything else is
# is_parallel : false and runs alone.
args=(--print-errorlogs --timeout-multiplier "$TIMEOUT_MULTIPLIER" --num-processes 4 --no-suite bench)
# the integration tests of suite `sanitize` run in the sanitizer stage below instead (a full run)
if [ $# -eq 0 ] && [ "${EVGATE_TEST_SANITIZERS:-1}" != 0 ]; then
    args+=(--no-suite sanitize)
fi
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

# The sanitizer stage (a full run only): build-asan (`make build-asan`: the same tree with
# AddressSanitizer + UndefinedBehaviorSanitizer) runs the unit suite and the integration tests of
# suite `sanitize` (tests/integration/meson.build says which and why), whose daemons are then
# sanitized too. Every
# report (a memory error, undefined behaviour, a leak at exit) goes to a file in $REPORTS, so one
# in a daemon fails the run even when its test did not notice. EVGATE_TEST_SANITIZERS=0 leaves
# the stage out.
ASAN_LOG=build-asan/meson-logs/testlog.json
REPORTS=build-asan/sanitizer-reports
asan_rc=0
rm -f "$ASAN_LOG"
if [ $# -eq 0 ] && [ "${EVGATE_TEST_SANITIZERS:-1}" != 0 ]; then
    if [ ! -f build-asan/build.ninja ]; then
        echo "test: build-asan/ is not set up; run \`make build-asan\` (or \`make test\`)" >&2
        asan_rc=1
    else
        rm -rf "$REPORTS" && mkdir -p "$REPORTS"
        echo "test: sanitizer stage (ASan + UBSan): suites unit and sanitize"
        # Allocation stacks come from ASan's fast unwinder (frame pointers: evgate's code is
        # built with them, Debian's libraries are not, so a stack ends at the first library
        # frame). fast_unwind_on_malloc=0 would give whole stacks but made this stage five
        # times slower (5.5 min against 2.4); tests/sanitizer/lsan.supp says what that costs.
        # XLSXW_SKIP_BIG: the 100 000-row export is timed, not a memory check.
        ASAN_OPTIONS="log_path=$PWD/$REPORTS/asan:detect_leaks=1" \
        UBSAN_OPTIONS="log_path=$PWD/$REPORTS/ubsan:print_stacktrace=1:halt_on_error=1" \
        LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp" \
        XLSXW_SKIP_BIG=1 \
            meson test -C build-asan --no-rebuild --print-errorlogs --num-processes 4 \
                --timeout-multiplier "$((TIMEOUT_MULTIPLIER * 2))" \
                --suite unit --suite sanitize
        asan_rc=$?
    fi
fi

# The summary comes from meson's own logs, so it counts what really ran.
python3 - "$LOG" "$meson_rc" "${CI:-}" "$browser_missing" "$#" "$ASAN_LOG" "$asan_rc" \
    "$REPORTS" <<'EOF'
import glob, json, os, sys

main_log, meson_rc, ci, browser_missing = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
selected = sys.argv[5] != "0"  # the caller chose tests: no suite is required then
asan_log, asan_rc, reports = sys.argv[6], int(sys.argv[7]), sys.argv[8]
passed = failed = skipped = 0
failures = []
suites = set()
for log, prefix in ((main_log, ""), (asan_log, "asan+")):
    if not os.path.exists(log):
        continue
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
            if not prefix:
                suites.update(suite.split("+"))
            suite = prefix + suite
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
if asan_rc != 0 and not any(f.startswith("FAILED asan+") for f in failures):
    failed += 1
    failures.append("FAILED sanitizer stage: exited with status %d before any test failed "
                    "(see its output above)" % asan_rc)
# A report in a daemon fails the run even when its test passed; its head is shown here.
for path in sorted(glob.glob(os.path.join(reports, "*"))):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if not any(k in text for k in ("ERROR: ", "runtime error:", "SUMMARY: ")):
        continue  # only the list of suppressions used
    failed += 1
    print("\n==== sanitizer report %s ====\n%s" % (path, "\n".join(text.splitlines()[:60])))
    failures.append("FAILED sanitizer report: %s (printed above)" % path)
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

for rc in "$meson_rc" "$asan_rc"; do
    if [ "$rc" -ne 0 ]; then
        exit "$rc"
    fi
done
exit "$summary_rc"
