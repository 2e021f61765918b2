#!/usr/bin/env bash
# A newcomer's first commands, proven: clone this repository's committed HEAD into a temp folder, run
# ONE `npm install` (as README says), then README's commands exactly as written:
#   npx dingtalk-skills --version
#   npx dingtalk-skills spec examples/crm
#   npm start   (in its own process group, on a free port)
#   npx dingtalk-skills invoke createTodo --user lisi --data '{"subject":"买牛奶"}' --json              -> exit 3
#   npx dingtalk-skills invoke createTodo --user lisi --data '{"subject":"买牛奶"}' --auto-consent --json -> exit 0
# then stops `npm start` and checks that no process of it is left. Uncommitted changes are not part
# of the clone (that is the point). The npm cache is reused (--prefer-offline).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dingtalk-fresh-clone.XXXXXX")
pid=""
log="$work/npm-start.log"
cleanup() {
  if [ -n "$pid" ]; then kill -TERM -- "-$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "fresh-clone check FAILED: $*"
  if [ -f "$log" ]; then echo "--- npm start output (last 40 lines)"; tail -n 40 "$log"; fi
  exit 1
}

echo "fresh-clone check: cloning $(git -C "$repo" rev-parse --short HEAD) into $work/repo"
git clone --quiet "$repo" "$work/repo"
cd "$work/repo"

echo "fresh-clone check: npm install (once)"
start_s=$(date +%s)
npm install --no-audit --no-fund --prefer-offline >"$work/install.log" 2>&1 || {
  tail -n 40 "$work/install.log"
  fail "npm install"
}
echo "  npm install took $(($(date +%s) - start_s)) s"

echo "fresh-clone check: npx dingtalk-skills --version"
version=$(npx --no-install dingtalk-skills --version) || fail "npx dingtalk-skills --version (exit $?)"
expected=$(node -p "require('./packages/cli/package.json').version")
[ "$version" = "$expected" ] || fail "--version printed '$version', expected '$expected'"
echo "  $version"

echo "fresh-clone check: npx dingtalk-skills spec examples/crm"
npx --no-install dingtalk-skills spec examples/crm >"$work/spec.yaml" || fail "spec examples/crm (exit $?)"
grep -q '^openapi: 3\.0' "$work/spec.yaml" || fail "spec printed no OpenAPI document"
grep -q 'operationId: createTodo' "$work/spec.yaml" || fail "spec has no createTodo"

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export DINGTALK_SANDBOX_PORT=$port
echo "fresh-clone check: npm start (DINGTALK_SANDBOX_PORT=$port)"
# Its own process group (setsid), so stopping it and the leftover check see every process it started.
setsid npm start >"$log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 240); do
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$log" | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || fail "npm start exited early"
  sleep 0.5
done
[ -n "$url" ] || fail "npm start printed no URL within 120 s"
echo "  $url"

echo "fresh-clone check: npx dingtalk-skills invoke createTodo --user lisi --data '{\"subject\":\"买牛奶\"}' --json"
set +e
npx --no-install dingtalk-skills invoke createTodo --user lisi --data '{"subject":"买牛奶"}' --json >"$work/invoke1.json"
code=$?
set -e
[ "$code" = 3 ] || fail "invoke without --auto-consent exited $code, expected 3 (waiting for consent)"
grep -q '"step":"auth_card"' "$work/invoke1.json" || fail "no authorization card in $(cat "$work/invoke1.json")"

echo "fresh-clone check: npx dingtalk-skills invoke createTodo --user lisi --data '{\"subject\":\"买牛奶\"}' --auto-consent --json"
npx --no-install dingtalk-skills invoke createTodo --user lisi --data '{"subject":"买牛奶"}' --auto-consent --json \
  >"$work/invoke2.json" || fail "invoke --auto-consent exited $?: $(cat "$work/invoke2.json")"
grep -q '"step":"result"' "$work/invoke2.json" || fail "no result step in $(cat "$work/invoke2.json")"
grep -q '买牛奶' "$work/invoke2.json" || fail "the result does not name the to-do"

echo "fresh-clone check: stopping npm start"
kill -TERM "$pid"
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
kill -0 "$pid" 2>/dev/null && fail "npm start did not stop within 15 s of SIGTERM"
for _ in $(seq 1 40); do pgrep -g "$pid" >/dev/null || break; sleep 0.25; done
if pgrep -g "$pid" >/dev/null; then
  pgrep -a -g "$pid"
  fail "npm start exited but left processes running"
fi
pid=""
echo "fresh-clone check: OK (one npm install; --version, spec, npm start, invoke as README writes them)"
