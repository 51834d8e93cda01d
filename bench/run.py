"""Side-by-side benchmark: stixgraph against the Kestrel v1 peer on the same synthetic bundles.

For each size N (default 10k, 50k, 200k observed-data; env BENCH_SIZES or --sizes to change):

1. the bundle comes from the peer's generator, ../shared/peers/kestrel-v1/gen_bundle.py (seed 42),
   cached in bench/out/data/;
2. the peer's scale hunt (hunts/scale.hf.tmpl) is rendered with the bundle as its data source,
   Kestrel's file source ``"file:///abs/path"`` (quoted), used by both engines;
3. Kestrel v1 runs it through the peer's bench.py in its own virtualenv (built by the peer's
   setup.sh under bench/out/), with KESTREL_CONFIG=kestrel-noprefetch.yaml (prefetch off);
4. stixgraph runs it through bench/stixgraph_driver.py (library API) on a fresh SQLite store;
5. each engine runs in its own subprocess under /usr/bin/time -v (peak RSS); without it, the
   peak comes from the driver's own getrusage;
6. with ``$ARANGO_URL`` (and ``$ARANGO_PASSWORD``, ``$ARANGO_USER``), stixgraph runs the same
   hunt on ArangoDB too (a fresh database per size, dropped after) and the two backends'
   totals are printed side by side; without it, that step says it was skipped.

Prints, per size, the seconds of each statement for both engines, the whole-hunt time, the peak
RSS and the ratios (Kestrel/stixgraph time, stixgraph/Kestrel memory) next to the targets (at
200k: >= 20x faster, <= 1/4 of the memory, every FIND < 50 ms), and the statements whose
entity counts differ.  Writes bench/out/results.json and bench/out/results.md.

Usage: python bench/run.py [--sizes 10000,50000] [--engines kestrel,stixgraph]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / ".." / "shared" / "peers" / "kestrel-v1"
OUT = ROOT / "bench" / "out"
TIME = "/usr/bin/time"
SEED = 42

TARGET_N = 200_000
TARGET_SPEEDUP = 20.0
TARGET_MEMORY = 0.25
TARGET_FIND_S = 0.050

ROW = re.compile(r"^\s*(\d+\.\d+)s\s+n=\s*(\S+)\s+(.*)$")


def log(msg: str) -> None:
    print(msg, flush=True)


def run_measured(cmd: list[str], *, env=None, cwd=None, logfile: Path) -> dict:
    """Run cmd; return rc, stdout, wall seconds and peak RSS (MB, from /usr/bin/time -v)."""
    timed = os.access(TIME, os.X_OK)
    full = [TIME, "-v"] + cmd if timed else cmd
    t0 = time.perf_counter()
    p = subprocess.run(full, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    logfile.write_text(f"$ {' '.join(full)}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")
    rss, stderr = None, p.stderr
    if timed:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        rss = int(m.group(1)) / 1024 if m else None
        stderr = re.sub(r"(?m)^Command (exited with non-zero status|terminated by signal) .*$", "",
                        p.stderr.split("\tCommand being timed:")[0])
    return {"rc": p.returncode, "stdout": p.stdout, "stderr": stderr, "wall_s": wall,
            "rss_mb": rss}


def parse_bench_output(stdout: str) -> dict:
    """The peer's bench.py format: statement rows, then one JSON line."""
    rows, summary = [], {}
    for line in stdout.splitlines():
        m = ROW.match(line)
        if m:
            n = m.group(2)
            rows.append({"seconds": float(m.group(1)),
                         "n": None if n == "None" else int(n) if n.lstrip("-").isdigit() else n,
                         "text": m.group(3)})
        elif line.startswith("{"):
            try:
                summary = json.loads(line)
            except ValueError:
                pass
    summary.pop("statements", None)
    return {"statements": rows, **summary}


# -- the two engines ------------------------------------------------------------------------------

def setup_kestrel() -> Path:
    venv = OUT / "kestrel-v1-venv"
    log(f"# Kestrel v1 peer: {PEER.resolve()}/setup.sh {venv} (about 40 s the first time)")
    p = subprocess.run(["bash", str(PEER / "setup.sh"), str(venv)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    (OUT / "logs" / "kestrel-setup.log").write_text(p.stdout + "\n--- stderr\n" + p.stderr)
    if p.returncode != 0:
        raise SystemExit(f"setup.sh failed ({p.returncode}); see {OUT / 'logs' / 'kestrel-setup.log'}")
    return Path(p.stdout.strip().splitlines()[-1])


def make_bundle(n: int) -> Path:
    path = OUT / "data" / f"syn-{n}.json"
    if not path.exists():
        log(f"# generating {path.name} with the peer's gen_bundle.py")
        part = path.with_suffix(".part")
        subprocess.run([sys.executable, str(PEER / "gen_bundle.py"), str(n), str(part), str(SEED)],
                       check=True, stdin=subprocess.DEVNULL)
        part.rename(path)
    return path


def render_hunt(n: int, bundle: Path) -> Path:
    text = (PEER / "hunts" / "scale.hf.tmpl").read_text()
    hunt = OUT / "hunts" / f"scale-{n}.hf"
    hunt.write_text(text.replace("SRC", f'"file://{bundle.resolve()}"'))
    return hunt


def run_kestrel(venv: Path, hunt: Path, n: int) -> dict:
    env = dict(os.environ, KESTREL_CONFIG=str((PEER / "kestrel-noprefetch.yaml").resolve()),
               TMPDIR=str(OUT / "tmp"))
    r = run_measured([str(venv / "bin" / "python"), str((PEER / "bench.py").resolve()), str(hunt)],
                     env=env, cwd=OUT / "tmp", logfile=OUT / "logs" / f"kestrel-{n}.log")
    return _result("kestrel", r)


def run_stixgraph(hunt: Path, n: int) -> dict:
    store = OUT / "tmp" / f"stixgraph-{n}.db"
    _rm_store(store)
    py = ROOT / ".venv" / "bin" / "python"
    r = run_measured([str(py if py.exists() else sys.executable), str(ROOT / "bench" / "stixgraph_driver.py"),
                      str(hunt), "--store", str(store)],
                     cwd=OUT / "tmp", logfile=OUT / "logs" / f"stixgraph-{n}.log")
    _rm_store(store)
    return _result("stixgraph", r)


def arango_store_url(n: int) -> str | None:
    """``arango://USER@HOST:PORT/stixgraph_bench_N`` from ``$ARANGO_URL`` (``http://host:port``;
    the password stays in ``$ARANGO_PASSWORD``), or None when no server is given."""
    from urllib.parse import urlsplit

    url = os.environ.get("ARANGO_URL")
    if not url:
        return None
    u = urlsplit(url)
    tls = "?tls=1" if u.scheme == "https" else ""
    return (f"arango://{os.environ.get('ARANGO_USER', 'root')}@{u.hostname}:{u.port or 8529}"
            f"/stixgraph_bench_{n}{tls}")


def run_stixgraph_arango(hunt: Path, n: int) -> dict | None:
    """The same hunt by stixgraph on ArangoDB (a fresh database per size, dropped after)."""
    store = arango_store_url(n)
    if store is None:
        return None
    py = ROOT / ".venv" / "bin" / "python"
    r = run_measured([str(py if py.exists() else sys.executable),
                      str(ROOT / "bench" / "stixgraph_driver.py"), str(hunt), "--store", store],
                     cwd=OUT / "tmp", logfile=OUT / "logs" / f"stixgraph-arango-{n}.log")
    try:
        from arango import ArangoClient

        sys_db = ArangoClient(hosts=os.environ["ARANGO_URL"]).db(
            "_system", username=os.environ.get("ARANGO_USER", "root"),
            password=os.environ.get("ARANGO_PASSWORD", ""))
        sys_db.delete_database(f"stixgraph_bench_{n}", ignore_missing=True)
    except Exception as e:  # noqa: BLE001 - the result stands; say the clean-up failed
        log(f"# could not drop stixgraph_bench_{n}: {e}")
    return _result("stixgraph-arango", r)


def _rm_store(store: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(store) + suffix).unlink(missing_ok=True)


def _result(engine: str, r: dict) -> dict:
    res = parse_bench_output(r["stdout"])
    res["wall_s"] = round(r["wall_s"], 3)
    peaks = [x for x in (r["rss_mb"], res.get("maxrss_self_MB"), res.get("maxrss_children_MB"))
             if x is not None]
    res["peak_rss_mb"] = round(max(peaks), 1) if peaks else None
    if r["rc"] != 0 or "total_s" not in res:
        tail = (r["stderr"].strip().splitlines() or ["(no output)"])[-1].strip()
        res["error"] = f"{engine} exited {r['rc']}: {tail}"
    return res


# -- comparison and report ------------------------------------------------------------------------

def compare(n: int, k: dict | None, s: dict | None) -> dict:
    ks = (k or {}).get("statements", [])
    ss = (s or {}).get("statements", [])
    both = bool(k and s and not k.get("error") and not s.get("error"))
    rows, diffs = [], []
    for i in range(max(len(ks), len(ss))):
        a = ks[i] if i < len(ks) else {}
        b = ss[i] if i < len(ss) else {}
        text = b.get("text") or a.get("text", "")
        ratio = (a["seconds"] / b["seconds"]) if a.get("seconds") and b.get("seconds") else None
        rows.append({"text": text, "kestrel_s": a.get("seconds"), "stixgraph_s": b.get("seconds"),
                     "ratio": ratio, "kestrel_n": a.get("n"), "stixgraph_n": b.get("n")})
        if not both:
            continue
        if a and b and a.get("n") != b.get("n"):
            diffs.append(f"{text}: Kestrel n={a.get('n')}, stixgraph n={b.get('n')}")
        elif bool(a) != bool(b):
            diffs.append(f"{text}: only {'Kestrel' if a else 'stixgraph'} ran it")
    kt, st = (k or {}).get("total_s"), (s or {}).get("total_s")
    km, sm = (k or {}).get("peak_rss_mb"), (s or {}).get("peak_rss_mb")
    finds = [r["stixgraph_s"] for r in rows if r["stixgraph_s"] is not None
             and re.search(r"=\s*FIND\b", r["text"])]
    return {
        "n": n, "statements": rows, "count_differences": diffs,
        "kestrel": k, "stixgraph": s,
        "speedup": (kt / st) if both and kt and st else None,
        "memory_ratio": (sm / km) if both and km and sm else None,
        "max_find_s": max(finds) if finds else None,
    }


def _f(x, fmt="{:.3f}", none="-"):
    return none if x is None else fmt.format(x)


def _verdict(ok) -> str:
    return "" if ok is None else ("ok" if ok else "MISSED")


def report(results: list[dict]) -> str:
    lines = []
    for r in results:
        k, s = r["kestrel"] or {}, r["stixgraph"] or {}
        lines.append(f"\n## {r['n']:,} observed-data\n")
        lines.append("| statement | Kestrel v1 s | stixgraph s | Kestrel/stixgraph | Kestrel n | stixgraph n |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for row in r["statements"]:
            lines.append(f"| `{row['text']}` | {_f(row['kestrel_s'])} | {_f(row['stixgraph_s'])} | "
                         f"{_f(row['ratio'], '{:.1f}x')} | {_f(row['kestrel_n'], '{}')} | "
                         f"{_f(row['stixgraph_n'], '{}')} |")
        lines.append(f"| **whole hunt** (session + statements) | {_f(k.get('total_s'))} | "
                     f"{_f(s.get('total_s'))} | {_f(r['speedup'], '{:.1f}x')} | | |")
        lines.append(f"| process wall time (with interpreter start, imports) | {_f(k.get('wall_s'))} | "
                     f"{_f(s.get('wall_s'))} | | | |")
        lines.append(f"| peak RSS MB | {_f(k.get('peak_rss_mb'), '{:.0f}')} | "
                     f"{_f(s.get('peak_rss_mb'), '{:.0f}')} | stixgraph/Kestrel "
                     f"{_f(r['memory_ratio'], '{:.2f}')} | | |")
        for who, res in (("Kestrel", k), ("stixgraph", s)):
            if res.get("error"):
                lines.append(f"\n{who} failed: {res['error']}")
        if r["count_differences"]:
            lines.append("\nEntity counts differ:")
            lines += [f"- {d}" for d in r["count_differences"]]
        elif r["speedup"] is not None:
            lines.append("\nEntity counts agree on every statement.")
    lines.append("\n## Summary and targets\n")
    lines.append("| N | Kestrel s | stixgraph s | speedup (target) | Kestrel MB | stixgraph MB | "
                 "memory ratio (target) | slowest FIND ms (target) |")
    lines.append("|---:|---:|---:|---|---:|---:|---|---|")
    for r in results:
        k, s = r["kestrel"] or {}, r["stixgraph"] or {}
        at = r["n"] >= TARGET_N
        sp, mr, fd = r["speedup"], r["memory_ratio"], r["max_find_s"]
        lines.append(
            f"| {r['n']:,} | {_f(k.get('total_s'))} | {_f(s.get('total_s'))} | "
            f"{_f(sp, '{:.1f}x')}" + (f" (>= {TARGET_SPEEDUP:.0f}x {_verdict(sp and sp >= TARGET_SPEEDUP)})" if at else "")
            + f" | {_f(k.get('peak_rss_mb'), '{:.0f}')} | {_f(s.get('peak_rss_mb'), '{:.0f}')} | "
            f"{_f(mr, '{:.2f}')}" + (f" (<= {TARGET_MEMORY:.2f} {_verdict(mr and mr <= TARGET_MEMORY)})" if at else "")
            + f" | {_f(fd and fd * 1000, '{:.1f}')}"
            + (f" (< {TARGET_FIND_S * 1000:.0f} {_verdict(fd is not None and fd < TARGET_FIND_S)})" if at else "")
            + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "10000,50000,200000"),
                    help="comma-separated observed-data counts (env BENCH_SIZES)")
    ap.add_argument("--engines", default="kestrel,stixgraph")
    a = ap.parse_args(argv)
    sizes = [int(x.replace("_", "")) for x in a.sizes.split(",") if x.strip()]
    engines = {e.strip() for e in a.engines.split(",")}
    if not PEER.is_dir():
        raise SystemExit(f"peer not found: {PEER} (expected ../shared/peers/kestrel-v1 beside the repo)")
    for d in ("data", "hunts", "logs", "tmp"):
        (OUT / d).mkdir(parents=True, exist_ok=True)

    venv = setup_kestrel() if "kestrel" in engines else None
    results = []
    for n in sizes:
        bundle = make_bundle(n)
        hunt = render_hunt(n, bundle)
        k = s = None
        if venv:
            log(f"# N={n:,}: Kestrel v1 (prefetch off) ...")
            k = run_kestrel(venv, hunt, n)
        if "stixgraph" in engines:
            log(f"# N={n:,}: stixgraph ...")
            s = run_stixgraph(hunt, n)
        results.append(compare(n, k, s))
        print(report([results[-1]]).split("\n## Summary")[0], flush=True)
        if "stixgraph" in engines:
            if os.environ.get("ARANGO_URL"):
                log(f"# N={n:,}: stixgraph on ArangoDB ({os.environ['ARANGO_URL']}) ...")
                a_res = run_stixgraph_arango(hunt, n)
                results[-1]["stixgraph_arango"] = a_res
                if a_res and not a_res.get("error") and s and not s.get("error"):
                    log(f"# N={n:,}: ArangoDB {a_res['total_s']:.2f} s, SQLite {s['total_s']:.2f} s "
                        f"(same run)")
                elif a_res:
                    log(f"# N={n:,}: ArangoDB run failed: {a_res.get('error')}")
            else:
                log(f"# N={n:,}: ArangoDB benchmark skipped: no server (set ARANGO_URL and "
                    f"ARANGO_PASSWORD to run the scale hunt on ArangoDB too)")

    text = report(results)
    print(text.split("\n## Summary and targets\n", 1)[1])
    header = (f"# stixgraph vs Kestrel v1\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
              f"{platform.python_implementation()} {platform.python_version()}, "
              f"{os.cpu_count()} CPUs. Bundles: the peer's gen_bundle.py (seed {SEED}); hunt: the "
              f"peer's scale.hf.tmpl with Kestrel's file source; Kestrel v1 with prefetch off. "
              f"Seconds per statement, whole hunt = session open + statements; peak RSS from "
              f"/usr/bin/time -v.\n")
    (OUT / "results.md").write_text(header + text)
    (OUT / "results.json").write_text(json.dumps(
        {"generated": datetime.now(timezone.utc).isoformat(), "python": platform.python_version(),
         "cpus": os.cpu_count(), "targets": {"n": TARGET_N, "speedup": TARGET_SPEEDUP,
                                             "memory_ratio": TARGET_MEMORY, "find_s": TARGET_FIND_S},
         "results": results}, indent=2))
    log(f"# wrote {OUT / 'results.md'} and {OUT / 'results.json'}")
    failed = [r for r in results for who in ("kestrel", "stixgraph") if (r[who] or {}).get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
