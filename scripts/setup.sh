#!/usr/bin/env bash
# One-command set-up on a fresh machine: Node >= 22.12, npm dependencies, build, Python venv,
# the Zenoh bridge and the in-process Zenoh transport (both built once with cargo, cached).
# Idempotent; heavy parts are cached under ${HEROS_ARCHIVER_CACHE:-~/.cache/heros-archiver}.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$HA_ROOT/scripts/setup-node.sh"
export PATH="$HA_ROOT/.tools/node/bin:$PATH"
cd "$HA_ROOT"
ha_log "installing npm dependencies"
npm ci --no-audit --no-fund --loglevel=error >&2
ha_log "building"
npm run --silent build >&2
bash "$HA_ROOT/scripts/setup-python.sh"
bash "$HA_ROOT/scripts/setup-bridge.sh"
bash "$HA_ROOT/scripts/setup-native.sh"
ha_log "done: run the daemon with  npx heros-archiver run boss.json"
