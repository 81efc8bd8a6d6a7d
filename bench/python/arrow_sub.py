"""The Python reference of bench/arrow-e2e.ts: a Zenoh subscriber that decodes HEROS events
(heros.serdes, as herostools does) and appends their payload dicts as rows of an Arrow IPC
stream with pyarrow, batched as ArrowArchiver batches: at most <batch_rows> rows, written at the
latest <batch_ms> ms after the first row of the batch, fdatasync per batch with fsync "batch".
Columns: source, received_at, then the payload's fields.

Usage: python arrow_sub.py <connect-endpoint> <key-expr> <out-file> <batch_rows> <batch_ms> <fsync>
stdin: "report" prints {"rows": n, "first": ns, "last": ns} (rows on disk; when the first and
the last batch was written), "quit" closes the file and exits.
stdout: "ready" once subscribed.
"""

import datetime
import json
import os
import sys
import threading
import time

import pyarrow as pa
import pyarrow.ipc as ipc
from heros.serdes import deserialize

from zenoh_peer import open_peer


def main():
    endpoint, key_expr, out = sys.argv[1], sys.argv[2], sys.argv[3]
    batch_rows, batch_ms, fsync = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == "batch"
    session = open_peer(endpoint)
    cond = threading.Condition()
    pending = []
    state = {"rows": 0, "first": 0, "last": 0, "started": None, "stop": False}

    def on_sample(sample):
        received = datetime.datetime.now(datetime.timezone.utc)
        source = str(sample.key_expr).split("/")[2]
        value = deserialize(sample.payload.to_bytes())
        row = {"source": source, "received_at": received}
        row.update(value[0])
        with cond:
            if not pending:
                state["started"] = time.monotonic()
            pending.append(row)
            if len(pending) >= batch_rows:
                cond.notify()
            elif len(pending) == 1:
                cond.notify()

    def writer():
        f = open(out, "wb")
        w = None
        schema = None
        while True:
            with cond:
                while not state["stop"]:
                    if len(pending) >= batch_rows:
                        break
                    if pending:
                        left = state["started"] + batch_ms / 1000 - time.monotonic()
                        if left <= 0:
                            break
                        cond.wait(left)
                    else:
                        cond.wait()
                rows = pending[:batch_rows]
                del pending[:batch_rows]
                if pending:
                    state["started"] = time.monotonic()
                stop = state["stop"] and not rows
            if stop:
                break
            if not rows:
                continue
            if schema is None:
                schema = pa.RecordBatch.from_pylist(rows[:1]).schema
                schema = pa.schema([pa.field("received_at", pa.timestamp("ms", tz="UTC")) if fd.name == "received_at" else fd for fd in schema])
                w = ipc.new_stream(f, schema)
            w.write_batch(pa.RecordBatch.from_pylist(rows, schema=schema))
            f.flush()
            if fsync:
                os.fdatasync(f.fileno())
            now = time.time_ns()
            with cond:
                if state["rows"] == 0:
                    state["first"] = now
                state["rows"] += len(rows)
                state["last"] = now
        if w is not None:
            w.close()
        f.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    sub = session.declare_subscriber(key_expr, on_sample)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "report":
            with cond:
                print(json.dumps({"rows": state["rows"], "first": state["first"], "last": state["last"]}), flush=True)
        elif cmd == "quit":
            break
    sub.undeclare()
    with cond:
        state["stop"] = True
        cond.notify()
    thread.join()
    session.close()


if __name__ == "__main__":
    main()
