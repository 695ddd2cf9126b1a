#!/usr/bin/env bash
# Installs everything Sizhen needs on a fresh Debian machine: system packages (with --browser:
# Chromium and a CJK font for the browser tests), a Python 3.11 virtual environment in .venv
# and the pinned Python packages. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
for arg in "$@"; do
  [ "$arg" = "--browser" ] && want_browser=1
done

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

apt_packages=()
python3.11 -c 'import venv' >/dev/null 2>&1 || apt_packages+=(python3.11-venv)
if [ "$want_browser" = 1 ]; then
  [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
  fc-list 2>/dev/null | grep -qiE "wenquanyi|noto sans cjk" || apt_packages+=(fonts-wqy-microhei)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  echo "[setup] apt-get install ${apt_packages[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  python3.11 -m venv .venv
fi
stamp=.venv/.sizhen-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  echo "[setup] installing Python packages"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c requirements.lock -e ".[dev]"
  touch "$stamp"
fi
