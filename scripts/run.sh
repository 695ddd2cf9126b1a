#!/usr/bin/env bash
# README's first command. Installs what is missing, creates the embedded database (SQLite in WAL
# mode under data/), loads the demo city once, starts the background worker and the web server
# at http://127.0.0.1:8000, and prints the address and the demo logins. Ctrl-C stops both.
# SIZHEN_HOST / SIZHEN_PORT change the address. DEBUG is off (Chinese error pages; WhiteNoise
# serves the static files); DJANGO_DEBUG=1 turns Django's debug page on for a developer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.dev}"
export PYTHONUNBUFFERED=1
PY=.venv/bin/python
HOST="${SIZHEN_HOST:-127.0.0.1}"
PORT="${SIZHEN_PORT:-8000}"
ADDRESS="http://$HOST:$PORT"
mkdir -p data/logs

if "$PY" - "$HOST" "$PORT" <<'EOF'
import socket, sys
with socket.socket() as s:
    s.settimeout(1)
    sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
EOF
then
  echo "[run] $HOST:$PORT 已被占用：请先停止占用该端口的程序，或设置 SIZHEN_PORT 换一个端口" >&2
  exit 1
fi

echo "[run] 迁移数据库"
"$PY" manage.py migrate --noinput -v0
echo "[run] 装入演示数据（已存在则跳过）"
"$PY" manage.py demo --if-empty

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

"$PY" manage.py run_worker >>data/logs/worker.log 2>&1 &
pids+=($!)
"$PY" manage.py runserver "$HOST:$PORT" --noreload &
server=$!
pids+=("$server")

# Print the address only once the server answers, so that it is true when shown.
for _ in $(seq 1 60); do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "[run] 网页服务启动失败，见上方输出" >&2
    exit 1
  fi
  if "$PY" - "$ADDRESS/healthz" <<'EOF'
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=1).read() == b"ok" else 1)
except OSError:
    sys.exit(1)
EOF
  then
    break
  fi
  sleep 0.5
done

echo
echo "================================================================"
echo " 四诊 Sizhen 已启动：$ADDRESS"
echo " 后台任务进程日志：data/logs/worker.log；按 Ctrl-C 停止"
echo "================================================================"
echo "演示账号（每个角色至少一个）："
"$PY" manage.py demo --logins
echo
wait "$server"
