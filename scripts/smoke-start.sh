#!/usr/bin/env bash
# Starts `npm start` on a free port, waits until it prints the page URL and the page answers, then stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
log=$(mktemp)
# Its own process group (setsid), so the check below sees every process `npm start` left behind.
DINGTALK_SANDBOX_PORT=$port setsid npm start >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM -- "-$pid" 2>/dev/null || true; }
trap cleanup EXIT
url=""
for _ in $(seq 1 120); do
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$log" | head -n 1 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then echo "npm start exited early:"; cat "$log"; exit 1; fi
  sleep 0.5
done
if [ -z "$url" ]; then echo "npm start printed no URL within 60 s:"; cat "$log"; exit 1; fi
echo "npm start printed $url"
body=$(curl -fsS "$url") || { echo "page at $url did not answer"; cat "$log"; exit 1; }
echo "$body" | grep -q 'dingtalk-skills' || { echo "page at $url does not look like the assistant page"; exit 1; }
health=$(curl -fsS "${url}sandbox/health")
echo "health: $health"
kill -TERM "$pid"
for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
if kill -0 "$pid" 2>/dev/null; then echo "npm start did not stop within 10 s of SIGTERM"; exit 1; fi
# npm passes SIGTERM on to its script; the app must stop with it, not linger as an orphan.
for _ in $(seq 1 40); do pgrep -g "$pid" >/dev/null || break; sleep 0.25; done
if pgrep -g "$pid" >/dev/null; then
  echo "npm start exited but left processes running:"; pgrep -a -g "$pid"; exit 1
fi
grep -q 'sandbox closed' "$log" || { echo "the app did not log a clean shutdown:"; tail -n 20 "$log"; exit 1; }
trap - EXIT
echo "smoke test of npm start: OK"
