#!/usr/bin/env bash
# README command 2: set up what is missing, then lint and run every test.
#
#   bash scripts/test.sh [pytest arguments...]
#
# Integration tests start the sandbox Asterisk and a throw-away Redis
# themselves (tests/integration/conftest.py, tests/conftest.py). Exit status
# is non-zero when ruff, mypy or any test fails, and when no test was collected.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${ACD_VENV:-/var/cache/acd/venv}
cd "$REPO"

bash scripts/setup.sh || exit 1

status=0
echo "[test] ruff check"
"$VENV/bin/ruff" check . || status=1

# mypy reads its configuration from pyproject.toml: the whole package (files =
# ["acd"]), each module as strict as its override there says (strict: core, ivr,
# rules, callflow...; the rest lenient). Bare, so that no module is left out.
echo "[test] mypy"
"$VENV/bin/mypy" || status=1

echo "[test] pytest"
# Bounded, so a hung test cannot eat CI's whole time budget.
timeout -k 30 "${ACD_TEST_TIMEOUT:-3600}" "$VENV/bin/python" -m pytest -q "$@"
rc=$?
case $rc in
    0) ;;
    5) echo "[test] FAILED: pytest collected no tests"; status=1 ;;
    124) echo "[test] FAILED: pytest timed out after ${ACD_TEST_TIMEOUT:-3600}s"; status=1 ;;
    *) status=1 ;;
esac

if ((status == 0)); then echo "[test] all green"; else echo "[test] FAILED"; fi
exit $status
