"""A real HEROS LocalDatasourceHERO that publishes `observable_data` events, for the interop tests.

Usage: python datasource-peer.py <hero-name> <connect-endpoint> <count>

Waits until a subscriber matches its `observable_data` key, then publishes <count> events and
exits. Each event is what `observable_data(data)` publishes (a DatasourceReturnSet of
DatasourceReturnValue dicts); stdout gets one JSON line per event with those readings, then
"done <count>".
"""

import json
import sys
import time

from heros.datasource.datasource import LocalDatasourceHERO
from heros.zenoh import ZenohSessionManager


def main():
    name, endpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    session_manager = ZenohSessionManager(
        {
            "mode": "peer",
            "connect/endpoints": [endpoint],
            "listen/endpoints": ["tcp/127.0.0.1:0"],
            "scouting/multicast/enabled": False,
        }
    )
    hero = LocalDatasourceHERO(name, session_manager=session_manager)
    key = f"{hero._endpoint_base_path}/observable_data"
    probe = hero._session.declare_publisher(key)
    deadline = time.monotonic() + 60
    while not probe.matching_status.matching:
        if time.monotonic() > deadline:
            print("error no subscriber matched", flush=True)
            sys.exit(1)
        time.sleep(0.05)
    probe.undeclare()
    for i in range(count):
        # (raw_value, raw_unit) pairs; whole floats on even i, so both kinds of float travel.
        data = {"T1": (20.0 + 0.25 * i, "K"), "P1": (float(i), "mbar"), "V1": (1e-3 * i - 0.5, "V")}
        readings = hero.observable_data(data)
        print(json.dumps([dict(r) for r in readings]), flush=True)
        # HEROS publishes with Zenoh's "drop" congestion control: a flood on a busy machine can
        # lose events before they leave this process. This test is about what arrives, not
        # about floods (bench/ measures those), so it publishes at a pace the link keeps up with.
        time.sleep(0.002)
    # Let the last events leave before the session closes.
    time.sleep(0.5)
    print(f"done {count}", flush=True)
    hero._destroy_hero()


if __name__ == "__main__":
    main()
