#!/usr/bin/env bash
# Runs mgmt and the gateway in the foreground from build/, each output line prefixed with its
# daemon's name. Ctrl-C or SIGTERM stops both; if either daemon exits, the other is stopped and
# this script exits non-zero. Settings come from the environment (EVGATE_*), see --help of either
# daemon. Use `make run`, which installs the packages and builds first.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

MGMT=build/mgmt/evgate-mgmt
GATEWAY=build/gateway/evgate-gateway
GRACE_S=15 # how long a daemon may take to stop before it is sent SIGTERM, then SIGKILL

for bin in "$MGMT" "$GATEWAY"; do
    if [ ! -x "$bin" ]; then
        echo "run: $bin is not built; run \`make build\` (or \`make run\`)" >&2
        exit 1
    fi
done

mkdir -p var "${EVGATE_DATA_DIR:-var/}"

# A loopback URL a browser on this machine can open, from the listen address.
url_of() {
    local listen=$1 host port
    port=${listen##*:}
    host=${listen%:*}
    case "$host" in
    "" | 0.0.0.0 | '*') host=127.0.0.1 ;;
    "[::]") host="[::1]" ;;
    esac
    echo "$host:$port"
}
mgmt_url="http://$(url_of "${EVGATE_MGMT_LISTEN:-127.0.0.1:8080}")/"
gateway_addr=$(url_of "${EVGATE_GATEWAY_LISTEN:-127.0.0.1:8180}")

stopping=""
trap 'stopping=INT' INT
trap 'stopping=TERM' TERM
trap 'stopping=TERM' HUP # the terminal went away: stop as on SIGTERM

declare -A pid=() filter=() status=()

# start NAME BINARY: the daemon's pid in pid[NAME], its prefixing filter's in filter[NAME].
# Both stay in this script's process group. The filter ignores INT and TERM so that it
# outlives the daemon and never breaks the pipe under it (a daemon must not die of SIGPIPE
# while stopping cleanly).
start() {
    local name=$1 bin=$2 prefix fd
    printf -v prefix '%-7s | ' "$name"
    exec {fd}> >(
        trap '' INT TERM
        exec sed -u "s/^/$prefix/"
    )
    filter[$name]=$!
    # Background jobs of a script start with SIGINT ignored; give the daemon the default back
    # so that Ctrl-C reaches it as it would in a terminal.
    env --default-signal=INT,QUIT "$bin" >&"$fd" 2>&1 {fd}>&- </dev/null &
    pid[$name]=$!
    exec {fd}>&-
}

start mgmt "$MGMT"
start gateway "$GATEWAY"
names=(mgmt gateway)

cat <<EOF
run: evgate is starting (mgmt pid ${pid[mgmt]}, gateway pid ${pid[gateway]}); Ctrl-C stops both.
run: log in at $mgmt_url as user \`admin\`, with EVGATE_ADMIN_PASSWORD if it is set,
run:   else with the password mgmt prints below when it creates the admin (first start only).
run: gateway: http://$gateway_addr/healthz and /metrics
EOF

first_dead=""
# Wait until a signal arrives or a daemon exits by itself.
while [ -z "$stopping" ]; do
    done_pid=""
    wait -n -p done_pid "${pid[mgmt]}" "${pid[gateway]}"
    rc=$?
    [ -n "${done_pid:-}" ] || continue # interrupted by a trapped signal
    for n in "${names[@]}"; do
        if [ "${pid[$n]}" = "$done_pid" ]; then
            status[$n]=$rc
            first_dead=$n
        fi
    done
    break
done

alive() { [ -z "${status[$1]+x}" ]; }

# Forward the signal (SIGTERM when a daemon died), then escalate if one does not stop.
sig=${stopping:-TERM}
if [ -n "$first_dead" ]; then
    echo "run: $first_dead exited with status ${status[$first_dead]}; stopping the other" >&2
else
    echo "run: SIG$sig received; stopping mgmt and gateway" >&2
fi
for n in "${names[@]}"; do
    alive "$n" && kill -s "$sig" "${pid[$n]}" 2>/dev/null
done

for escalate in TERM KILL; do
    deadline=$((SECONDS + GRACE_S))
    while [ "$SECONDS" -lt "$deadline" ]; do
        any=0
        for n in "${names[@]}"; do
            if alive "$n"; then
                if kill -0 "${pid[$n]}" 2>/dev/null; then
                    any=1
                else
                    wait "${pid[$n]}"
                    status[$n]=$?
                fi
            fi
        done
        [ "$any" = 1 ] || break 2
        sleep 0.1
    done
    for n in "${names[@]}"; do
        if alive "$n"; then
            echo "run: $n did not stop within ${GRACE_S}s; sending SIG$escalate" >&2
            kill -s "$escalate" "${pid[$n]}" 2>/dev/null
        fi
    done
done
for n in "${names[@]}"; do
    if alive "$n"; then
        wait "${pid[$n]}"
        status[$n]=$?
    fi
done

# Let the prefixing filters flush the daemons' last lines.
wait "${filter[mgmt]}" "${filter[gateway]}" 2>/dev/null

echo "run: stopped (mgmt status ${status[mgmt]}, gateway status ${status[gateway]})" >&2
if [ -n "$first_dead" ]; then
    exit 1
fi
# A daemon that exits 0 or dies of the forwarded signal has stopped cleanly.
for n in "${names[@]}"; do
    case "${status[$n]}" in
    0 | 130 | 143) ;;
    *) exit 1 ;;
    esac
done
exit 0
