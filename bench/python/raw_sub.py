"""The Python Zenoh limit: a plain zenoh subscriber (no HEROS decoding) that only counts.

Usage: python raw_sub.py <connect-endpoint> <key-expr>
stdin: "reset" clears the counters, "report" prints one JSON line
{"<key>": {"count": n, "bytes": b, "first": ns, "last": ns}}, "quit" exits.
stdout: "ready" once subscribed.
"""

import json
import sys
import threading
import time

from zenoh_peer import open_peer


def main():
    endpoint, key_expr = sys.argv[1], sys.argv[2]
    session = open_peer(endpoint)
    lock = threading.Lock()
    counters = {}

    def on_sample(sample):
        now = time.time_ns()
        key = str(sample.key_expr)
        size = len(sample.payload)
        with lock:
            c = counters.get(key)
            if c is None:
                counters[key] = {"count": 1, "bytes": size, "first": now, "last": now}
            else:
                c["count"] += 1
                c["bytes"] += size
                c["last"] = now

    sub = session.declare_subscriber(key_expr, on_sample)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "reset":
            with lock:
                counters.clear()
            print("ok", flush=True)
        elif cmd == "report":
            with lock:
                print(json.dumps(counters), flush=True)
        elif cmd == "quit":
            break
    sub.undeclare()
    session.close()


if __name__ == "__main__":
    main()
