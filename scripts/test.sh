#!/usr/bin/env bash
# README's second command: the quality gates, then the whole test suite (browser tests included).
# .ci/run calls it too. DATABASE_URL picks the database (default: a per-process SQLite file);
# --pytest-only skips the gates; any other argument goes to pytest (e.g. -k demo, sizhen/demo).
set -euo pipefail
cd "$(dirname "$0")/.."

gates=1
pytest_args=()
for arg in "$@"; do
  if [ "$arg" = "--pytest-only" ]; then gates=0; else pytest_args+=("$arg"); fi
done

bash scripts/setup.sh --browser
PY=.venv/bin/python
export PATH="$PWD/.venv/bin:$PATH"
export DJANGO_SETTINGS_MODULE=config.settings.test

if [ "$gates" = 1 ]; then
  echo "[gate] ruff check";    ruff check .
  echo "[gate] ruff format";   ruff format --check .
  echo "[gate] mypy";          mypy sizhen config
  echo "[gate] import-linter"; lint-imports
  echo "[gate] makemigrations --check"
  $PY manage.py makemigrations --check --dry-run
  echo "[gate] check --deploy (production settings)"
  DJANGO_SETTINGS_MODULE=config.settings.prod \
    DJANGO_SECRET_KEY="ci-$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')" \
    DJANGO_ALLOWED_HOSTS=sizhen.example.gov.cn \
    $PY manage.py check --deploy --fail-level WARNING
fi

database="sqlite"
if [ -n "${DATABASE_URL:-}" ]; then database="${DATABASE_URL%%://*} ${DATABASE_URL##*/}"; fi
echo "[test] pytest (database: $database)"
status=0
pytest -n 2 "${pytest_args[@]}" || status=$?
if [ "$status" = 5 ]; then
  # pytest's "no tests collected" must never look like a pass.
  echo "[test] pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
