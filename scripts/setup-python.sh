#!/usr/bin/env bash
# Creates the Python venv (pinned in scripts/requirements.txt) used by the differential and
# interop tests and by the benchmarks; linked as .venv. Re-used while the pins do not change.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
req="$HA_ROOT/scripts/requirements.txt"
key="$(cat "$req" | sha256sum | cut -c1-12)"
venv="$HA_CACHE/venv-$key"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  ha_log "creating Python venv $venv (pinned heros, herostools, heros-boss, eclipse-zenoh, numpy, jinja2)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check -q -r "$req" >&2
  touch "$venv/.complete"
fi
ln -sfn "$venv" "$HA_ROOT/.venv"
ha_log "Python venv ready: $("$venv/bin/python" --version)"
