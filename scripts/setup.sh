#!/usr/bin/env bash
# Install what acd needs on Debian 12, as root. Safe to repeat: a second run
# only checks (a few seconds).
#
#   1. apt packages: debootstrap redis-server sip-tester espeak-ng sox ffmpeg python3-venv openssl
#      postgresql (history tests) chromium (console browser tests)
#   2. the Python venv at /var/cache/acd/venv with acd installed editable (+ test extras),
#      recreated when pyproject.toml changes
#   3. the Asterisk 22 chroot (Debian sid) at /var/cache/acd/chroot, built once (~1 min)
#
# Environment: ACD_VENV, ACD_CHROOT override the two paths; ACD_PYTHON the interpreter.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${ACD_VENV:-/var/cache/acd/venv}
CHROOT=${ACD_CHROOT:-/var/cache/acd/chroot}
APT_PACKAGES=(debootstrap redis-server sip-tester espeak-ng sox ffmpeg python3-venv openssl postgresql chromium)
CHROOT_SUITE=sid
CHROOT_PACKAGES=asterisk,asterisk-core-sounds-en-wav,asterisk-moh-opsound-wav
STAMP=.acd-chroot    # inside the chroot: what it was built with
STARTED=$SECONDS

step() { printf '[setup] %s\n' "$*"; }
fail() {
    printf '[setup] FAILED: %s\n[setup] what to do: %s\n' "$1" "$2" >&2
    exit 1
}

check_system() {
    [[ $EUID -eq 0 ]] || fail "setup needs root (apt, chroot, mounts)" "run it as root: sudo bash scripts/setup.sh"
    command -v apt-get >/dev/null || fail "apt-get not found" "use Debian 12 (bookworm) or newer"
}

install_packages() {
    local missing=() package
    for package in "${APT_PACKAGES[@]}"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null) == installed ]] \
            || missing+=("$package")
    done
    if ((${#missing[@]} == 0)); then
        step "apt packages: all present"
        return
    fi
    step "apt packages: installing ${missing[*]} (about a minute)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null \
        || fail "apt-get update failed" "check network access to the Debian mirror, then rerun"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || fail "apt-get install ${missing[*]} failed" "run the same apt-get install by hand to see why"
}

# The first interpreter >= 3.11: $ACD_PYTHON, python3 on PATH, Debian's /usr/bin/python3.
pick_python() {
    local candidate
    for candidate in ${ACD_PYTHON:-} python3 /usr/bin/python3; do
        candidate=$(command -v "$candidate" 2>/dev/null) || continue
        if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    fail "no Python >= 3.11 with the venv module" "apt-get install python3 python3-venv (Debian 12 ships 3.11)"
}

setup_venv() {
    local python version hash state=$VENV/.acd-setup want
    python=$(pick_python)
    version=$("$python" -c 'import sys; print(sys.version.split()[0])')
    hash=$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)
    want=$(printf 'pyproject=%s\npython=%s\nrepo=%s\n' "$hash" "$version" "$REPO")
    if [[ -x $VENV/bin/python && -f $state && $(<"$state") == "$want" ]]; then
        step "venv: up to date ($VENV, Python $version)"
        return
    fi
    # A new pyproject.toml or Python means a fresh venv; a venv without our
    # state file (or for another checkout) is only re-installed into.
    if [[ -f $state ]] && { ! grep -qxF "pyproject=$hash" "$state" \
            || ! grep -qxF "python=$version" "$state"; }; then
        step "venv: pyproject.toml or Python changed, recreating $VENV"
        rm -rf "$VENV"
    fi
    if [[ ! -x $VENV/bin/python ]]; then
        step "venv: creating $VENV with $python ($version)"
        rm -rf "$VENV"
        "$python" -m venv "$VENV" || fail "python -m venv failed" "apt-get install python3-venv"
    fi
    step "venv: pip install -e '.[test]' (about 30 s the first time)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$REPO[test]" \
        || fail "pip install failed" "check access to PyPI, then rerun; or delete $VENV"
    printf '%s\n' "$want" >"$state"
}

mounted_under() { findmnt -rn -o TARGET | grep -q "^$1\(/\|$\)"; }

build_chroot() {
    local partial=$CHROOT.partial want="$CHROOT_SUITE $CHROOT_PACKAGES"
    if [[ -x $CHROOT/usr/sbin/asterisk ]]; then
        # A chroot built by hand (no stamp) with the same command is adopted.
        [[ -f $CHROOT/$STAMP ]] || echo "$want" >"$CHROOT/$STAMP"
        if [[ $(<"$CHROOT/$STAMP") == "$want" ]]; then
            step "chroot: present ($CHROOT)"
            return
        fi
        mounted_under "$CHROOT" && fail "the chroot must be rebuilt but is in use" "bash scripts/sandbox.sh stop, then rerun"
        step "chroot: package list changed, rebuilding"
    fi
    mounted_under "$partial" && fail "$partial has mounts" "unmount them (findmnt | grep $partial), then rerun"
    rm -rf "$partial"
    step "chroot: debootstrap $CHROOT_SUITE with $CHROOT_PACKAGES (about 1 min)"
    mkdir -p "$(dirname "$CHROOT")"
    debootstrap --variant=minbase --include="$CHROOT_PACKAGES" "$CHROOT_SUITE" "$partial" \
        >"$partial.log" 2>&1 \
        || fail "debootstrap failed (log: $partial.log)" "check access to deb.debian.org, then rerun"
    echo "$want" >"$partial/$STAMP"
    # Only a complete chroot ever gets the real name.
    if [[ -e $CHROOT ]]; then
        mounted_under "$CHROOT" && fail "$CHROOT is in use" "bash scripts/sandbox.sh stop, then rerun"
        rm -rf "$CHROOT"
    fi
    mv "$partial" "$CHROOT"
    rm -f "$partial.log"
}

# Idempotent fix-ups, applied on every run.
fix_chroot() {
    # The host's resolver is not on loopback: Asterisk must not try it.
    echo "nameserver 127.0.0.1" >"$CHROOT/etc/resolv.conf"
    printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost\n' "$(hostname)" >"$CHROOT/etc/hosts"
    mkdir -p "$CHROOT"/{etc/asterisk,var/log/asterisk,run/asterisk,var/lib/asterisk,var/spool/asterisk}
    step "chroot: $(chroot "$CHROOT" /usr/sbin/asterisk -V 2>/dev/null || echo 'asterisk -V failed')"
}

check_system
install_packages
setup_venv
build_chroot
fix_chroot
step "done in $((SECONDS - STARTED))s: bash scripts/run.sh (demo) or bash scripts/test.sh (tests)"
