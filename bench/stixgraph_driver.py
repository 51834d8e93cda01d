"""Time a hunt statement by statement with stixgraph's library API.

Prints what the Kestrel v1 peer's bench.py prints (../shared/peers/kestrel-v1/bench.py), so that
bench/run.py reads both the same way: one line per statement ``   0.123s  n=   370  text...``
(n = entities of the variable the statement binds, None for DISP), then one JSON line with
import_s, session_open_s, total_s, maxrss_self_MB, maxrss_children_MB (and the statements).

Usage: python bench/stixgraph_driver.py HUNT.hf [--store PATH|:memory:] [--now ISO] [--show]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def _entities(session, name: str):
    """Entity count of variable ``name`` (``Session.vars[name].entities``)."""
    try:
        return session.vars[name].entities
    except Exception:  # noqa: BLE001 - an older/newer API: fall back to the store
        info = session.store.var(name)
        return None if info is None else info.entities


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("hunt")
    ap.add_argument("--store", default=":memory:")
    ap.add_argument("--now", default=None)
    ap.add_argument("--show", action="store_true", help="print each statement's displays")
    a = ap.parse_args(argv)

    t_import = time.perf_counter()
    from stixgraph.lang import parse
    from stixgraph.session import Session
    # the store backend too (Session imports it on first use), as the Kestrel peer's driver
    # imports kestrel.session and its whole stack before its clock starts
    import stixgraph.store.sqlite  # noqa: F401
    t_import = time.perf_counter() - t_import

    path = os.path.abspath(a.hunt)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    kw = {}
    if a.now:
        from datetime import datetime, timezone
        now = datetime.fromisoformat(a.now.replace("Z", "+00:00"))
        kw["now"] = now if now.tzinfo else now.replace(tzinfo=timezone.utc)

    rows = []
    t0 = time.perf_counter()
    s = Session(a.store, **kw)
    t_sess = time.perf_counter() - t0
    try:
        for st in parse(text, path).statements:
            t = time.perf_counter()
            out = s.execute(st)
            dt = time.perf_counter() - t
            name = st.output
            n = _entities(s, name) if name and name != "_" else None
            rows.append((" ".join(st.pos.text.split())[:70], round(dt, 4), n))
            if a.show:
                for d in out or ():
                    print(d)
    finally:
        close = getattr(s, "close", None) or getattr(s.store, "close", None)
        if close:
            close()
    total = time.perf_counter() - t0
    ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ru_ch = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    for head, dt, n in rows:
        print(f"{dt:9.3f}s  n={n!s:>7}  {head}")
    print(json.dumps({"import_s": round(t_import, 3), "session_open_s": round(t_sess, 3),
                      "total_s": round(total, 3), "maxrss_self_MB": ru_self // 1024,
                      "maxrss_children_MB": ru_ch // 1024,
                      "statements": [{"text": h, "seconds": dt, "n": n} for h, dt, n in rows]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
