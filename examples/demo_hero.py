"""A demo HERO that publishes what boss.json archives: camera frames and sensor readings.

    .venv/bin/python examples/demo_hero.py                       # Zenoh defaults (LAN scouting)
    .venv/bin/python examples/demo_hero.py tcp/127.0.0.1:7447    # connect to one endpoint only

It is a real heros LocalHERO named "demo-camera" with two events:
  acquisition_data  (uint16 frame 64x64, {"frame": n})              -> ArrayArchiver in boss.json
  reading           ({"temperature": 21.5, ...}, {"sensor": ..., "seq": n}) -> JsonArchiver
and emits one of each per --period seconds (default 0.5) until stopped (Ctrl-C), or --count.
"""

import argparse
import time

import numpy as np

from heros import LocalHERO, event
from heros.zenoh import ZenohSessionManager


class DemoCamera(LocalHERO):
    @event
    def acquisition_data(self, frame: int):
        image = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) + frame) % 4096
        return image, {"frame": frame}

    @event
    def reading(self, seq: int):
        return {"temperature": 21.5 + 0.1 * seq, "humidity": 40.0, "ok": True}, {"sensor": "demo-sensor", "seq": seq}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("connect", nargs="*", help="Zenoh endpoints to connect to (default: scout the LAN)")
    parser.add_argument("--realm", default="heros")
    parser.add_argument("--period", type=float, default=0.5)
    parser.add_argument("--count", type=int, default=0, help="stop after this many frames (0: never)")
    args = parser.parse_args()
    config = {"mode": "peer"}
    if args.connect:
        config.update({"connect/endpoints": args.connect, "scouting/multicast/enabled": False, "listen/endpoints": ["tcp/127.0.0.1:0"]})
    hero = DemoCamera("demo-camera", realm=args.realm, session_manager=ZenohSessionManager(config))
    print(f"demo-camera publishing in realm {args.realm!r}; Ctrl-C to stop", flush=True)
    n = 0
    try:
        while args.count == 0 or n < args.count:
            hero.acquisition_data(n)
            hero.reading(n)
            n += 1
            time.sleep(args.period)
    except KeyboardInterrupt:
        pass
    finally:
        hero._destroy_hero()
        print(f"published {n} frames and {n} readings", flush=True)


if __name__ == "__main__":
    main()
