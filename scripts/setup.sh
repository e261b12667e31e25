#!/usr/bin/env bash
# Set up govaudit on a bare Debian/Ubuntu machine: the system packages it needs (Chromium for the
# accessibility checks, a CJK font so Chinese pages render, python3-venv) and a virtualenv in .venv.
# Usage: scripts/setup.sh [--test]     (--test adds the test dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

pkgs=()
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
# any CJK font will do (Chinese in screenshots and the text of report.pdf); none → WenQuanYi Micro Hei
{ command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; } || pkgs+=(fonts-wqy-microhei)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || pkgs+=(python3-venv)
if [ ${#pkgs[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "govaudit setup: apt-get install ${pkgs[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=".venv/.govaudit-installed${extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -c "import auditor, scrapy, playwright" # fail loudly if the install did not work
  touch "$stamp"
fi
