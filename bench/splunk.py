"""Splunk rows into the store: stixgraph's GET against plain stix-shifter translation, same run.

1. N rows of the Caldera demo scenario as Splunk CIM rows (``bench/out/data/cim-N.jsonl``,
   made once by :func:`stixgraph.demo.caldera.generate_cim`).
2. *stix-shifter*: what a stix-shifter user (or Kestrel v1) does with those rows once they are
   fetched: ``ResultsConnector.check_data`` and ``translate('splunk', 'results', ...)`` in
   pages of 2,000 rows, STIX 2.0, one process.  No HTTP, no storage: a lower bound on its time.
3. *stixgraph*: ``GET x-oca-event FROM stixshifter://splunk WHERE code LIKE '%'`` over the whole
   time range (every row matches) against the Splunk emulator running in its own process
   (``stixgraph splunk-emulator serve``, HTTPS on loopback), into a fresh SQLite store file:
   REST paging, translation, normalisation and storage, end to end.

Prints rows/s for both and the ratio; the target is 40,000 rows/s for stixgraph.  Writes
``bench/out/splunk.json``.

Usage: python bench/splunk.py [--rows N] [--seed S]   (env BENCH_SPLUNK_ROWS)
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TARGET_ROWS_S = 40_000


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rows_file(n: int, seed: int) -> Path:
    from stixgraph.demo.caldera import generate_cim

    path = OUT / "data" / f"cim-{n}-s{seed}.jsonl"
    if not path.exists():
        log(f"# generating {path.name} (the demo scenario as CIM rows)")
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")
        generate_cim(part, n, seed)
        part.rename(path)
    return path


def read_rows(path: Path) -> list[dict]:
    import orjson

    with open(path, "rb") as f:
        return [orjson.loads(line) for line in f if line.strip()]


def bench_stix_shifter(rows: list[dict]) -> dict:
    from stix_shifter.stix_translation.stix_translation import StixTranslation
    from stix_shifter_modules.splunk.stix_transmission.results_connector import ResultsConnector

    from stixgraph.sources.stixshifter import identity_for

    ident = identity_for("splunk")
    tr = StixTranslation()
    objects = 0
    t = time.perf_counter()
    for i in range(0, len(rows), 2000):
        page = ResultsConnector.check_data([dict(r) for r in rows[i:i + 2000]])
        b = tr.translate("splunk", "results", dict(ident), page, {})
        objects += len(b["objects"]) - 1
    dt = time.perf_counter() - t
    return {"seconds": round(dt, 3), "rows": len(rows), "rows_per_s": round(len(rows) / dt),
            "observed_data": objects}


def start_emulator(path: Path):
    cmd = [str(ROOT / ".venv" / "bin" / "stixgraph"), "splunk-emulator", "serve",
           "--events", str(path), "--port", "0", "--now", "2024-12-20T00:00:00Z"] + (["-v"] if os.environ.get("EMU_V") else [])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    env = {}
    while len(env) < 3:
        line = p.stdout.readline()
        if not line:
            raise SystemExit("emulator did not start: " + p.stderr.read())
        if line.startswith("export "):
            line = line[len("export "):]
        key, _, val = line.strip().partition("=")
        if key.startswith("STIXSHIFTER_"):
            env[key] = shlex.split(val)[0] if val else ""
    return p, env


def bench_stixgraph(path: Path, n: int) -> dict:
    from stixgraph.session import Session

    store = OUT / "tmp" / "splunk-bench.db"
    store.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(store) + suffix).unlink(missing_ok=True)
    proc, env = start_emulator(path)
    try:
        conn = json.loads(env["STIXSHIFTER_SPLUNK_CONNECTION"])
        conn.setdefault("options", {})["result_limit"] = n + 1
        os.environ.update(env)
        os.environ["STIXSHIFTER_SPLUNK_CONNECTION"] = json.dumps(conn)
        s = Session(str(store))
        t = time.perf_counter()
        s.run("ev = GET x-oca-event FROM stixshifter://splunk WHERE code LIKE '%' "
              "START 2024-11-01T00:00:00Z STOP 2025-01-01T00:00:00Z")
        dt = time.perf_counter() - t
        got = s.store.db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        s.store.close()
    finally:
        proc.terminate()
        proc.wait()
    return {"seconds": round(dt, 3), "rows": got, "rows_per_s": round(got / dt)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_SPLUNK_ROWS", 100_000)))
    ap.add_argument("--seed", type=int, default=808)
    a = ap.parse_args(argv)
    path = rows_file(a.rows, a.seed)
    rows = read_rows(path)
    log(f"# {len(rows):,} CIM rows from {path.name}")
    log("# plain stix-shifter translation ...")
    ss = bench_stix_shifter(rows)
    del rows
    log("# stixgraph GET through the emulator ...")
    sg = bench_stixgraph(path, a.rows)
    ratio = sg["rows_per_s"] / ss["rows_per_s"]
    ok = "ok" if sg["rows_per_s"] >= TARGET_ROWS_S else "MISSED"
    print(f"| rows | stix-shifter translate rows/s | stixgraph GET rows/s | ratio | target |\n"
          f"|---:|---:|---:|---:|---|\n"
          f"| {sg['rows']:,} | {ss['rows_per_s']:,} ({ss['seconds']} s) | "
          f"{sg['rows_per_s']:,} ({sg['seconds']} s) | {ratio:.1f}x | "
          f">= {TARGET_ROWS_S:,} rows/s {ok} |")
    (OUT / "splunk.json").write_text(json.dumps({"stix_shifter": ss, "stixgraph": sg,
                                                 "ratio": round(ratio, 2)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
