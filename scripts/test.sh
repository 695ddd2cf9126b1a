#!/usr/bin/env bash
# The whole test suite with its quality gates. README's test command and .ci/run both call this.
# DATABASE_URL picks the database (default: SQLite under data/); --pytest-only skips the gates.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
PY=.venv/bin/python
export PATH="$PWD/.venv/bin:$PATH"

if [ "${1:-}" != "--pytest-only" ]; then
  echo "[gate] ruff check";   ruff check .
  echo "[gate] ruff format";  ruff format --check .
  echo "[gate] mypy";         mypy sizhen config
  echo "[gate] import-linter"; lint-imports
  echo "[gate] makemigrations --check"
  DJANGO_SETTINGS_MODULE=config.settings.test $PY manage.py makemigrations --check --dry-run
  echo "[gate] check --deploy (production settings)"
  DJANGO_SETTINGS_MODULE=config.settings.prod DJANGO_SECRET_KEY="ci-$(head -c 32 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')" \
    DJANGO_ALLOWED_HOSTS=sizhen.example.gov.cn $PY manage.py check --deploy --fail-level WARNING
fi
echo "[test] pytest (database: ${DATABASE_URL:-sqlite})"
pytest -n 2 -p xdist "${@:2}"
