"""The benchmark's publisher: a real HEROS LocalHERO ("bench-pub") that emits numbered events,
one @event per workload, as fast as it can or at a fixed rate.

Usage: python publisher.py <connect-endpoint>
stdin, one command a line:
  run <event> <count> <rate> <phase>   publish <count> events (rate 0: as fast as possible,
                                       else <rate> events/s, paced on the clock); the metadata
                                       of each is {"phase": phase, "seq": i, "t": time_ns()}
  quit
stdout: "ready", then after each run "done <count> <first_ns> <last_ns>".
"""

import math
import sys
import time

import numpy as np

from heros import LocalHERO, event
from heros.zenoh import ZenohSessionManager


class BenchPub(LocalHERO):
    @event
    def json1k(self, payload, meta):
        return payload, meta

    @event
    def f32_64k(self, arr, meta):
        return arr, meta

    @event
    def f32_4m(self, arr, meta):
        return arr, meta

    @event
    def stack16(self, arr, meta):
        return arr, meta

    @event
    def f32_12m(self, arr, meta):
        return arr, meta

    @event
    def burst(self, arr, meta):
        return arr, meta

    @event
    def rows100(self, record, meta):
        return record, meta


def payloads():
    rng = np.random.default_rng(1)
    # ~1 KiB once written by json.dumps(indent=4)
    record = {"seq": 0, "sensor": "bench", "label": "x" * 700, "values": [round(float(v), 6) for v in rng.standard_normal(12)]}
    return {
        "json1k": record,
        "f32_64k": rng.standard_normal((128, 128)).astype(np.float32),
        "f32_4m": rng.standard_normal((1024, 1024)).astype(np.float32),
        "stack16": rng.standard_normal((16, 128, 128)).astype(np.float32),
        "f32_12m": rng.standard_normal((1536, 2048)).astype(np.float32),
        "burst": rng.standard_normal((512, 512)).astype(np.float32),
        "rows100": None,
    }


def main():
    endpoint = sys.argv[1]
    sm = ZenohSessionManager({
        "mode": "peer",
        "connect/endpoints": [endpoint],
        "listen/endpoints": ["tcp/127.0.0.1:0"],
        "scouting/multicast/enabled": False,
    })
    hero = BenchPub("bench-pub", session_manager=sm)
    data = payloads()
    print("ready", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        if parts[0] != "run":
            print(f"error unknown command {parts[0]}", flush=True)
            continue
        name, count, rate, phase = parts[1], int(parts[2]), float(parts[3]), parts[4]
        emit = getattr(hero, name)
        payload = data[name]
        interval = 1.0 / rate if rate > 0 else 0.0
        start = time.perf_counter()
        first = last = 0
        for i in range(count):
            if interval:
                due = start + i * interval
                while True:
                    wait = due - time.perf_counter()
                    if wait <= 0:
                        break
                    time.sleep(wait if wait > 0.0005 else 0)
            t = time.time_ns()
            if i == 0:
                first = t
            last = t
            if name == "json1k":
                payload["seq"] = i
            elif name == "rows100":
                # A telemetry record of about 100 bytes, different for every event.
                payload = {"id": i, "ts": t / 1e9, "value": math.sin(i) * 100, "ok": i % 3 != 0, "sensor": f"lab-2/cryostat-{i % 16}/stage-temperature"}
            emit(payload, {"phase": phase, "seq": i, "t": t})
        print(f"done {count} {first} {last}", flush=True)
    hero._destroy_hero()


if __name__ == "__main__":
    main()
