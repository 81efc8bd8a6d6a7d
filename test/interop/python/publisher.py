"""A real HEROS LocalHERO ("interop-cam") that publishes a corpus of events for the comparison
of heros-archiver with herostools. Each event name matches one actor of the test manifest.

Usage: python publisher.py <connect-endpoint> <rounds>
stdin: "go" publishes the whole corpus <rounds> times; "probe <n>" publishes one warm-up event
on every event name, with metadata that sends its file under "probe/" instead of the archive
root; "quit" exits. stdout: "ready", then "done <count>" after each command.
"""

import sys

import numpy as np

from heros import LocalHERO, event
from heros.zenoh import ZenohSessionManager

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128", "<U5", "|S3", ">u2", ">f8"]


def array_of(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    dt = np.dtype(dtype)
    if dt.kind == "b":
        a = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, n, dtype=np.int64 if dt.kind == "i" or dt.itemsize < 8 else np.uint64, endpoint=True).astype(dt)
    elif dt.kind == "f":
        a = (rng.standard_normal(n) * 1000).astype(dt)
        if n > 2:
            a[0], a[1] = np.nan, np.inf
    elif dt.kind == "c":
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
    elif dt.kind == "U":
        a = np.array(["", "a", "äöü", "ab\u20ac", "hello"][: max(n, 1)] * n, dtype=dt)[:n]
    elif dt.kind == "S":
        a = np.array([b"", b"x", b"abc", b"\x00\xff"] * n, dtype=dt)[:n]
    return a.astype(dt).reshape(shape)


class InteropCam(LocalHERO):
    @event
    def frame(self, arr, meta):
        return arr, meta

    @event
    def stack(self, arr, meta):
        return arr, meta

    @event
    def record(self, payload, meta):
        return payload, meta

    @event
    def merged(self, payload, meta):
        return payload, meta

    @event
    def seed(self, arr, meta):
        return arr, meta


def corpus(hero, round_no):
    count = 0
    i = 0
    # every dtype numpy sends, in 0-d, 1-d, 3-d, C and Fortran order
    for dtype in DTYPES:
        for shape in [(), (7,), (2, 3, 4)]:
            for order in "CF":
                a = array_of(dtype, shape, seed=i)
                if order == "F":
                    a = np.asfortranarray(a)
                name = f"{dtype.replace('<', 'L').replace('>', 'B').replace('|', 'N')}-{len(shape)}d-{order}"
                hero.frame(a, {"name": name, "round": round_no, "idx": i})
                i += 1
                count += 1
    # split arrays (16-frame stack and a 2-d one)
    hero.stack(np.arange(16 * 4 * 4, dtype=np.float32).reshape(16, 4, 4), {"run": f"r{round_no}-stack16"})
    hero.stack(array_of("int16", (3, 5), 99), {"run": f"r{round_no}-int2d"})
    count += 2
    # JSON records: unicode, NaN, ints and floats, nesting, key order, default_metadata override
    records = [
        {"text": "Grüße, 世界 \U0001F600", "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")},
        {"one": 1.0, "tiny": 1e-05, "big": 1e16, "negzero": -0.0, "int": 2**70, "neg": -(2**63)},
        {"z": 1, "a": {"nested": [1, 2.5, None, True, False, "x", [], {}]}, "10": "ten", "2": "two", "-1": "m", "01": "o"},
        {"quote": "\"\\/\b\f\n\r\t", "ctrl": "\x00\x1f\x7f", "empty": ""},
        {"list": list(range(20)), "floats": [0.1, 0.2, 0.30000000000000004, 123456789.123]},
    ]
    for j, rec in enumerate(records):
        hero.record(rec, {"n": j, "round": round_no})
        # "5" before "n": Python keeps insertion order, JavaScript objects put integer-like keys first
        hero.merged(dict(rec), {"5": "five", "n": j, "round": round_no, "override": "from-event"})
        count += 2
    # the seed example: frames 0..5 with the herostools documentation template
    for frame in range(6):
        hero.seed(np.full((4, 4), frame + 10 * round_no, dtype=np.uint16), {"frame": frame + 6 * round_no})
        count += 1
    return count


def main():
    endpoint = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    sm = ZenohSessionManager({
        "mode": "peer",
        "connect/endpoints": [endpoint],
        "listen/endpoints": ["tcp/127.0.0.1:0"],
        "scouting/multicast/enabled": False,
    })
    hero = InteropCam("interop-cam", session_manager=sm)
    print("ready", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "go":
            total = sum(corpus(hero, r) for r in range(rounds))
            print(f"done {total}", flush=True)
        elif parts[0] == "probe":
            n = int(parts[1])
            # The event's "root"/"file_path" wins over default_metadata: probes land in probe/.
            hero.frame(np.array([n], dtype=np.uint8), {"root": "probe", "round": "p", "idx": n, "name": "probe"})
            hero.stack(np.full((1, 2), n, dtype=np.uint8), {"root": "probe", "run": f"probe{n}"})
            hero.record({"probe": n}, {"root": "probe", "n": f"probe{n}", "round": "p"})
            hero.merged({"probe": n}, {"root": "probe", "n": f"probe{n}", "round": "p"})
            hero.seed(np.full((2, 2), n, dtype=np.uint16), {"file_path": "probe/seed", "frame": n})
            print("done 5", flush=True)
        elif parts[0] == "quit":
            break
    hero._destroy_hero()


if __name__ == "__main__":
    main()
