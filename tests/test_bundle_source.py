"""Bundle reading (streaming, formats, errors) and BundleSource queries."""
from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from stixgraph import ir
from stixgraph.errors import DataSourceError
from stixgraph.sources import open_source, register_source, scheme_of
from stixgraph.sources.base import DataSource, SourceQuery
from stixgraph.sources.bundle import BundleSource
from stixgraph.stix import bundle as bundle_mod
from stixgraph.stix.bundle import iter_bundle
from stixgraph.stix.match import compile_matcher, text_filter

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data" / "kestrel"
UTC = timezone.utc


def kestrel(name) -> Path:
    p = DATA / name
    if not p.exists():
        pytest.skip(f"shared data {p} is not present on this machine")
    return p


def C(path, op, value=None, negated=False, etype=None):
    return ir.Comparison(ir.AttrPath(tuple(path.split(".")), etype), op, value, negated)


def get(uri, etype, where, start=None, stop=None, limit=None, progress=None):
    ds = open_source(str(uri))
    try:
        return list(ds.query(SourceQuery(str(uri), etype, where, "", start, stop, limit), progress))
    finally:
        ds.close()


# ---------------------------------------------------------------------------
# independent reference: a plain count over the parsed JSON (no code shared with the engine)

def ods_of(path):
    return [o for o in json.loads(Path(path).read_text())["objects"]
            if o["type"] == "observed-data"]


def values(od, obj, path):
    cur = [obj]
    for i, part in enumerate(path):
        nxt = []
        for v in cur:
            x = v.get(part) if isinstance(v, dict) else None
            if x is None:
                continue
            if part.endswith("_ref") and i < len(path) - 1:
                x = od["objects"].get(x)
                if x is None:
                    continue
            nxt.append(x)
        cur = nxt
    return cur


def count(path, test, *, etype, start=None, stop=None, file):
    n = 0
    for od in ods_of(file):
        if start and od["last_observed"][:23] < start:
            continue
        if stop and od["first_observed"][:23] >= stop:
            continue
        if any(test(v) for o in od["objects"].values() if o["type"] == etype
               for v in values(od, o, path.split("."))):
            n += 1
    return n


# ---------------------------------------------------------------------------
# research §8 expected results (observation level) on the Kestrel test data

def test_test_bundle_expected_counts():
    tb = kestrel("test_bundle.json")
    # each observation of test_bundle holds exactly one network-traffic, so observation
    # counts equal Kestrel's entity counts for network-traffic GETs (research §8)
    for od in ods_of(tb):
        assert sum(o["type"] == "network-traffic" for o in od["objects"].values()) == 1
    nt = "network-traffic"
    cases = [
        (C("dst_port", "<", 10000), 100, lambda: count("dst_port", lambda v: v < 10000, etype=nt, file=tb)),
        (C("dst_port", "=", 22), 29, lambda: count("dst_port", lambda v: v == 22, etype=nt, file=tb)),
        (C("src_ref.value", "=", "192.168.121.121"), 1,
         lambda: count("src_ref.value", lambda v: v == "192.168.121.121", etype=nt, file=tb)),
        (ir.And((C("dst_ref.value", "=", "10.0.0.91"), C("dst_port", "=", 22))), 3, None),
        (ir.Or((C("dst_ref.value", "=", "10.0.0.91"), C("dst_port", "=", 22))), 35, None),
    ]
    for where, kestrel_n, ref in cases:
        got = get(tb, nt, where)
        assert len(got) == kestrel_n, where
        if ref:
            assert ref() == kestrel_n
    # START/STOP: overlap of [first, last] with [start, stop)
    start, stop = datetime(2020, 6, 30, 19, 25, tzinfo=UTC), datetime(2020, 6, 30, 19, 26, tzinfo=UTC)
    got = get(tb, nt, C("dst_port", "=", 22), start, stop)
    assert len(got) == 7 == count("dst_port", lambda v: v == 22, etype=nt, file=tb,
                                  start="2020-06-30T19:25:00.000", stop="2020-06-30T19:26:00.000")
    # extended / other centres: observation counts from the independent count
    n = count("value", lambda v: v == "192.168.121.121", etype="ipv4-addr", file=tb)
    assert len(get(tb, "ipv4-addr", C("value", "=", "192.168.121.121"))) == n >= 1
    n = count("account_login", lambda v: v.startswith("hen"), etype="user-account", file=tb)
    assert len(get(tb, "user-account", C("account_login", "LIKE", "hen%"))) == n >= 1
    assert len(get(tb, nt, C("dst_port", "=", 22), limit=5)) == 5


def test_doctored_1k_expected_counts():
    f = kestrel("doctored-1k.json")
    p = "process"
    for where, ref in [
        (C("name", "=", "cmd.exe"), lambda: count("name", lambda v: v == "cmd.exe", etype=p, file=f)),
        (C("name", "=", "svchost.exe"), lambda: count("name", lambda v: v == "svchost.exe", etype=p, file=f)),
        (C("command_line", "LIKE", "wmic%"),
         lambda: count("command_line", lambda v: v.startswith("wmic"), etype=p, file=f)),
        (C("pid", ">", 0), lambda: count("pid", lambda v: v > 0, etype=p, file=f)),
        (C("src_ref.value", "=", "127.0.0.1"),
         lambda: count("src_ref.value", lambda v: v == "127.0.0.1", etype="network-traffic", file=f)),
    ]:
        etype = "network-traffic" if "src_ref" in str(where) else p
        got = get(f, etype, where)
        assert len(got) == ref(), where
    # research §8: 14 cmd.exe processes, 1000 processes with pid > 0 in 974 observations
    obs = get(f, p, C("pid", ">", 0))
    assert len(obs) == 974
    procs = {i for o in obs for i, x in o.objects.items() if x["type"] == "process"}
    cmd = {i for o in get(f, p, C("name", "=", "cmd.exe")) for i, x in o.objects.items()
           if x["type"] == "process" and x.get("name") == "cmd.exe"}
    assert len(cmd) <= 14 <= len(procs)
    # 203 observations have network-traffic from 127.0.0.1 (research: 203 records)
    assert len(get(f, "network-traffic", C("src_ref.value", "=", "127.0.0.1"))) == 203


# ---------------------------------------------------------------------------
# formats: every way of writing the same bundle gives the same observations

def _write_formats(src: Path, tmp: Path) -> dict[str, Path]:
    b = json.loads(src.read_text())
    objs = b["objects"]
    out = {}

    def w(name, text):
        p = tmp / name
        p.write_text(text, encoding="utf-8")
        out[name] = p

    w("indent.json", json.dumps(b, indent=4))
    w("compact.json", json.dumps(b, separators=(",", ":")))
    w("spaced.json", json.dumps(b))
    w("lines.json", '{"type": "bundle", "id": "bundle--1", "objects": [\n'
      + ",\n".join(json.dumps(o) for o in objs) + "\n]}\n")
    w("objects_first.json", json.dumps({"objects": objs, "id": "bundle--1", "type": "bundle"}))
    w("bare_list.json", json.dumps(objs))
    w("ascii.json", json.dumps(b, ensure_ascii=True))
    w("stream.jsonl", "\n".join(json.dumps(o) for o in objs) + "\n")
    w("crlf.json", json.dumps(b, indent=1).replace("\n", "\r\n"))
    return out


QUERIES = [
    ("network-traffic", C("dst_port", "=", 22)),
    ("network-traffic", C("dst_port", "=", "22")),
    ("process", C("name", "=", "cmd.exe")),
    ("process", C("command_line", "LIKE", "%wmic%")),
    ("network-traffic", ir.Or((C("dst_ref.value", "=", "10.0.0.91"), C("src_port", ">", 60000)))),
    ("user-account", C("account_login", "IS NULL", negated=True)),
    ("process", None),
]


@pytest.mark.parametrize("name", ["test_bundle.json", "doctored-1k.json"])
def test_all_formats_same_result(name, tmp_path, monkeypatch):
    src = kestrel(name)
    monkeypatch.setattr(bundle_mod, "CHUNK", 1 << 15)  # many blocks and refills
    files = _write_formats(src, tmp_path)
    for etype, where in QUERIES:
        want = [(o.id, sorted(o.objects)) for o in get(src, etype, where)]
        for fname, p in files.items():
            got = [(o.id, sorted(o.objects)) for o in get(p, etype, where)]
            assert got == want, (fname, etype, where)


def test_filtered_equals_unfiltered_on_synthetic(tmp_path, monkeypatch):
    gen = SHARED / "peers" / "kestrel-v1" / "gen_bundle.py"
    if not gen.exists():
        pytest.skip(f"{gen} is not present on this machine")
    out = tmp_path / "syn.json"
    subprocess.run([sys.executable, str(gen), "3000", str(out), "7"], check=True)
    monkeypatch.setattr(bundle_mod, "CHUNK", 1 << 16)
    for etype, where in [("process", C("name", "=", "cmd.exe")),
                         ("network-traffic", C("dst_port", "=", 443)),
                         ("network-traffic", C("dst_port", "IN", (22, 3389))),
                         ("process", C("binary_ref.parent_directory_ref.path", "LIKE", "%System32")),
                         ("process", ir.And((C("name", "=", "cmd.exe"), C("pid", ">", 30000))))]:
        m = compile_matcher(where, etype)
        full = [o.id for o in iter_bundle(out, accept=m)]
        fast = [o.id for o in iter_bundle(out, accept=m, text_filter=text_filter(where, etype))]
        assert fast == full and full, where


# ---------------------------------------------------------------------------
# hostile strings and STIX 2.1

def od(i, objects, **kw):
    d = {"type": "observed-data", "id": f"observed-data--{i:04d}",
         "first_observed": "2021-01-01T00:00:00Z", "last_observed": "2021-01-01T00:00:01Z",
         "number_observed": 1, "objects": objects}
    d.update(kw)
    return d


HOSTILE = ["}, {", "},\n{", '"}, {"type": "observed-data"', "\\\"cmd.exe\\\"", "{{{", "]]]",
           "\u2028", "é\"\\", "\\u0063md.exe", '\\"', "\\", "x\\\\", "}\\n{"]


def test_hostile_strings(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle_mod, "CHUNK", 256)
    objs = [{"type": "identity", "id": "identity--1", "name": "}, {"}]
    for i in range(60):
        name = "cmd.exe" if i % 7 == 0 else HOSTILE[i % len(HOSTILE)]
        objs.append(od(i, {"0": {"type": "process", "pid": i, "name": name,
                                 "command_line": HOSTILE[(i + 3) % len(HOSTILE)],
                                 "x_list": [{"a": "}, {"}, {"b": HOSTILE[i % len(HOSTILE)]}]}}))
    # a name spelled with a \u escape must still be found
    objs.append(od(99, {"0": {"type": "process", "pid": 99, "name": "cmd.exe"}}))
    for style in ("lines", "compact", "indent"):
        b = {"type": "bundle", "id": "bundle--h", "objects": objs}
        if style == "lines":
            text = '{"type": "bundle", "objects": [\n' + ",\n".join(json.dumps(o) for o in objs) + "]}"
        elif style == "compact":
            text = json.dumps(b, separators=(",", ":"))
        else:
            text = json.dumps(b, indent=2)
        text = text.replace('"pid": 99, "name": "cmd.exe"', '"pid": 99, "name": "cmd\\u002eexe"')
        text = text.replace('"pid":99,"name":"cmd.exe"', '"pid":99,"name":"cmd\\u002eexe"')
        p = tmp_path / f"h-{style}.json"
        p.write_text(text)
        got = sorted(next(x["pid"] for x in o.objects.values())
                     for o in get(p, "process", C("name", "=", "cmd.exe")))
        assert got == [0, 7, 14, 21, 28, 35, 42, 49, 56, 99], style
        want = sum(1 for o in objs[1:] if o["objects"]["0"]["name"] == "}, {")
        assert len(get(p, "process", C("name", "=", "}, {"))) == want > 0
        want = sum(1 for o in objs[1:] if o["objects"]["0"].get("command_line") == "},\n{")
        assert len(get(p, "process", C("command_line", "=", "},\n{"))) == want


def _bundle21(order):
    scos = [{"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--a", "value": "10.0.0.1"},
            {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--b", "value": "10.0.0.2"},
            {"type": "network-traffic", "spec_version": "2.1", "id": "network-traffic--c",
             "src_ref": "ipv4-addr--a", "dst_ref": "ipv4-addr--b", "dst_port": 443,
             "protocols": ["tcp"]}]
    od21 = {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--21",
            "created": "2021-01-01T00:00:00.000Z", "modified": "2021-01-01T00:00:00.000Z",
            "first_observed": "2021-01-01T00:00:00Z", "last_observed": "2021-01-01T00:00:00Z",
            "number_observed": 1, "object_refs": ["network-traffic--c"]}
    old = [od(i, {"0": {"type": "network-traffic", "dst_port": 80 + i}}) for i in range(30)]
    parts = {"scos_first": old + scos + [od21], "scos_last": old + [od21] + scos,
             "mixed": scos[:1] + old + [od21] + scos[1:]}
    return {"type": "bundle", "id": "bundle--21", "objects": parts[order]}


@pytest.mark.parametrize("order", ["scos_first", "scos_last", "mixed"])
def test_stix21_bundle(order, tmp_path, monkeypatch):
    monkeypatch.setattr(bundle_mod, "CHUNK", 512)
    p = tmp_path / "b21.json"
    objs = _bundle21(order)["objects"]
    p.write_text('{"type": "bundle", "id": "bundle--21", "objects": [\n'
                 + ",\n".join(json.dumps(o) for o in objs) + "]}")
    got = get(p, "network-traffic", C("dst_ref.value", "=", "10.0.0.2"))
    assert [o.id for o in got] == ["observed-data--21"]
    o = got[0]
    assert sorted(x["type"] for x in o.objects.values()) == ["ipv4-addr", "ipv4-addr",
                                                            "network-traffic"]
    assert len(get(p, "network-traffic", C("dst_port", "=", 443))) == 1
    assert len(get(p, "network-traffic", C("dst_port", ">", 0))) == 31


# ---------------------------------------------------------------------------
# errors: one line, naming the file and a byte offset

def _err(p, where=None):
    with pytest.raises(DataSourceError) as e:
        get(p, "process", where or C("name", "=", "x"))
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg, msg
    return msg


def test_truncated_bundles(tmp_path):
    src = kestrel("test_bundle.json").read_bytes()
    for cut in (10, 200, len(src) // 2, len(src) - 5, len(src) - 2):
        p = tmp_path / f"t{cut}.json"
        p.write_bytes(src[:cut])
        msg = _err(p)
        assert "byte" in msg, msg
    # the filtered fast path on a cut single-line bundle
    lines = tmp_path / "lines.json"
    objs = json.loads(src)["objects"]
    text = '{"type": "bundle", "objects": [\n' + ",\n".join(json.dumps(o) for o in objs) + "]}"
    lines.write_text(text[: len(text) * 2 // 3])
    assert "truncated" in _err(lines, C("dst_port", "=", 22))


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"),
    (b"hello world", "not JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not JSON"),
    (b'{"foo": 1}', "not a STIX bundle"),
    (b'{"type": "report", "objects": []}', "not a STIX bundle"),
    (b"[1, 2, 3]", "not a STIX object"),
    (b'{"type": "bundle", "objects": [{"type": "observed-data", "id": "observed-data--1", '
     b'"objects": {}}]}', "first_observed"),
    (b'{"type": "bundle", "objects": [{"type": "x"} {"type": "y"}]}', "invalid JSON"),
    (b'{"type": "bundle", "objects": []} trailing', "after the bundle"),
])
def test_bad_files(tmp_path, content, needle):
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    msg = _err(p)
    assert needle in msg, msg


def test_missing_first_observed_names_the_offset(tmp_path):
    objs = [od(i, {"0": {"type": "process", "name": "x"}}) for i in range(5)]
    del objs[3]["first_observed"]
    p = tmp_path / "m.json"
    p.write_text(json.dumps({"type": "bundle", "objects": objs}))
    msg = _err(p)
    off = int(re.search(r"byte (\d+)", msg).group(1))
    assert p.read_bytes()[off:off + 1] == b"{" and "first_observed" in msg


def test_empty_bundles(tmp_path):
    for text in ['{"type": "bundle", "id": "bundle--1"}', '{"type": "bundle", "objects": []}',
                 "[]", '{"type": "identity", "id": "identity--1", "name": "x"}']:
        p = tmp_path / "e.json"
        p.write_text(text)
        assert get(p, "process", C("name", "=", "x")) == []


# ---------------------------------------------------------------------------
# BundleSource behaviour

def test_progress_limit_fingerprint(tmp_path):
    src = kestrel("doctored-1k.json")
    seen = []
    obs = get(src, "process", C("pid", ">", 0), progress=seen.append)
    assert len(obs) == 974 and seen and seen[-1] == src.stat().st_size
    assert seen == sorted(seen)
    assert len(get(src, "process", C("pid", ">", 0), limit=10)) == 10
    p = tmp_path / "copy.json"
    p.write_bytes(kestrel("test_bundle.json").read_bytes())
    ds = BundleSource(str(p))
    fp = ds.fingerprint()
    p.write_bytes(p.read_bytes() + b"\n")
    assert ds.fingerprint() != fp
    assert BundleSource(str(tmp_path / "nope.json")).fingerprint() is None


def test_uris_and_registry(tmp_path):
    tb = kestrel("test_bundle.json")
    assert scheme_of(str(tb)) == "file" and scheme_of("https://x/y") == "https"
    n = len(get(tb, "network-traffic", C("dst_port", "=", 22)))
    assert len(get(f"file://{tb}", "network-traffic", C("dst_port", "=", 22))) == n
    both = f"file://{tb},{tb}"
    assert len(get(both, "network-traffic", C("dst_port", "=", 22))) == 2 * n
    with pytest.raises(DataSourceError, match="unknown data source scheme 'nosuch'"):
        open_source("nosuch://x")
    with pytest.raises(DataSourceError, match="no such file"):
        get(tmp_path / "missing.json", "process", None)

    class Fake(DataSource):
        schemes = ("fake",)

        def query(self, q, progress=None):
            return iter(())
    register_source("fake", Fake)
    assert isinstance(open_source("fake://anything"), Fake)


@pytest.fixture
def http_dir(tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))

    class Quiet(http.server.ThreadingHTTPServer):
        pass
    handler_cls = type("H", (http.server.SimpleHTTPRequestHandler,),
                       {"log_message": lambda *a: None})
    srv = Quiet(("127.0.0.1", 0), functools.partial(handler_cls, directory=str(tmp_path)))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield tmp_path, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()
    del handler


def test_http_source(http_dir):
    d, base = http_dir
    tb = kestrel("test_bundle.json")
    (d / "tb.json").write_bytes(tb.read_bytes())
    where = C("dst_port", "=", 22)
    want = [o.id for o in get(tb, "network-traffic", where)]
    assert [o.id for o in get(f"{base}/tb.json", "network-traffic", where)] == want
    ds = BundleSource(f"{base}/tb.json", {"spool": False})
    got = list(ds.query(SourceQuery("u", "network-traffic", where, "")))
    assert [o.id for o in got] == want
    assert BundleSource(f"{base}/tb.json").fingerprint()
    with pytest.raises(DataSourceError, match="HTTP 404"):
        get(f"{base}/missing.json", "process", None)
    (d / "bad.json").write_bytes(b'{"type": "bundle", "objects": [{"type"')
    with pytest.raises(DataSourceError, match="truncated"):
        get(f"{base}/bad.json", "process", None)
