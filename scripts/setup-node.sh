#!/usr/bin/env bash
# Makes a Node >= 22.12 available as .tools/node/bin/node (a symlink into the cache).
# Uses the system Node when it is new enough, otherwise installs the npm package node@24.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p "$HA_ROOT/.tools"
if command -v node >/dev/null && ha_node_ok "$(command -v node)"; then
  ln -sfn "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")" "$HA_ROOT/.tools/node"
  ha_log "using system Node $(node --version)"
  exit 0
fi
dir="$HA_CACHE/node-$HA_NODE_VERSION"
if ! ha_node_ok "$dir/node_modules/node/bin/node"; then
  ha_log "system Node is older than 22.12: installing node@$HA_NODE_VERSION from the npm registry into $dir"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  npm install --prefix "$dir.tmp" --no-audit --no-fund --loglevel=error "node@$HA_NODE_VERSION" >&2
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
ha_node_ok "$dir/node_modules/node/bin/node" || { ha_log "node@$HA_NODE_VERSION did not install a working binary"; exit 1; }
ln -sfn "$dir/node_modules/node" "$HA_ROOT/.tools/node"
ha_log "using Node $("$HA_ROOT/.tools/node/bin/node" --version) from $dir"
