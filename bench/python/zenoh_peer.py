"""The Zenoh session of the benchmark's Python subscribers: a peer that connects to the bridge's
endpoint only (no multicast scouting, listening on loopback), so a run never touches the LAN."""

import json

import zenoh


def open_peer(endpoint):
    conf = zenoh.Config()
    for k, v in {
        "mode": "peer",
        "connect/endpoints": [endpoint],
        "listen/endpoints": ["tcp/127.0.0.1:0"],
        "scouting/multicast/enabled": False,
    }.items():
        conf.insert_json5(k, json.dumps(v))
    return zenoh.open(conf)
