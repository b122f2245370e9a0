#!/usr/bin/env bash
# README command 1: acd running locally on the sandbox, with simulated calls.
#
#   bash scripts/run.sh [--duration N] [--no-demo]
#
# setup.sh, Redis (127.0.0.1:6390), the sandbox Asterisk (SIP 5060, AMI 5038),
# `acd serve --config config.yaml` (FastAGI 4573, HTTP http://127.0.0.1:8080),
# then scripts/demo.py: agents' phones and a caller to 4008001234 every few
# seconds. Ctrl-C (or the end of --duration) stops everything it started.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${ACD_VENV:-/var/cache/acd/venv}
DURATION=0
DEMO=1
while (($#)); do
    case $1 in
        --duration) DURATION=${2:?--duration needs seconds}; shift 2 ;;
        --no-demo) DEMO=0; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--duration N] [--no-demo]" >&2; exit 2 ;;
    esac
done

say() { printf '[run] %s\n' "$*"; }
cd "$REPO"
mkdir -p var

ACD_PID='' DEMO_PID=''
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    say "stopping"
    for pid in $DEMO_PID $ACD_PID; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $DEMO_PID $ACD_PID; do
        # Bounded: a process that ignores TERM for 15 s is killed.
        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    bash scripts/sandbox.sh stop || true
    bash scripts/redis.sh stop || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/setup.sh
bash scripts/redis.sh start
bash scripts/sandbox.sh start
set -a; . var/sandbox.env; . var/redis.env; set +a

[[ -f config.yaml ]] || { say "config.yaml is missing"; exit 1; }
for port in 4573 8080; do
    if ss -Hltn "( sport = :$port )" | grep -q .; then
        say "port $port is taken (another acd?): $(ss -Hltnp "( sport = :$port )")"
        exit 1
    fi
done
# The demo callers should find the line open whatever the hour: run acd's clock as if it
# were next Tuesday 10:00 Beijing time (ACD_START_AT= uses the real time).
export ACD_START_AT=${ACD_START_AT-$(date -d 'next tuesday' +%Y-%m-%dT10:00:00)}
[[ -n $ACD_START_AT ]] && say "acd's clock starts at $ACD_START_AT (Asia/Shanghai) for the demo"
say "starting acd serve --config config.yaml (log also in var/acd.log)"
"$VENV/bin/acd" serve --config config.yaml > >(tee var/acd.log) 2>&1 &
ACD_PID=$!

# acd is ready when its FastAGI port listens (ss: connecting would look like
# a broken FastAGI session in acd's log).
deadline=$((SECONDS + 30))
until ss -Hltn "( sport = :4573 )" | grep -q .; do
    if ! kill -0 "$ACD_PID" 2>/dev/null; then
        say "acd exited during start; see var/acd.log"
        exit 1
    fi
    ((SECONDS < deadline)) || { say "acd did not open 127.0.0.1:4573 within 30s"; exit 1; }
    sleep 0.1
done
say "acd is up: FastAGI 127.0.0.1:4573, HTTP API http://127.0.0.1:8080; Ctrl-C stops everything"

if ((DEMO)); then
    "$VENV/bin/python" scripts/demo.py --duration "$DURATION" &
    DEMO_PID=$!
fi
if [[ $DURATION != 0 ]]; then
    sleep "$DURATION" & wait $! || true
    [[ -n $DEMO_PID ]] && { wait "$DEMO_PID" || true; }
    exit 0
fi
wait "$ACD_PID"
