"""The fast GET path: reading a bundle in reader processes (one or two, the file split in
two), the prepared-chunk ingest, and the counts kept at ingest (``obs_q``, ``ent_q``,
``query_counts``).  Everything is checked against the plain path (one process, the store's
own queries) on the same data: same rows, same ids, same variables, same counts."""
from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bundles import bundle20, observed, proc_obs, write
from stixgraph.errors import StixgraphError
from stixgraph.sources import bundle as source_mod
from stixgraph.stix import bundle as bundle_mod
from stixgraph.store import sqlite as sqlite_mod

GEN = Path(__file__).resolve().parents[1].parent / "shared" / "peers" / "kestrel-v1" / "gen_bundle.py"

HUNT = """\
procs = GET process FROM "{uri}" WHERE name = 'cmd.exe'
nt = GET network-traffic FROM "{uri}" WHERE dst_port = 443
ntprocs = FIND process CREATED nt
files = FIND file LINKED procs
users = FIND user-account OWNED procs
again = GET process FROM "{uri}" WHERE name = 'cmd.exe' OR name = 'powershell.exe'
srt = SORT ntprocs BY pid ASC
"""

TABLES = {
    "entities": "SELECT eid, cid, id, type, props FROM entities ORDER BY eid",
    "edges": "SELECT * FROM edges ORDER BY src, rel, dst",
    "contains": "SELECT * FROM contains ORDER BY oid, eid",
    "observations": "SELECT oid, cid, id, first_observed, last_observed, number_observed, props "
                    "FROM observations ORDER BY oid",
    "query_obs": "SELECT * FROM query_obs ORDER BY qid, oid",
    "var_rows": "SELECT vid, eid, oid, data FROM var_rows ORDER BY rid",
    "variables": "SELECT name, type, kind, columns, entities, records, cached FROM variables "
                 "ORDER BY vid",
}


def dump(store) -> dict:
    return {t: store.db.execute(q).fetchall() for t, q in TABLES.items()}


@pytest.fixture
def small_split(monkeypatch):
    """Reader processes and file splitting for small files."""
    monkeypatch.setattr(bundle_mod, "CHUNK", 1 << 14)
    monkeypatch.setattr(source_mod, "PARALLEL_MIN", 1)
    monkeypatch.setattr(source_mod, "SPLIT_MIN", 1)
    monkeypatch.setattr(source_mod, "CHILD_CHUNK", 37)
    monkeypatch.setattr(bundle_mod, "_BLOCKS", {})


def no_children(monkeypatch):
    monkeypatch.setattr(source_mod, "PARALLEL_MIN", 1 << 62)


def run(make_session, text, store=":memory:"):
    s = make_session(store=store)
    s.run(text)
    return s


def check_derived(store):
    """obs_q, ent_q and query_counts agree with the base tables."""
    db = store.db
    qsets = {q: {int(x) for x in s.split(",")} for q, s in db.execute("SELECT qsid, qids FROM qsets")}
    qsets[0] = set()
    qobs: dict[int, set] = {}
    for qid, oid in db.execute("SELECT qid, oid FROM query_obs"):
        qobs.setdefault(oid, set()).add(qid)
    n_of = dict(db.execute("SELECT oid, number_observed FROM observations"))
    got = {oid: (n, qsets[qsid]) for oid, qsid, n in db.execute("SELECT oid, qsid, n FROM obs_q")}
    assert got == {oid: (n, qobs.get(oid, set())) for oid, n in n_of.items()}
    want: dict[int, list] = {}
    for oid, eid in db.execute("SELECT oid, eid FROM contains"):
        w = want.setdefault(eid, [0, set()])
        w[0] += n_of[oid]
        w[1] |= qobs.get(oid, set())
    got = {eid: [n, qsets[qsid]] for eid, n, qsid in db.execute("SELECT eid, nrec, qsid FROM ent_q")}
    assert got == want
    for qid, etype, n in db.execute("SELECT qid, etype, n FROM query_counts WHERE etype != ''"):
        assert n == db.execute("SELECT COUNT(*) FROM query_obs q JOIN contains c ON c.oid = q.oid "
                               "WHERE q.qid = ? AND c.etype = ?", (qid, etype)).fetchone()[0]


def reference_counts(store, name):
    """The variable's counts by the original definitions, straight from the base tables."""
    db = store.db
    vid, kind, etype = db.execute("SELECT vid, kind, type FROM variables WHERE name = ?",
                                  (name,)).fetchone()
    ents = db.execute("SELECT COUNT(DISTINCT eid) FROM var_rows WHERE vid = ?", (vid,)).fetchone()[0]
    if kind == "records":
        rec = db.execute("SELECT COALESCE(SUM(o.number_observed), 0) FROM var_rows v JOIN "
                         "observations o ON o.oid = v.oid WHERE v.vid = ?", (vid,)).fetchone()[0]
    else:
        rec = db.execute("SELECT COALESCE(SUM(o.number_observed), 0) FROM (SELECT DISTINCT eid "
                         "FROM var_rows WHERE vid = ?) v JOIN contains c ON c.eid = v.eid JOIN "
                         "observations o ON o.oid = c.oid", (vid,)).fetchone()[0]
    if rec == 0:
        rec = db.execute("SELECT COUNT(*) FROM var_rows WHERE vid = ?", (vid,)).fetchone()[0]
    rows = db.execute(
        "SELECT c.etype, COUNT(*) FROM contains c WHERE c.oid IN (SELECT oid FROM query_obs "
        "WHERE qid IN (SELECT DISTINCT q.qid FROM (SELECT DISTINCT eid FROM var_rows "
        "WHERE vid = ?) v JOIN contains c2 ON c2.eid = v.eid JOIN query_obs q ON q.oid = c2.oid))"
        " GROUP BY c.etype", (vid,)).fetchall()
    cached = {t: n - (ents if t == etype else 0) for t, n in rows} if ents else {}
    return ents, rec, cached


def check_statements(s, text):
    """Run ``text`` statement by statement, comparing each new variable's counts with the
    reference definitions right after it is made."""
    from stixgraph.lang import parse

    for stmt in parse(text, "<t>").statements:
        s.execute(stmt)
        if stmt.output:
            v = s.vars[stmt.output]
            ents, rec, cached = reference_counts(s.store, stmt.output)
            assert (v.entities, v.records) == (ents, rec), stmt.pos.text
            if v.command in ("GET", "FIND") and v.entities:
                assert v.cached == cached, stmt.pos.text
        check_derived(s.store)


# ---------------------------------------------------------------------------
# split reading = plain reading


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    if not GEN.exists():
        pytest.skip(f"{GEN} is not present on this machine")
    out = tmp_path_factory.mktemp("syn") / "syn.json"
    subprocess.run([sys.executable, str(GEN), "1500", str(out), "11"], check=True)
    return out


def test_split_reading_stores_exactly_what_plain_reading_does(synthetic, make_session,
                                                             small_split, monkeypatch):
    text = HUNT.format(uri="file://" + str(synthetic))
    fast = run(make_session, text)
    assert bundle_mod.split_point(synthetic) is not None
    assert multiprocessing.active_children() == []
    check_derived(fast.store)
    with monkeypatch.context() as m:
        no_children(m)
        plain = run(make_session, text)
    assert dump(fast.store) == dump(plain.store)
    assert fast.vars["ntprocs"].entities > 0 and fast.vars["users"].entities > 0


def test_counts_match_their_definitions(synthetic, make_session, small_split):
    s = make_session()
    check_statements(s, HUNT.format(uri="file://" + str(synthetic)))


def test_chunking_does_not_matter(tmp_path, make_session, monkeypatch):
    """Sightings of one object that differ (in and across batches, with nested values) merge
    the same whatever the chunk and process layout."""
    obs = []
    for i in range(40):
        o = proc_obs(100 + i % 5, "cmd.exe", f"cmd /c {i}", guid=f"g{i % 5}",
                     dst="1.2.3.4" if i % 3 else None)
        o["objects"]["3"]["x_ext"] = {"a": i, f"k{i % 4}": None if i % 7 == 0 else i}
        if i % 4 == 0:
            o["objects"]["3"]["command_line"] = None
        obs.append(o)
    obs.append(obs[5])  # the same observed-data twice
    uri = write(tmp_path / "b.json", bundle20(obs))
    text = f'p = GET process FROM "{uri}" WHERE name = \'cmd.exe\'\nq = FIND ipv4-addr LINKED p'
    results = []
    for chunk, batch in [(1, 4000), (3, 4000), (1000, 4000), (1, 7), (5, 7), (1000, 7)]:
        monkeypatch.setattr(sqlite_mod, "CHUNK_OBS", chunk)
        s = make_session()
        ingest = s.store.ingest
        s.store.ingest = lambda o, qid=None, _i=ingest, _b=batch: _i(o, qid, batch_size=_b)
        s.run(text)
        check_derived(s.store)
        results.append((batch, dump(s.store)))
    for batch, d in results:
        assert d == next(x for b, x in results if b == batch)


@pytest.mark.parametrize("where", ["first", "second"])
def test_stix21_refs_fall_back_to_one_reader(tmp_path, make_session, small_split, monkeypatch,
                                            where):
    objs = [observed({"0": {"type": "process", "pid": i, "name": "cmd.exe"}}) for i in range(400)]
    sco = {"type": "process", "spec_version": "2.1", "id": "process--5e0b7d3c-0000-4000-8000-000000000001",
           "pid": 9999, "name": "cmd.exe"}
    od21 = {"type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{uuid.uuid4()}",
            "first_observed": "2024-12-12T16:43:24Z", "last_observed": "2024-12-12T16:43:24Z",
            "number_observed": 1, "object_refs": [sco["id"]]}
    at = 20 if where == "first" else 380
    objs[at:at] = [sco, od21]
    p = tmp_path / "b21.json"
    p.write_text('{"type": "bundle", "id": "bundle--x", "objects": [\n'
                 + ",\n".join(json.dumps(o) for o in objs) + "]}")
    text = f'p = GET process FROM "file://{p}" WHERE name = \'cmd.exe\''
    fast = run(make_session, text)
    assert multiprocessing.active_children() == []
    with monkeypatch.context() as m:
        no_children(m)
        plain = run(make_session, text)
    assert dump(fast.store) == dump(plain.store)
    assert fast.vars["p"].entities == 401


def test_a_wrong_split_guess_is_caught(tmp_path, make_session, small_split, monkeypatch):
    """The separator in the middle of the file lies inside an element (a multi-line nested
    list of objects): the first reader reads past it and the second one is dropped."""
    elements = []
    for i in range(300):
        od = observed({"0": {"type": "process", "pid": i, "name": "cmd.exe"}})
        elements.append(json.dumps(od))
    big = observed({"0": {"type": "process", "pid": 7777, "name": "cmd.exe",
                          "x_list": [{"k": j} for j in range(4000)]}})
    text_big = json.dumps(big).replace('}, {"k"', '},\n{"k"')
    elements.insert(150, text_big)
    p = tmp_path / "fake.json"
    p.write_text('{"type": "bundle", "id": "bundle--f", "objects": [\n' + ",\n".join(elements) + "]}")
    x, _ = bundle_mod.split_point(p)
    body = p.read_bytes()
    start = body.index(b'"x_list"')
    assert start < x < body.index(b"]", start)  # the guess is inside the big element
    text = f'p = GET process FROM "file://{p}" WHERE name = \'cmd.exe\''
    fast = run(make_session, text)
    with monkeypatch.context() as m:
        no_children(m)
        plain = run(make_session, text)
    assert dump(fast.store) == dump(plain.store)
    assert fast.vars["p"].entities == 301


@pytest.mark.parametrize("damage", ["truncate", "first_half", "second_half"])
def test_errors_are_the_plain_ones_and_change_nothing(synthetic, tmp_path, make_session,
                                                     small_split, monkeypatch, damage):
    data = synthetic.read_bytes()
    if damage == "truncate":
        data = data[:-3000]
    else:  # an unbalanced brace in an element that does not match
        at = data.index(b'"number_observed": ', len(data) // 4 if damage == "first_half"
                        else len(data) * 3 // 4) + len(b'"number_observed": ')
        data = data[:at] + b"{" + data[at:]
    p = tmp_path / "bad.json"
    p.write_bytes(data)
    good = "file://" + str(synthetic)
    text = f'q = GET process FROM "{good}" WHERE name = \'cmd.exe\''
    msgs = []
    for parallel in (True, False):
        with monkeypatch.context() as m:
            if not parallel:
                no_children(m)
            s = run(make_session, text)
            before = dump(s.store)
            with pytest.raises(StixgraphError) as e:
                s.run(f'q = GET process FROM "file://{p}" WHERE name = \'cmd.exe\'')
            assert dump(s.store) == before
            assert multiprocessing.active_children() == []
            msgs.append(str(e.value))
    assert msgs[0] == msgs[1] and "bad.json" in msgs[0] and "\n" not in msgs[0]


def test_interrupt_while_storing_leaves_nothing_behind(synthetic, make_session, small_split):
    s = make_session()
    s.run(f'p = GET process FROM "file://{synthetic}" WHERE name = \'powershell.exe\'')
    before = dump(s.store)
    calls = {"n": 0}
    write_chunk = s.store._write_chunk

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return write_chunk(*a, **k)

    s.store._write_chunk = interrupted
    with pytest.raises(KeyboardInterrupt):
        s.run(f'p = GET process FROM "file://{synthetic}" WHERE pid > 0')
    assert multiprocessing.active_children() == []
    assert dump(s.store) == before
    s.store._write_chunk = write_chunk
    s.run(f'p = GET process FROM "file://{synthetic}" WHERE name = \'cmd.exe\'')
    check_derived(s.store)


def test_second_read_of_a_file_reuses_its_verified_blocks(synthetic, make_session, small_split):
    s = make_session()
    s.run(f'p = GET process FROM "file://{synthetic}" WHERE name = \'cmd.exe\'')
    assert bundle_mod._BLOCKS  # the readers sent their verified blocks back
    first = dump(s.store)
    s.run(f'p = GET process FROM "file://{synthetic}" WHERE name = \'cmd.exe\'')
    after = dump(s.store)
    assert after["entities"] == first["entities"] and after["contains"] == first["contains"]
    os.utime(synthetic)  # a touched file is verified again
    key = next(iter(bundle_mod._BLOCKS))
    assert os.stat(synthetic).st_ctime_ns != key[4]


# ---------------------------------------------------------------------------
# counts kept at ingest, in the unusual cases


def test_counts_with_reloads_overlaps_and_odd_observations(tmp_path, make_session):
    a = [proc_obs(100 + i, "cmd.exe", f"c{i}", dst="9.9.9.9" if i % 2 else None) for i in range(6)]
    b = [proc_obs(200 + i, "powershell.exe", f"p{i}", user="other") for i in range(4)]
    heavy = proc_obs(300, "cmd.exe", "heavy")
    heavy["number_observed"] = 5
    dup = json.loads(json.dumps(a[0]))
    dup["objects"]["8"] = {"type": "mutex", "name": "extra"}  # same id, one more object
    uri1 = write(tmp_path / "one.json", bundle20(a + b + [heavy]))
    uri2 = write(tmp_path / "two.json", bundle20(a[:3] + [dup]))
    s = make_session()
    check_statements(s, f"""
p = GET process FROM "{uri1}" WHERE name = 'cmd.exe'
q = GET process FROM "{uri1}" WHERE name = 'cmd.exe'
u = FIND user-account OWNED p
w = GET process FROM "{uri1}" WHERE name = 'powershell.exe'
au = GET user-account FROM "{uri1}" WHERE user_id LIKE '%'
r = GET process FROM "{uri2}" WHERE name = 'cmd.exe'
m = GET mutex FROM "{uri2}" WHERE name = 'extra'
f = FIND file LINKED p
n = NEW process ["cmd.exe", "x.exe"]
rec = TIMESTAMPED(p)
""")
    # an ingest outside any query, then an old (version 1) store opened again
    from stixgraph.stix.bundle import iter_bundle

    s.store.ingest(iter_bundle(tmp_path / "one.json"))
    check_derived(s.store)


def test_a_version_1_store_gets_its_counts(tmp_path, make_session):
    uri = write(tmp_path / "b.json", bundle20([proc_obs(i, "cmd.exe", "x", dst="1.1.1.1")
                                                for i in range(5)]))
    path = tmp_path / "s.db"
    s = make_session(store=str(path))
    s.run(f'p = GET process FROM "{uri}" WHERE name = \'cmd.exe\'\n'
          f'q = GET network-traffic FROM "{uri}" WHERE dst_port = 443')
    db = s.store.db
    for t in ("obs_q", "ent_q", "query_counts", "qset_counts", "qsets"):
        db.execute(f"DELETE FROM {t}")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    s.store.close()
    s2 = make_session(store=str(path))
    check_derived(s2.store)
    check_statements(s2, "f = FIND process CREATED q\nu = FIND user-account OWNED p")


# ---------------------------------------------------------------------------
# the block verification the skipping (and the split) relies on


def _reference(block: bytes, D: bytes):
    """(every separator D sits at array depth outside strings, a real \\u or \\/ escape)."""
    depth, i, n, in_str, esc, bad, hatch = 0, 0, len(block), False, False, False, False
    starts = set()
    j = block.find(D)
    while j >= 0:
        starts.add(j + 1)  # just after the separator's "}"
        j = block.find(D, j + 1)
    while i < n:
        c = block[i]
        if in_str:
            if esc:
                esc = False
                if c in b"u/":
                    hatch = True
            elif c == 0x5C:
                esc = True
            elif c == 0x22:
                in_str = False
        else:
            if i in starts and depth != 1:
                bad = True
            if c == 0x22:
                in_str = True
            elif c in b"{[":
                depth += 1
            elif c in b"}]":
                depth -= 1
        i += 1
    return not bad, hatch


def test_block_verification_is_sound():
    import random

    rnd = random.Random(5)
    D = b"},\n{"
    pieces = ["a", "b", "{", "}", "[", "]", '\\"', "\\\\", "\\u0041", "\\/", "\\n", "x", "},", "{"]
    checked = 0
    for _ in range(3000):
        els = []
        for _ in range(rnd.randint(1, 4)):
            s = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6)))
            inner = json.dumps({"s": s, "l": [{"k": 1}, {"k": 2}]})
            if rnd.random() < 0.2:  # a nested list broken over lines like the separator
                inner = inner.replace('}, {"k"', '},\n{"k"')
            if rnd.random() < 0.2:  # raw (unescaped) text from the pieces inside a string
                inner = inner.replace('"a', '"' + rnd.choice(pieces), 1)
            els.append(inner)
        block = ",\n".join(els).encode()
        r = bundle_mod.BundleReader.__new__(bundle_mod.BundleReader)
        r.D = D
        ok = r.verify(block)
        want_ok, want_hatch = _reference(b"[" + block, D)
        if ok:
            checked += 1
            assert want_ok, block
            if not r.hatch:
                assert not want_hatch, block
    assert checked > 200
