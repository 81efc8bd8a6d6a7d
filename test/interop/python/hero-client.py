"""A Python HEROS client of a daemon exposed with --expose, for expose-hero.test.ts.

Usage: python hero-client.py <daemon-name> <actor-running> <actor-stopped>
       python hero-client.py --probe <hero-name>   (discover it, read its liveliness, call status())
The Zenoh configuration comes from HEROS_ZENOH_CONFIG (JSON), as in run_boss.py.

It finds the HEROs the way Python tools do (HEROObserver: `_discover` realm-wide plus `_health`
liveliness), drives the daemon through a RemoteHERO and prints one JSON object a line:
  {"step": <name>, ...}   and finally {"step": "done"}; {"step": "error", "message": ...} on failure.
"""

import json
import os
import sys
import threading
import time
import traceback

from heros.zenoh import session_manager

session_manager.update_config(json.loads(os.environ["HEROS_ZENOH_CONFIG"]))

from heros import HEROObserver, RemoteHERO  # noqa: E402  (after the configuration, on purpose)


def say(**msg):
    sys.stdout.write(json.dumps(msg, default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o)) + "\n")
    sys.stdout.flush()


def wait_until(cond, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def probe(name):
    """Retries until the HERO answers: the peer may still be reconnecting to a restarted bridge."""
    from heros import HEROPeer

    peer = HEROPeer()
    deadline = time.monotonic() + 60
    while not peer._get_object_info(name, timeout=1.0):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} not discovered")
    alive = [str(r.ok.key_expr) for r in peer._session.liveliness().get(f"@object/heros/{name}/_health", timeout=2.0) if r.ok]
    hero = RemoteHERO(name)
    say(step="probe", alive=alive, status=hero.status())
    hero._destroy_hero()
    peer._destroy_hero()
    say(step="done")


def main():
    if sys.argv[1] == "--probe":
        return probe(sys.argv[2])
    daemon, running, stopped = sys.argv[1:4]
    events = []
    lock = threading.Lock()

    def added(name):
        with lock:
            events.append(("added", name))

    def removed(name):
        with lock:
            events.append(("removed", name))

    def seen(kind, name):
        with lock:
            return (kind, name) in events

    obs = HEROObserver()
    obs.register_object_added_callback(added)
    obs.register_object_removed_callback(removed)
    # The bridge may still be routing to a fresh peer: rediscover until the daemon shows up.
    wait_until(lambda: daemon in obs.known_objects or obs.known_objects.update(obs._discover()) or daemon in obs.known_objects, "discovery of the daemon")
    wait_until(lambda: running in obs.known_objects or obs.known_objects.update(obs._discover()) or running in obs.known_objects, "discovery of the actor")
    say(step="discovered", known={n: {"class": d["class"], "tags": d["tags"], "proto_version": d["proto_version"], "implements": d["implements"]} for n, d in obs.known_objects.items()})

    boss = RemoteHERO(daemon)
    caps = {c.name: [p.name for p in c.parameters] for c in boss._remote_capabilities}
    say(step="capabilities", caps=caps)
    say(step="status", value=boss.status())

    say(step="stop_hero", value=boss.stop_hero(running))
    wait_until(lambda: seen("removed", running), f"{running} to leave (liveliness)")
    say(step="removed", name=running, known=sorted(obs.known_objects))

    say(step="start_hero", value=boss.start_hero(stopped))
    wait_until(lambda: seen("added", stopped), f"{stopped} to join (liveliness)")
    say(step="added", name=stopped, known=sorted(obs.known_objects))

    actor = RemoteHERO(stopped)
    say(step="actor_stats", value=actor.stats(), tags=actor._hero_tags)
    say(step="status_after", value=boss.status())
    say(step="unknown", value=boss.start_hero("no-such-actor"))
    actor._destroy_hero()
    boss._destroy_hero()
    obs._destroy_hero()
    say(step="done")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report, then exit non-zero
        say(step="error", message=f"{e}\n{traceback.format_exc()}")
        sys.exit(1)
