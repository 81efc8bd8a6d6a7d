"""A real HEROS LocalHERO driven over stdin, for the interop tests.

Usage: python hero-peer.py <hero-name> <connect-endpoint> [<realm>]

The HERO is a Zenoh peer that connects to the bridge's TCP endpoint only: multicast scouting is
off and it listens on loopback, so tests never touch the LAN. Zenoh keeps retrying the connect
endpoint when the link drops, which the reconnect test relies on.

stdin, one command a line:
  emit <n>              emit n `frame` events numbered from an internal counter
  big <nbytes>          emit one `big` event carrying a uint8 array of nbytes
  wait_matching <event> block until some subscriber matches this HERO's <event> key
  quit                  destroy the HERO and exit

stdout, one JSON object a line:
  {"type": "ready", "key_prefix": "@object/<realm>/<name>"}
  {"type": "sent", "key": ..., "seq": ..., "len": ..., "sha256": ...}   (one per event)
  {"type": "done", "cmd": ...}                                          (after each command)
  {"type": "matching", "key": ...}
  {"type": "error", "message": ...}
"""

import hashlib
import json
import sys
import time

import numpy as np
import zenoh

from heros import LocalHERO, event
from heros.zenoh import ZenohSessionManager


def say(**msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


class Camera(LocalHERO):
    """Emits numbered frames; records the exact bytes HEROS publishes for each event."""

    def __init__(self, *args, **kwargs):
        self._seq = 0
        super().__init__(*args, **kwargs)

    # HEROS publishes `self._serialize(result)` for every event; wrapping it reports the very
    # bytes that went on the wire, not a re-serialisation that could differ.
    def _serialize(self, obj):
        data = super()._serialize(obj)
        if getattr(self, "_report_next", None) is not None:
            key = f"{self._endpoint_base_path}/{self._report_next}"
            say(type="sent", key=key, seq=self._seq, len=len(data), sha256=hashlib.sha256(data).hexdigest())
            self._report_next = None
        return data

    # Real ndarrays (tag 4242), as HEROS cameras send them. This needs cbor2 < 6 (see
    # scripts/requirements.txt): heros 0.8.9 writes the array data through encoder.fp.
    @event
    def frame(self, seq: int):
        values = np.arange(seq, seq + 16, dtype=np.uint16).reshape(4, 4)
        return values, {"frame": seq, "label": f"frame-{seq}", "exposure": 0.5 * seq}

    @event
    def big(self, nbytes: int):
        data = (np.arange(nbytes, dtype=np.uint64) % 251).astype(np.uint8)
        return data, {"nbytes": nbytes}

    def _emit_frame(self):
        self._report_next = "frame"
        self.frame(self._seq)
        self._seq += 1

    def _emit_big(self, nbytes: int):
        self._report_next = "big"
        self.big(nbytes)


def main():
    name = sys.argv[1]
    endpoint = sys.argv[2]
    realm = sys.argv[3] if len(sys.argv) > 3 else "heros"
    session_manager = ZenohSessionManager(
        {
            "mode": "peer",
            "connect/endpoints": [endpoint],
            # Retry the bridge for ever, also after the link drops (bridge restarted).
            "connect/timeout_ms": -1,
            "connect/exit_on_failure": False,
            "connect/retry": {"period_init_ms": 200, "period_max_ms": 1000, "period_increase_factor": 2},
            "listen/endpoints": ["tcp/127.0.0.1:0"],
            "scouting/multicast/enabled": False,
        }
    )
    hero = Camera(name, realm=realm, session_manager=session_manager)
    session = hero._session
    say(type="ready", key_prefix=hero._endpoint_base_path)
    publishers = {}
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        cmd = parts[0]
        try:
            if cmd == "emit":
                for _ in range(int(parts[1])):
                    hero._emit_frame()
            elif cmd == "big":
                hero._emit_big(int(parts[1]))
            elif cmd == "wait_matching":
                key = f"{hero._endpoint_base_path}/{parts[1]}"
                pub = publishers.get(key)
                if pub is None:
                    pub = publishers[key] = session.declare_publisher(key)
                while not pub.matching_status.matching:
                    time.sleep(0.05)
                say(type="matching", key=key)
            elif cmd == "quit":
                break
            else:
                say(type="error", message=f"unknown command {cmd!r}")
                continue
        except Exception as exc:  # report, keep serving: the test decides what is fatal
            say(type="error", message=repr(exc))
        say(type="done", cmd=cmd)
    for pub in publishers.values():
        pub.undeclare()
    hero._destroy_hero()


if __name__ == "__main__":
    main()
