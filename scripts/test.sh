#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite: real loopback servers, real Chromium, real SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
# Two workers (one per core of the reference machine), whole test files per worker: module fixtures
# (one audit shared by a file's tests) stay in one process. GOVAUDIT_TEST_WORKERS=0 runs serially.
workers="${GOVAUDIT_TEST_WORKERS:-2}"
xdist=()
[ "$workers" != "0" ] && xdist=(-n "$workers" --dist loadfile)
exec .venv/bin/python -m pytest -q -p no:cacheprovider "${xdist[@]}" "$@"
