#!/usr/bin/env bash
# The project's Redis for scripts/run.sh: 127.0.0.1:6390, data in var/redis.
# (Tests use their own throw-away Redis on 6391: tests/conftest.py.)
# It asks for a password (Redis AUTH: whoever writes acd's keys can steer calls),
# made at the first start and kept in var/redis.env (mode 600) as ACD_REDIS_PASSWORD;
# delete that file to rotate it.
#
#   scripts/redis.sh start|stop|status
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${ACD_REDIS_PORT:-6390}
DIR=$REPO/var/redis
PID_FILE=$DIR/redis.pid
ENV_FILE=$REPO/var/redis.env

log() { printf '[redis] %s\n' "$*"; }
die() { printf '[redis] ERROR: %s\n' "$*" >&2; exit 1; }
password() { [[ -f $ENV_FILE ]] && sed -n 's/^ACD_REDIS_PASSWORD=//p' "$ENV_FILE" || true; }
cli() { REDISCLI_AUTH=$(password) redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }
ping() { [[ $(cli ping 2>/dev/null) == PONG ]]; }
redis_pid() {
    local pid
    [[ -f $PID_FILE ]] && pid=$(<"$PID_FILE") && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
    command -v redis-server >/dev/null || die "redis-server is missing: run scripts/setup.sh"
    if redis_pid >/dev/null; then
        log "already running on 127.0.0.1:$PORT (pid $(redis_pid))"
        return
    fi
    if ping; then
        log "a Redis not started by this script answers on 127.0.0.1:$PORT; using it"
        return
    fi
    mkdir -p "$DIR"
    if [[ -z $(password) ]]; then
        (umask 077; printf '# Written by scripts/redis.sh; load with: set -a; . var/redis.env; set +a\nACD_REDIS_PASSWORD=%s\n' \
            "$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')" >"$ENV_FILE")
    fi
    # The password goes in on stdin (a config file of one line), never on the command
    # line, where ps would show it.
    printf 'requirepass %s\n' "$(password)" | redis-server - --bind 127.0.0.1 --port "$PORT" \
        --dir "$DIR" --daemonize yes --pidfile "$PID_FILE" --logfile "$DIR/redis.log" \
        --save 60 1 --appendonly no >/dev/null \
        || die "redis-server did not start (log: var/redis/redis.log)"
    local deadline=$((SECONDS + 10))
    until ping; do
        ((SECONDS < deadline)) || die "no PONG on 127.0.0.1:$PORT within 10s (log: var/redis/redis.log)"
        sleep 0.05
    done
    log "running on 127.0.0.1:$PORT (pid $(redis_pid)), data and log in var/redis/, password in var/redis.env"
}

stop() {
    local pid deadline
    if ! pid=$(redis_pid); then
        log "not running"
        return
    fi
    cli shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    rm -f "$PID_FILE"
    log "stopped (pid $pid)"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) if pid=$(redis_pid); then log "running (pid $pid)"; else log "not running"; exit 3; fi ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
