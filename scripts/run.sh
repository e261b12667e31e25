#!/usr/bin/env bash
# Set up (first run only) and audit: the bundled demo government site by default, or a URL.
#   scripts/run.sh                      → govaudit demo   (reports in ./govaudit-reports/<host>/<date>/)
#   scripts/run.sh https://www.example.gov.cn/ [govaudit check options…]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ $# -eq 0 ]; then
  exec .venv/bin/govaudit demo
fi
exec .venv/bin/govaudit check "$@"
