#!/usr/bin/env bash
# Builds one libFuzzer target with clang (ASan + UBSan) and runs it for FUZZ_SECONDS (default
# 5) over its seed corpus. `make test` runs each briefly; `make fuzz FUZZ_SECONDS=600` longer.
# Usage: tests/fuzz/run.sh TARGET [BUILD_DIR]
set -euo pipefail
target=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$src/build}/fuzz
export OUT=$out
seconds=${FUZZ_SECONDS:-5}
mkdir -p "$out/corpus-$target"
case $target in
creditcode) extra=(protocol/creditcode.c) ;;
text) extra=(mgmt/validate.c mgmt/http.c protocol/creditcode.c) ; libs=(-ljansson -lmicrohttpd) ;;
config) extra=(common/config.c common/log.c) ;;
records) extra=(protocol/records.c protocol/records_tables.c protocol/records_text.c
    protocol/records_num.c protocol/areas_data.c) ;;
xlsx) extra=(mgmt/xlsx_read.c mgmt/xlsx_xml.c mgmt/xlsx_sheet.c mgmt/xlsx_dates.c) ; libs=(-lzip -lexpat -lm) ;;
jsonfast) extra=(protocol/jsonfast.c) ; libs=(-ljansson -lyajl) ;;
ocpp_frame|ocpp_validate) extra=(protocol/ocpp_frame.c protocol/ocpp_validate.c protocol/ocpp_format.c
    protocol/ocpp_schemas_16.c protocol/ocpp_schemas_201.c protocol/jsonfast.c)
    libs=(-ljansson -lyajl -lm) ;;
tcec_envelope|tcec_data) extra=(protocol/tcec_envelope.c protocol/tcec_wire.c protocol/tcec_data.c
    protocol/tcec_dictionary.c protocol/records.c protocol/records_tables.c protocol/records_text.c
    protocol/records_num.c protocol/areas_data.c) ; libs=(-ljansson -lcrypto -lm) ;;
api|multipart) # every mgmt handler on a real database; multipart behind the real server, api
    # calling the handlers itself (without server.c)
    exclude='^mgmt/main\.c$'
    [ "$target" = api ] && exclude+='|^mgmt/server\.c$'
    mapfile -t extra < <(cd "$src" && ls mgmt/*.c db/*.c protocol/*.c common/*.c | grep -Ev "$exclude")
    extra+=(tests/fuzz/fuzz_mgmt_env.c)
    read -ra libs < <(pkg-config --cflags --libs jansson yajl sqlite3 libcrypto libargon2 libmicrohttpd \
        pangocairo cairo libzip expat xlsxwriter)
    libs+=(-lm -lpthread) ;;
*) echo "unknown fuzz target $target" >&2; exit 2 ;;
esac
command -v clang >/dev/null || { echo "clang is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
flags=(-g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
cflags=()
for l in "${libs[@]}"; do [[ $l == -I* ]] && cflags+=("$l"); done
# Objects are compiled once per source change into $out/obj (the mgmt targets share ~70 of them),
# two at a time, each renamed into place (targets that share objects may run at once); then each
# target is linked.
mkdir -p "$out/obj"
stamp="$out/obj/.headers" # a header changed since the last compile: every object is stale
if [ ! -e "$stamp" ] || [ -n "$(cd "$src" && find common db gateway mgmt protocol tests/fuzz \
        -name '*.h' -newer "$stamp" | head -n 1)" ]; then
    rm -f "$out"/obj/*.o
    touch "$stamp"
fi
objs=()
jobs=()
for f in "${extra[@]}"; do
    o="$out/obj/${f//\//_}.o"
    objs+=("$o")
    [ "$o" -nt "$src/$f" ] && [ "$o" -nt "$0" ] || jobs+=("$f")
done
if [ ${#jobs[@]} -gt 0 ]; then
    (cd "$src" && printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} sh -c \
        'o="$OUT/obj/$(echo "$0" | tr / _).o"; clang "$@" -c "$0" -o "$o.$$" && mv "$o.$$" "$o"' \
        {} "${flags[@]}" "${cflags[@]}") \
        || exit 1
fi
(cd "$src" && clang "${flags[@]}" -fsanitize=fuzzer "${cflags[@]}" "tests/fuzz/fuzz_$target.c" \
    "${objs[@]}" "${libs[@]}" -o "$out/fuzz_$target")
# New inputs go to the build tree; the seeds in the repository are read only. A finding exits 1
# (libFuzzer's own default, 77, is what meson reads as "skipped") and prints the whole report.
log="$out/fuzz_$target.log"
if "$out/fuzz_$target" -artifact_prefix="$out/" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
        "$out/corpus-$target" "$src/tests/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 15 "$log"
else
    tail -n 120 "$log"
    echo "fuzz_$target found a problem: the input is in $out/ (crash-*, timeout-*, oom-*)" >&2
    exit 1
fi
