#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite: real loopback servers, real Chromium, real SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
