#!/usr/bin/env bash
# One command: install, create the embedded database (SQLite in WAL mode under data/), load the
# demo city, start the background worker and the web server at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DJANGO_SETTINGS_MODULE=config.settings.dev
PY=.venv/bin/python
$PY manage.py migrate --noinput -v0
$PY manage.py demo --if-empty
$PY manage.py run_worker &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo
echo "四诊 Sizhen 已启动：http://127.0.0.1:8000"
echo "演示账号（每个角色一个）："
$PY manage.py demo --logins
echo
$PY manage.py runserver 127.0.0.1:8000 --noreload
