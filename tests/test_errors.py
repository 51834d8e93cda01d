"""Bad input gives a clear error and loses nothing: syntax errors, unknown names, broken
data sources, hostile strings."""
from __future__ import annotations

import pytest

from bundles import bundle20, proc_obs, write
from stixgraph.errors import HuntSemanticError, HuntSyntaxError, StixgraphError

HOSTILE = ["' OR 1=1 --", 'say "hi"', "C:\\Windows\\System32\\", "naïve ☃ 日本", "a%b_c", "x'); DROP TABLE entities; --"]


@pytest.fixture
def hunt(make_session, tmp_path):
    obs = [proc_obs(100 + i, "cmd.exe", cmd) for i, cmd in enumerate(HOSTILE)]
    obs.append(proc_obs(200, "powershell.exe", "powershell -c whoami", dst="140.82.114.3"))
    s = make_session()
    s.uri = write(tmp_path / "b.json", bundle20(obs))
    return s


def counts(s):
    db = s.store.db
    return tuple(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                 for t in ("entities", "edges", "observations", "contains", "variables", "var_rows"))


def test_syntax_error_has_line_column_and_caret(hunt):
    with pytest.raises(HuntSyntaxError) as e:
        hunt.run("p = GET process FROM x WHERE name = 'a'\nq = FIND process CREATED BY\n")
    assert e.value.line == 3 or e.value.line == 2
    assert "^" in e.value.render()


def test_unknown_variable_names_statement_and_line(hunt):
    with pytest.raises(HuntSemanticError) as e:
        hunt.run("\n\nx = FIND process CREATED nope")
    assert e.value.line == 3
    assert "nope" in str(e.value) and "FIND" in str(e.value) and ":3:" in str(e.value)


def test_unknown_type_and_bad_relation(hunt):
    hunt.run(f'p = GET process FROM "{hunt.uri}" WHERE name = \'cmd.exe\'')
    with pytest.raises(HuntSemanticError, match="unknown entity type 'proces'"):
        hunt.run("x = FIND proces CREATED p")
    with pytest.raises(HuntSemanticError, match="not defined from process"):
        hunt.run("x = FIND network-traffic CREATED p")
    with pytest.raises(HuntSemanticError, match="unknown relation"):
        hunt.run("x = FIND process BOUGHT p")


def test_failed_statement_changes_nothing(hunt, tmp_path):
    hunt.run(f'p = GET process FROM "{hunt.uri}" WHERE name = \'cmd.exe\'')
    before = counts(hunt)
    p_before = hunt.vars["p"]
    bad = tmp_path / "trunc.json"
    bad.write_text((tmp_path / "b.json").read_text()[:-200])
    with pytest.raises(StixgraphError):
        hunt.run(f'p = GET process FROM "file://{bad}" WHERE name LIKE \'%\'')
    assert counts(hunt) == before
    assert hunt.vars["p"] == p_before
    with pytest.raises(StixgraphError):
        hunt.run("p = FIND process CREATED nope")
    assert counts(hunt) == before


@pytest.mark.parametrize("content, what", [("not json at all", "non-JSON"),
                                           ('{"type": "bundle", "objects": [', "truncated"),
                                           ('[1, 2, 3]', "not STIX")])
def test_bad_files_give_one_line_errors(hunt, tmp_path, content, what):
    f = tmp_path / "bad.json"
    f.write_text(content)
    with pytest.raises(StixgraphError) as e:
        hunt.run(f'p = GET process FROM "file://{f}" WHERE name = \'x\'')
    msg = str(e.value)
    assert "\n" not in msg and "bad.json" in msg, what


def test_missing_file(hunt, tmp_path):
    with pytest.raises(StixgraphError, match="nothere.json"):
        hunt.run(f'p = GET process FROM "file://{tmp_path}/nothere.json" WHERE name = \'x\'')


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_match_literally(hunt, value):
    lit = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    hunt.run(f'all = GET process FROM "{hunt.uri}" WHERE pid > 0')
    before = counts(hunt)
    hunt.run(f'p = GET process FROM "{hunt.uri}" WHERE command_line = {lit}')
    assert hunt.vars["p"].entities == 1
    t = [d for d in hunt.run("DISP p ATTR command_line") if hasattr(d, "rows")][0]
    assert t.rows == [[value]]
    hunt.run(f"q = p WHERE command_line != {lit}")
    assert hunt.vars["q"].entities == 0
    # the hostile GET re-read the same data: objects, edges, observations unchanged
    assert counts(hunt)[:4] == before[:4]


def test_reload_does_not_inflate_records(hunt):
    hunt.run(f'p = GET process FROM "{hunt.uri}" WHERE name = \'cmd.exe\'')
    first = hunt.vars["p"].records
    for _ in range(3):
        hunt.run(f'p = GET process FROM "{hunt.uri}" WHERE name = \'cmd.exe\'')
    assert hunt.vars["p"].records == first == len(HOSTILE)


def test_apply_of_an_unknown_analytic_says_so_and_changes_nothing(hunt):
    hunt.run(f'p = GET process FROM "{hunt.uri}" WHERE name = \'cmd.exe\'')
    with pytest.raises(HuntSemanticError, match="python://no_such_thing: no such analytic"):
        hunt.run("APPLY python://no_such_thing ON p")
    assert hunt.vars["p"].entities == len(HOSTILE)


def test_interrupted_ingest_leaves_store_as_it_was(hunt):
    """Ctrl-C (or any failure) half-way through a GET's ingest rolls the whole GET back."""
    from stixgraph.sources import register_source
    from stixgraph.sources.bundle import BundleSource
    from stixgraph.sources.base import DataSource

    class Interrupted(DataSource):
        schemes = ("interrupted",)

        def query(self, q, progress=None):
            inner = BundleSource(hunt.uri)
            for i, ob in enumerate(inner.query(q)):
                if i == 3:
                    raise KeyboardInterrupt
                yield ob

    register_source("interrupted", Interrupted)
    ingest = hunt.store.ingest
    hunt.store.ingest = lambda obs, qid=None: ingest(obs, qid, batch_size=2)  # 1st batch lands
    hunt.run(f'p = GET process FROM "{hunt.uri}" WHERE name = \'powershell.exe\'')
    before = counts(hunt)
    p_before = hunt.vars["p"]
    with pytest.raises(KeyboardInterrupt):
        hunt.run("p = GET process FROM \"interrupted://x\" WHERE name LIKE '%'")
    assert counts(hunt) == before
    assert hunt.vars["p"] == p_before
