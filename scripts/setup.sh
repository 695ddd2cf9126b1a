#!/usr/bin/env bash
# Installs everything Sizhen needs on a fresh Debian 12 machine: system packages (with --browser:
# Chromium and a CJK font for the browser tests), a Python 3.11 virtual environment in .venv
# and the pinned Python packages. Safe to run again: it only installs what is missing, so the
# second run takes a second. Runs as root, or as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    # The load generator of the bench scripts (bench/pages.py, bench/requests_intake.py).
    --bench) want_bench=1 ;;
    *) echo "[setup] unknown option: $arg" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" != "0" ]; then
  SUDO="sudo"
fi

apt_packages=()
command -v python3.11 >/dev/null 2>&1 || apt_packages+=(python3.11)
# Debian's python3.11 ships venv without ensurepip; python3.11-venv adds it.
if ! python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  apt_packages+=(python3.11-venv)
fi
# The CJK fonts are embedded in generated PDF documents (reminder letters), so the platform
# itself needs them, not only the browser tests: WenQuanYi Micro Hei (sans, for 黑体 and
# charts) and the Arphic Ming and Kai faces standing in for 仿宋/小标宋 and 楷体 in official
# documents (docs/decisions/0009-official-document-fonts.md).
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || apt_packages+=(fonts-wqy-microhei fontconfig)
[ -f /usr/share/fonts/truetype/arphic/uming.ttc ] || apt_packages+=(fonts-arphic-uming)
[ -f /usr/share/fonts/truetype/arphic/ukai.ttc ] || apt_packages+=(fonts-arphic-ukai)
if [ "$want_browser" = 1 ]; then
  [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
fi
if [ "$want_bench" = 1 ]; then
  command -v wrk >/dev/null 2>&1 || apt_packages+=(wrk)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "[setup] need to install ${apt_packages[*]}: run as root or install sudo" >&2
    exit 1
  fi
  echo "[setup] apt-get install ${apt_packages[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${apt_packages[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  python3.11 -m venv .venv
fi
stamp=.venv/.sizhen-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  echo "[setup] installing Python packages"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  # Playwright drives Debian's /usr/bin/chromium; never download a browser build of its own.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    .venv/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock -e ".[dev]"
  touch "$stamp"
fi
