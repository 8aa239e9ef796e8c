#!/usr/bin/env bash
# Installs what evgate needs to build, run and test on Debian 12, and nothing that is already
# there: silent when nothing is missing, so `make run`/`make test` can call it every time.
#
#   scripts/install-deps.sh                 build and run: compiler, meson, the C libraries
#   scripts/install-deps.sh --with-browser  also Chromium, Node.js and tests/browser's npm packages
#   scripts/install-deps.sh --with-bench    also wrk, Node.js and tests/bench's npm packages
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0
with_bench=0
for arg in "$@"; do
    case "$arg" in
    --with-browser) with_browser=1 ;;
    --with-bench) with_bench=1 ;;
    -h | --help)
        sed -n '2,7s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *)
        echo "install-deps: unknown argument $arg (see --help)" >&2
        exit 2
        ;;
    esac
done

packages=(
    build-essential meson ninja-build pkg-config
    libwebsockets-dev libjansson-dev libssl-dev libsqlite3-dev sqlite3 libmicrohttpd-dev
    libargon2-dev libcmocka-dev libxlsxwriter-dev libzip-dev libexpat1-dev
    libcurl4-openssl-dev                         # T/CEC clients: gateway/tcec_client.c, evsim-platform
    libmimalloc-dev                              # the gateway's malloc (gateway/meson.build)
    libyajl-dev                                  # protocol/jsonfast.c: OCPP frames parsed faster
    python3 curl
    libpango1.0-dev libcairo2-dev fonts-noto-cjk # mgmt/pdf_form.c: PDF forms with Chinese text
    clang libclang-rt-14-dev                     # tests/fuzz: libFuzzer, ASan and UBSan runtimes
    poppler-utils                                # tests: pdftotext/pdffonts read the PDF forms
    python3-openpyxl                             # tests: write and read xlsx like a user's Excel
    openssl                                      # tests: a throw-away CA and TLS certificates
)

# A node >= 18 with npm already on PATH is kept: this machine's node may come from a repacked
# package that conflicts with Debian's npm, and Debian's nodejs is 18 anyway.
have_node() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
        node -e 'process.exit(parseInt(process.versions.node, 10) >= 18 ? 0 : 1)' 2>/dev/null
}

if [ "$with_browser" = 1 ]; then
    packages+=(chromium)
    have_node || packages+=(nodejs npm)
fi
if [ "$with_bench" = 1 ]; then
    packages+=(wrk) # tests/bench: the mgmt station-list load
    have_node || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "install-deps: missing Debian packages: ${missing[*]}" >&2
            echo "install-deps: run as root or install sudo" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"
fi

# npm ci in $1 when its node_modules is missing or older than its lock; quiet when current.
npm_ci() {
    local dir=$1
    if [ ! -f "$dir/package.json" ] || [ ! -f "$dir/package-lock.json" ]; then
        echo "install-deps: $dir/package.json or package-lock.json not there yet; skipping npm ci"
    elif [ ! -d "$dir/node_modules" ] || [ ! -f "$dir/node_modules/.package-lock.json" ] ||
        [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        if ! have_node; then
            echo "install-deps: node >= 18 and npm are needed for $dir" >&2
            exit 1
        fi
        echo "install-deps: npm ci in $dir"
        # Playwright drives Debian's chromium; it must never fetch a browser build of its own.
        (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
            --loglevel=error)
    fi
}

if [ "$with_browser" = 1 ]; then
    npm_ci tests/browser
fi
# tests/bench: ocpp-rpc and better-sqlite3 for peer_rpc.mjs. better-sqlite3 builds its native
# module with the compiler and python3 above when no prebuilt one can be fetched (minutes).
if [ "$with_bench" = 1 ]; then
    npm_ci tests/bench
fi
