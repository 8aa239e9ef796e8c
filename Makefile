# Thin wrapper: the real work is in meson (build) and scripts/ (deps, run, test).
# `make run` and `make test` work on a fresh Debian 12 machine (root, or a user with sudo).

.PHONY: all run test build build-asan clean deps deps-browser fuzz bench

all: build

# Steps run in order even under `make -j`: deps, then build, then the script.
run:
	@bash scripts/install-deps.sh
	@$(MAKE) --no-print-directory build
	@exec bash scripts/run.sh

test:
	@bash scripts/install-deps.sh --with-browser
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory build-asan
	@exec bash scripts/test.sh

deps:
	@bash scripts/install-deps.sh

deps-browser:
	@bash scripts/install-deps.sh --with-browser

# scripts/build.sh: meson setup when the tree is missing, --reconfigure when a meson.build changed,
# then ninja.
build:
	@bash scripts/build.sh build

# The same tree built with AddressSanitizer and UndefinedBehaviorSanitizer, for the sanitizer
# stage of `make test` (scripts/test.sh). Never used by `make run`.
# Frame pointers: the sanitizer stage records allocation stacks with ASan's fast unwinder.
build-asan:
	@bash scripts/build.sh build-asan -Db_sanitize=address,undefined \
		"-Dc_args=-fno-sanitize-recover=undefined -fno-omit-frame-pointer"

clean:
	rm -rf build build-asan

# The libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan), each for FUZZ_SECONDS (default
# 600 here, 5 in `make test`); no meson timeout.
fuzz:
	@bash scripts/install-deps.sh
	@$(MAKE) --no-print-directory build
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} meson test -C build --suite fuzz --print-errorlogs \
		--timeout-multiplier 0

# The benchmarks of tests/bench/ (issue 8): one table with the targets, also as JSON in
# build/bench.json. They print figures; they are not timed tests. BENCH_ARGS goes to
# tests/bench/bench.py (e.g. BENCH_ARGS="--only throughput --runs 1").
bench:
	@bash scripts/install-deps.sh --with-bench
	@$(MAKE) --no-print-directory build
	python3 tests/bench/bench.py --build build $(BENCH_ARGS)
