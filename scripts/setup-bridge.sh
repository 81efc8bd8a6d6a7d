#!/usr/bin/env bash
# Builds zenoh-bridge-remote-api (the process zenoh-ts talks to) with cargo, pinned to the
# version of @eclipse-zenoh/zenoh-ts, and caches the binary outside the clone. The first build
# takes 10-40 minutes on two cores; later runs re-use the cached binary at once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$HA_CACHE/bridge-$HA_BRIDGE_VERSION"
bin="$dir/bin/zenoh-bridge-remote-api"
if [ -x "$bin" ] && "$bin" --help >/dev/null 2>&1; then
  ha_log "zenoh-bridge-remote-api $HA_BRIDGE_VERSION cached at $bin"
else
  command -v cargo >/dev/null || { ha_log "cargo is required to build zenoh-bridge-remote-api (install Rust with rustup)"; exit 1; }
  ha_log "building zenoh-bridge-remote-api $HA_BRIDGE_VERSION with cargo (--locked, cached in $dir); this takes 10-40 minutes once"
  # Thin LTO and more codegen units cut the build from ~40 to ~12 minutes on two cores; it is
  # still an optimised --release build.
  CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked zenoh-bridge-remote-api --version "$HA_BRIDGE_VERSION" --root "$dir.build" 2>&1 \
    | while IFS= read -r line; do case "$line" in *Compiling*|*Installed*|*error*|*warning:*) printf '[setup] cargo: %s\n' "$line" >&2;; esac; done
  [ -x "$dir.build/bin/zenoh-bridge-remote-api" ] || { ha_log "cargo did not produce the bridge binary"; exit 1; }
  rm -rf "$dir" && mv "$dir.build" "$dir"
fi
mkdir -p "$HA_ROOT/.tools/bin"
ln -sfn "$bin" "$HA_ROOT/.tools/bin/zenoh-bridge-remote-api"
