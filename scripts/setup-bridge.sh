#!/usr/bin/env bash
# Builds zenoh-bridge-remote-api (the process zenoh-ts talks to) with cargo, pinned to the
# version of @eclipse-zenoh/zenoh-ts, and caches the binary outside the clone. The first build
# takes 10-40 minutes on two cores; later runs re-use the cached binary at once.
#
# The bridge is built from the published crates (checksums pinned below) with one change:
# it sets TCP_NODELAY on accepted WebSocket connections. Without it, a message that ends in a
# partial TCP segment waits for the client's delayed ACK (up to 40 ms on Linux), which
# dominated publish→file latency. All other dependencies stay at the versions of the
# crate's own Cargo.lock.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HA_BRIDGE_PATCH="nodelay1"
dir="$HA_CACHE/bridge-$HA_BRIDGE_VERSION-$HA_BRIDGE_PATCH"
bin="$dir/bin/zenoh-bridge-remote-api"
declare -A sha=(
  [zenoh-bridge-remote-api]=a5985f811560cc86fad7600b89077adb783a9ce9f999172d4f78cd416fa28a89
  [zenoh-plugin-remote-api]=c679e0e602eaee816e44c32c8304592ebeb0b483174497479d39226a21b53565
)
[ "$HA_BRIDGE_VERSION" = "1.10.1" ] || { ha_log "update the pinned crate checksums in $0 for bridge $HA_BRIDGE_VERSION"; exit 1; }

if [ -x "$bin" ] && "$bin" --help >/dev/null 2>&1; then
  ha_log "zenoh-bridge-remote-api $HA_BRIDGE_VERSION ($HA_BRIDGE_PATCH) cached at $bin"
else
  command -v cargo >/dev/null || { ha_log "cargo is required to build zenoh-bridge-remote-api (install Rust with rustup)"; exit 1; }
  ha_log "building zenoh-bridge-remote-api $HA_BRIDGE_VERSION with cargo (cached in $dir); this takes 10-40 minutes once"
  src="$dir.src"
  rm -rf "$src" && mkdir -p "$src"
  for crate in zenoh-bridge-remote-api zenoh-plugin-remote-api; do
    file="$src/$crate.crate"
    curl -sSfL --retry 3 -o "$file" "https://static.crates.io/crates/$crate/$crate-$HA_BRIDGE_VERSION.crate"
    echo "${sha[$crate]}  $file" | sha256sum -c --quiet - || { ha_log "checksum mismatch for $crate"; exit 1; }
    tar -xzf "$file" -C "$src"
  done
  plugin="$src/zenoh-plugin-remote-api-$HA_BRIDGE_VERSION"
  bridge="$src/zenoh-bridge-remote-api-$HA_BRIDGE_VERSION"
  # The one change: TCP_NODELAY right after accept().
  accept='    while let Ok((tcp_stream, sock_addr)) = server.accept().await {'
  grep -qF "$accept" "$plugin/src/lib.rs" || { ha_log "bridge source changed: accept loop not found"; exit 1; }
  sed -i "s|^$accept\$|$accept\n        let _ = tcp_stream.set_nodelay(true);|" "$plugin/src/lib.rs"
  grep -q 'set_nodelay(true)' "$plugin/src/lib.rs" || { ha_log "patching the bridge failed"; exit 1; }
  printf '\n[patch.crates-io]\nzenoh-plugin-remote-api = { path = "../zenoh-plugin-remote-api-%s" }\n' "$HA_BRIDGE_VERSION" >>"$bridge/Cargo.toml"
  # Thin LTO and more codegen units cut the build from ~40 to ~12 minutes on two cores; it is
  # still an optimised --release build. The packaged Cargo.lock pins every other crate; cargo
  # only rewrites the patched crate's entry.
  (cd "$bridge" && CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo build --release --target-dir "$src/target" 2>&1) \
    | while IFS= read -r line; do case "$line" in *Compiling*|*Finished*|*error*|*warning:*) printf '[setup] cargo: %s\n' "$line" >&2;; esac; done
  built="$src/target/release/zenoh-bridge-remote-api"
  [ -x "$built" ] || { ha_log "cargo did not produce the bridge binary"; exit 1; }
  rm -rf "$dir" && mkdir -p "$dir/bin" && cp "$built" "$bin" && rm -rf "$src"
fi
mkdir -p "$HA_ROOT/.tools/bin"
ln -sfn "$bin" "$HA_ROOT/.tools/bin/zenoh-bridge-remote-api"
