#!/usr/bin/env bash
# The project's Asterisk 22, running in the Debian sid chroot that
# scripts/setup.sh builds, with asterisk/ mounted unchanged as /etc/asterisk.
#
#   scripts/sandbox.sh start     mount, write secrets, start, wait until ready
#   scripts/sandbox.sh stop      stop Asterisk, unmount (safe to repeat)
#   scripts/sandbox.sh status    exit 0 when running, 3 when not
#   scripts/sandbox.sh cli CMD   run an Asterisk CLI command, e.g. "core show channels"
#
# Inside the chroot the repository is mounted read-write at its own absolute
# path, so a path such as <repo>/recordings/x.wav means the same file for
# Asterisk (MixMonitor), acd and the tests.
#
# Layout (all under <repo>/var/, git-ignored):
#   sandbox/etc  -> /etc/asterisk       asterisk/*.conf + sandbox overlay + secrets
#   sandbox/log  -> /var/log/asterisk   messages.log, full.log
#   sandbox/run  -> /run/asterisk       asterisk.pid, asterisk.ctl
#   sandbox/spool -> /var/spool/asterisk voicemail/default/8000/INBOX/...
#   sandbox.env                         ACD_AMI_*, ACD_SIP_PASSWORD, ACD_AGI_KEY (mode 600), made at
#                                       the first start and kept; delete it to rotate
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHROOT=${ACD_CHROOT:-/var/cache/acd/chroot}
VAR=$REPO/var
SANDBOX=$VAR/sandbox
ENV_FILE=$VAR/sandbox.env
PID_FILE=$SANDBOX/run/asterisk.pid
AMI_HOST=127.0.0.1
AMI_PORT=5038
AMI_USER=acd
START_TIMEOUT=${ACD_SANDBOX_START_TIMEOUT:-60}

log() { printf '[sandbox] %s\n' "$*"; }
die() { printf '[sandbox] ERROR: %s\n' "$*" >&2; exit 1; }

# Host directory -> mount point inside the chroot, in mount order.
mounts() {
    printf '%s\n' "proc /proc" "/dev /dev" "$REPO $REPO" \
        "$SANDBOX/etc /etc/asterisk" "$SANDBOX/log /var/log/asterisk" \
        "$SANDBOX/run /run/asterisk" "$SANDBOX/spool /var/spool/asterisk"
}

in_chroot() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        chroot "$CHROOT" "$@"
}

asterisk_pid() {
    local pid
    [[ -f $PID_FILE ]] || return 1
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid is not our Asterisk.
    [[ $(readlink "/proc/$pid/root" 2>/dev/null) == "$CHROOT" ]] || return 1
    echo "$pid"
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }
env_value() { [[ -f $ENV_FILE ]] && sed -n "s/^$1=//p" "$ENV_FILE" || true; }

# Each acd queue's twin in app_queue (acd-fallback-<queue>), rung while acd is away,
# from $ACD_QUEUES_CONFIG (default config.yaml; tests/integration/config.yaml has the same
# queues). Without the venv the catch-all acd-fallback still takes every caller.
write_fallback_queues() {
    local python=${ACD_VENV:-/var/cache/acd/venv}/bin/python out
    if [[ ! -x $python ]]; then
        log "no $python: no per-queue fallback queues (bash scripts/setup.sh)"
        return 0
    fi
    if ! out=$(cd "$REPO" && "$python" -m acd asterisk-queues \
            --config "${ACD_QUEUES_CONFIG:-$REPO/config.yaml}" --output "$1" 2>&1); then
        log "per-queue fallback queues not written: $out"
        return 0
    fi
    log "$out"
}

write_etc() {
    local etc=$SANDBOX/etc ami_secret sip_password agi_key name
    mkdir -p "$etc" "$SANDBOX/log" "$SANDBOX/run" "$SANDBOX/spool"
    find "$etc" -mindepth 1 -delete
    cp "$REPO"/asterisk/*.conf "$REPO"/asterisk/sandbox/*.conf "$etc"/
    write_fallback_queues "$etc/queues_fallback.conf"
    # Secrets are made once and kept across restarts, so acd (which read them
    # at its start) logs in again after Asterisk comes back. To rotate them:
    # rm var/sandbox.env and restart.
    ami_secret=$(env_value ACD_AMI_SECRET)
    sip_password=$(env_value ACD_SIP_PASSWORD)
    agi_key=$(env_value ACD_AGI_KEY)
    [[ -n $ami_secret ]] || ami_secret=$(random_secret)
    [[ -n $sip_password ]] || sip_password=$(random_secret)
    [[ -n $agi_key ]] || agi_key=$(random_secret)
    umask 077
    printf '; Written by scripts/sandbox.sh at start; never commit.\nACD_AGI_KEY=%s\n' \
        "$agi_key" >"$etc/globals_secret.conf"
    printf '; Written by scripts/sandbox.sh at start; never commit.\n[%s](acd-user)\nsecret = %s\n' \
        "$AMI_USER" "$ami_secret" >"$etc/manager_acd_secret.conf"
    {
        printf '; Written by scripts/sandbox.sh at start; one password for every phone.\n'
        printf '[phone-auth](!)\ntype = auth\nauth_type = userpass\npassword = %s\n' "$sip_password"
        for name in $(seq -f 'agent%g' 1001 1020) supervisor1; do
            printf '[%s-auth](phone-auth)\nusername = %s\n' "$name" "$name"
        done
    } >"$etc/pjsip_secrets.conf"
    mkdir -p "$VAR"
    cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/sandbox.sh start; load with: set -a; . var/sandbox.env; set +a
ACD_AMI_HOST=$AMI_HOST
ACD_AMI_PORT=$AMI_PORT
ACD_AMI_USER=$AMI_USER
ACD_AMI_SECRET=$ami_secret
ACD_SIP_PASSWORD=$sip_password
ACD_AGI_KEY=$agi_key
EOF
    mv "$ENV_FILE.tmp" "$ENV_FILE"
    umask 022
}

mount_all() {
    local src dst
    while read -r src dst; do
        mkdir -p "$CHROOT$dst"
        mountpoint -q "$CHROOT$dst" && continue
        if [[ $src == proc ]]; then
            mount -t proc proc "$CHROOT$dst"
        else
            mount --bind "$src" "$CHROOT$dst"
        fi
    done < <(mounts)
}

umount_all() {
    local src dst
    while read -r src dst; do
        mountpoint -q "$CHROOT$dst" || continue
        umount "$CHROOT$dst" 2>/dev/null || {
            log "$CHROOT$dst is busy; detaching it lazily"
            umount -l "$CHROOT$dst"
        }
    done < <(mounts | tac)
}

# Ready = the acd user can log in to AMI and FullyBooted has arrived (Asterisk
# sends it to every new session once booted). Pure bash: no venv needed.
ami_ready() {
    local secret=$1 line ok=0 booted=0 rc=1
    { exec 3<>"/dev/tcp/$AMI_HOST/$AMI_PORT"; } 2>/dev/null || return 1
    printf 'Action: Login\r\nUsername: %s\r\nSecret: %s\r\nEvents: system\r\n\r\n' \
        "$AMI_USER" "$secret" >&3
    while IFS= read -r -t 2 line <&3; do
        case ${line%$'\r'} in
            "Response: Success") ok=1 ;;
            "Message: Authentication failed") rc=2; break ;;
            "Event: FullyBooted") booted=1 ;;
        esac
        ((ok && booted)) && { rc=0; break; }
    done
    printf 'Action: Logoff\r\n\r\n' >&3 2>/dev/null || true
    exec 3<&- 3>&-
    return $rc
}

port_busy() { ss -Hlntu "( sport = :$1 )" 2>/dev/null | grep -q .; }

cmd_start() {
    local pid secret deadline started rc port f other
    [[ -x $CHROOT/usr/sbin/asterisk ]] \
        || die "no Asterisk chroot at $CHROOT: run 'bash scripts/setup.sh' first"
    if pid=$(asterisk_pid); then
        log "already running (pid $pid)"
        return 0
    fi
    for port in 5060 "$AMI_PORT"; do
        port_busy "$port" || continue
        # The other checkout is the one bind mount that is not a fixed mount point.
        other=$(findmnt -rn -o TARGET | grep "^$CHROOT/" | grep -vxF \
            -e "$CHROOT/proc" -e "$CHROOT/dev" -e "$CHROOT/etc/asterisk" -e "$CHROOT/var/log/asterisk" \
            -e "$CHROOT/run/asterisk" -e "$CHROOT/var/spool/asterisk" | head -1)
        [[ -n $other ]] && die "port $port is taken by the sandbox of ${other#"$CHROOT"}: run 'bash ${other#"$CHROOT"}/scripts/sandbox.sh stop'"
        die "port $port is taken by another program: $(ss -Hlntup "( sport = :$port )" | head -1)"
    done
    started=$(date +%s.%N)
    umount_all   # leftovers of an Asterisk that died without "stop"
    write_etc
    for f in "$SANDBOX"/log/*.log; do [[ -f $f ]] && mv -f "$f" "$f.old"; done
    rm -f "$PID_FILE" "$SANDBOX/run/asterisk.ctl"
    mount_all
    # Without -U: see asterisk/asterisk.conf. Asterisk daemonizes itself.
    # 9>&-: the daemon must not inherit (and hold forever) the start/stop lock.
    in_chroot /usr/sbin/asterisk >"$SANDBOX/log/startup.out" 2>&1 9>&- \
        || { umount_all; die "asterisk did not start: $(cat "$SANDBOX/log/startup.out")"; }
    secret=$(env_value ACD_AMI_SECRET)
    deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        rc=0; ami_ready "$secret" || rc=$?
        ((rc == 0)) && break
        if ((rc == 2 || SECONDS >= deadline)) || ! asterisk_pid >/dev/null; then
            tail -n 20 "$SANDBOX/log/messages.log" >&2 2>/dev/null || true
            cmd_stop >/dev/null 2>&1 || true
            ((rc == 2)) && die "AMI rejected the generated acd secret (check asterisk/manager.conf)"
            die "Asterisk was not ready within ${START_TIMEOUT}s (log: var/sandbox/log/messages.log)"
        fi
        sleep 0.1
    done
    log "$(in_chroot /usr/sbin/asterisk -rx 'core show version' | cut -d' ' -f1-2) ready in $(
        awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s (pid $(asterisk_pid))"
    log "SIP 127.0.0.1:5060  AMI 127.0.0.1:$AMI_PORT user $AMI_USER  secrets: var/sandbox.env"
    log "logs: var/sandbox/log/messages.log, full.log   CLI: scripts/sandbox.sh cli 'core show channels'"
}

cmd_stop() {
    local pid deadline
    if pid=$(asterisk_pid); then
        in_chroot /usr/sbin/asterisk -rx 'core stop now' >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 15))
        while kill -0 "$pid" 2>/dev/null; do
            if ((SECONDS >= deadline)); then
                log "Asterisk (pid $pid) did not stop; killing it"
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.1
        done
        log "stopped Asterisk (pid $pid)"
    fi
    rm -f "$PID_FILE"
    umount_all
    log "stopped; nothing mounted under $CHROOT"
}

cmd_status() {
    local pid
    if pid=$(asterisk_pid); then
        log "running (pid $pid): $(in_chroot /usr/sbin/asterisk -rx 'core show uptime' | head -1)"
        in_chroot /usr/sbin/asterisk -rx 'core show channels count' | sed 's/^/[sandbox] /'
        return 0
    fi
    log "not running"
    mount | grep -F " $CHROOT/" | sed 's/^/[sandbox] still mounted: /' || true
    return 3
}

cmd_cli() {
    asterisk_pid >/dev/null || die "not running: bash scripts/sandbox.sh start"
    in_chroot /usr/sbin/asterisk -rx "$*"
}

main() {
    local action=${1:-}
    shift || true
    [[ $EUID -eq 0 ]] || die "run as root (mounts and chroot)"
    case $action in
        start|stop)
            mkdir -p "$VAR"
            # One start/stop at a time, also across concurrent test sessions.
            exec 9>"$VAR/sandbox.lock"
            flock -w 120 9 || die "another sandbox start/stop is stuck (var/sandbox.lock)"
            "cmd_$action"
            ;;
        status) cmd_status ;;
        cli) [[ $# -gt 0 ]] || die "usage: $0 cli 'core show channels'"; cmd_cli "$@" ;;
        *) echo "usage: $0 start|stop|status|cli CMD" >&2; exit 2 ;;
    esac
}

main "$@"
