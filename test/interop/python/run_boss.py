"""Runs real BOSS (heros-boss) with a Zenoh configuration given in the environment.

BOSS has no Zenoh options: every actor uses heros' process-wide session manager, configured
here from HEROS_ZENOH_CONFIG (JSON) before BOSS starts. Actors run in forked processes, which
inherit it. Arguments are BOSS's own (python -m boss.starter ...).
"""

import json
import os
import sys

from heros.zenoh import session_manager

session_manager.update_config(json.loads(os.environ["HEROS_ZENOH_CONFIG"]))

from boss.starter import run  # noqa: E402  (after the configuration, on purpose)

if __name__ == "__main__":
    run(sys.argv[1:])
