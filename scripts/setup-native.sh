#!/usr/bin/env bash
# Builds the in-process Zenoh transport (native/, a Node-API addon on Zenoh's Rust library,
# used by `--bus native`) with cargo and caches it outside the clone, keyed by a hash of its
# sources and the Rust compiler's version. The first build takes 5-20 minutes on two cores
# (Zenoh itself); a source change rebuilds only the addon's own crate; an unchanged tree
# re-uses the cached file at once. Dependencies are pinned by native/Cargo.lock (--locked).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
src="$HA_ROOT/native"
command -v cargo >/dev/null || { ha_log "cargo is required to build the in-process Zenoh transport (install Rust with rustup)"; exit 1; }
key="$( (cd "$src" && cat Cargo.toml Cargo.lock build.rs src/*.rs; rustc --version) | sha256sum | cut -c1-16)"
dir="$HA_CACHE/native-$key"
lib="$dir/heros-archiver-zenoh.node"
if [ -s "$lib" ]; then
  ha_log "in-process Zenoh transport cached at $lib"
else
  ha_log "building the in-process Zenoh transport with cargo (cached in $dir); the first build takes 5-20 minutes"
  target="$HA_CACHE/native-target"
  (cd "$src" && cargo build --release --locked --target-dir "$target" 2>&1) \
    | while IFS= read -r line; do case "$line" in *Compiling*|*Finished*|*error*|*warning:*) printf '[setup] cargo: %s\n' "$line" >&2;; esac; done
  built="$target/release/libheros_archiver_zenoh.so"
  [ -s "$built" ] || { ha_log "cargo did not produce $built"; exit 1; }
  mkdir -p "$dir" && cp "$built" "$lib.tmp" && mv "$lib.tmp" "$lib"
fi
mkdir -p "$HA_ROOT/.tools/native"
ln -sfn "$lib" "$HA_ROOT/.tools/native/heros-archiver-zenoh.node"
