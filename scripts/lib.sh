# Shared settings for the set-up scripts. Sourced, not executed.
# Everything heavy (Node runtime, Python venv, the Zenoh bridge binary) lives in a cache
# outside the clone, keyed by version, so a fresh clone re-uses it and set-up is idempotent.
HA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HA_CACHE="${HEROS_ARCHIVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/heros-archiver}"
HA_NODE_VERSION="24.21.0"         # used only when the system Node is older than 22.12
HA_BRIDGE_VERSION="1.10.1"        # must match @eclipse-zenoh/zenoh-ts in package.json
mkdir -p "$HA_CACHE"

ha_log() { printf '[setup] %s\n' "$*" >&2; }

# node_ok BIN: true when BIN is a Node >= 22.12
ha_node_ok() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null
}
