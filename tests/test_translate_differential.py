"""Differential test: every row of the demo scenario and of the OTRF data, translated by
stixgraph's compiled Splunk translator and by stix-shifter's splunk module, must give the same
observed-data, object by object (ids and created/modified excepted: see
:mod:`stixgraph.splunk.translate`).

Both ``check_data`` paths are compared first (the rows must be equal, key order included),
then :class:`~stixgraph.splunk.translate.Translator` against
:func:`~stixgraph.splunk.translate.stix_shifter_translate` with
:func:`~stixgraph.splunk.translate.compare` (the comparison ``assert_same_as_stix_shifter``
uses).  A mismatch is reported as the source, the row index and the first differing key, with
short values, not as a diff of whole rows.

stix-shifter translates ~3k rows/s a core and the OTRF zips hold ~133k CIM rows, so the work
runs in a forked process pool, one job per source (largest first), started when the first test
of this module asks for a result: the wall time is about the CPU time over the core count.
Each test asserts the number of rows compared equals the number of CIM rows its source
produced, and is not zero, so the test cannot pass vacuously.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

import stix_shifter  # noqa: E402,F401
import stix_shifter_modules.splunk  # noqa: E402,F401

from stixgraph.splunk.translate import (Translator, check_data, check_data_stix_shifter,  # noqa: E402
                                        compare, stix_shifter_translate)

OTRF_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "otrf"
OTRF_ZIPS = sorted(OTRF_DIR.glob("*.zip")) if OTRF_DIR.is_dir() else []
DEMO = "demo"                     # the scenario ``stixgraph demo`` / ``make demo`` serve
DEMO_SIZE, DEMO_SEED = 5000, 808
CHUNK = 2000
WORKERS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
              (os.cpu_count() or 1), 8)


# -- the comparison (runs in the workers) ------------------------------------------------------

def _short(v, n: int = 160) -> str:
    s = repr(v)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


def _first_difference(a, b, path: str = "") -> str | None:
    """The first place two JSON-like values differ (key order of dicts included), briefly."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                return f"{path}[{k!r}] only in fast: {_short(a[k])}"
            if k not in a:
                return f"{path}[{k!r}] only in stix-shifter: {_short(b[k])}"
            d = _first_difference(a[k], b[k], f"{path}[{k!r}]")
            if d:
                return d
        if list(a) != list(b):
            return f"{path} key order {_short(list(a))} != {_short(list(b))}"
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            d = _first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if type(a) is not type(b) or a != b:
        return f"{path or 'value'}: fast {_short(a)} != stix-shifter {_short(b)}"
    return None


def _ident(row: dict) -> str:
    """A few fields that identify a CIM row, for a failure message."""
    return _short({k: row[k] for k in ("_time", "host", "EventCode", "EventID", "EventRecordID",
                                       "signature") if k in row}, 300)


def _compare_chunk(tr: Translator, batch: list[dict], start: int) -> tuple[int, int, str | None]:
    """One chunk through both check_datas and both translators: (rows compared, STIX objects
    compared, first mismatch or None)."""
    fast_rows = check_data(batch)
    ref_rows = check_data_stix_shifter(batch)
    if len(fast_rows) != len(ref_rows):
        return 0, 0, f"check_data: {len(fast_rows)} rows != stix-shifter's {len(ref_rows)}"
    for i, (x, y) in enumerate(zip(fast_rows, ref_rows)):
        if x != y or list(x) != list(y):
            return 0, 0, (f"row {start + i}: check_data differs: {_first_difference(x, y)}")
    mine = tr.translate(fast_rows)
    theirs = stix_shifter_translate(ref_rows, tr.identity)
    if not (len(mine) == len(theirs) == len(batch)):
        return 0, 0, (f"rows {start}..{start + len(batch) - 1}: {len(batch)} rows gave "
                      f"{len(mine)} observed-data (fast), {len(theirs)} (stix-shifter)")
    nobj = 0
    for i, (a, b) in enumerate(zip(mine, theirs)):
        diffs = compare(a, b)
        if diffs:
            first = _first_difference(
                {k: v for k, v in a.items() if k not in ("id", "created", "modified")},
                {k: v for k, v in b.items() if k not in ("id", "created", "modified")})
            return 0, 0, (f"row {start + i}: observed-data differs from stix-shifter's "
                          f"({len(diffs)} difference(s)); first: {first or _short(diffs[0])}"
                          f"; row: {_ident(batch[i])}")
        nobj += len(a["objects"])
    return len(batch), nobj, None


def _rows(source: str):
    if source == DEMO:
        from stixgraph.demo.caldera import iter_cim_rows
        return iter_cim_rows(DEMO_SIZE, DEMO_SEED)
    from stixgraph.splunk.cim import iter_cim_rows
    return iter_cim_rows([source])


def _job(source: str) -> dict:
    """Every CIM row of ``source`` compared (in a worker process)."""
    t0 = time.perf_counter()
    tr = _TRANSLATOR or Translator()
    fallback0 = tr.fallback_rows          # a worker's translator serves several sources
    produced = compared = objects = 0
    batch: list[dict] = []
    mismatch = None
    for row in _rows(source):
        produced += 1
        batch.append(row)
        if len(batch) >= CHUNK:
            n, o, mismatch = _compare_chunk(tr, batch, compared)
            compared, objects = compared + n, objects + o
            batch = []
            if mismatch:
                break
    if batch and not mismatch:
        n, o, mismatch = _compare_chunk(tr, batch, compared)
        compared, objects = compared + n, objects + o
    return {"produced": produced, "compared": compared, "objects": objects,
            "mismatch": mismatch, "fallback_rows": tr.fallback_rows - fallback0,
            "seconds": time.perf_counter() - t0}


_TRANSLATOR: Translator | None = None     # built once before the fork, inherited by workers


# -- the pool --------------------------------------------------------------------------------

def _source_of(item) -> str | None:
    cs = getattr(item, "callspec", None)
    return cs.params.get("source") if cs is not None else None


@pytest.fixture(scope="module")
def results(request):
    """source -> AsyncResult for the sources the selected tests of this module ask for, submitted
    largest first; None (computed in the test's own process) for a single source, one core, or
    no fork start method."""
    global _TRANSLATOR
    wanted = [s for s in (_source_of(i) for i in request.session.items
                          if i.module is request.module) if s]
    wanted = sorted(set(wanted), key=lambda s: -(0 if s == DEMO else os.path.getsize(s)))
    _TRANSLATOR = Translator()        # imports stix-shifter and compiles the map once
    check_data_stix_shifter([])       # imports the results connector
    if WORKERS < 2 or len(wanted) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield {s: None for s in wanted}
        return
    pool = multiprocessing.get_context("fork").Pool(min(WORKERS, len(wanted)))
    try:
        yield {s: pool.apply_async(_job, (s,)) for s in wanted}
    finally:
        pool.terminate()
        pool.join()


def _result(results, source: str) -> dict:
    r = results.get(source)
    return _job(source) if r is None else r.get(timeout=900)


def _check(res: dict, label: str) -> None:
    assert res["mismatch"] is None, f"{label}: {res['mismatch']}"
    assert res["produced"] > 0, f"{label}: no CIM rows produced"
    assert res["compared"] == res["produced"], \
        f"{label}: {res['compared']} rows compared of {res['produced']} CIM rows"
    assert res["objects"] > 0, f"{label}: no STIX objects compared"
    print(f"{label}: {res['compared']} rows, {res['objects']} STIX objects identical "
          f"({res['fallback_rows']} via stix-shifter fallback) in {res['seconds']:.1f} s")


# -- the tests -------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [DEMO])
def test_every_demo_row_same_as_stix_shifter(results, source):
    res = _result(results, source)
    _check(res, f"demo scenario size={DEMO_SIZE} seed={DEMO_SEED}")
    assert res["produced"] == DEMO_SIZE   # one CIM row per scenario event


if OTRF_ZIPS:
    _OTRF_PARAMS = [pytest.param(str(p), id=p.stem) for p in OTRF_ZIPS]
else:
    _OTRF_PARAMS = [pytest.param(None, id="absent", marks=pytest.mark.skip(
        reason=f"OTRF data {OTRF_DIR} (*.zip) is not present on this machine"))]


@pytest.mark.parametrize("source", _OTRF_PARAMS)
def test_every_otrf_row_same_as_stix_shifter(results, source):
    _check(_result(results, source), Path(source).name)
