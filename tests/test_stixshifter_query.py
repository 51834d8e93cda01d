"""stixshifter:// without a server: profiles, and the SPL a GET becomes (through the real
stix-shifter translator), with stixgraph's fixes for values, times and unmapped attributes."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from stixgraph import ir
from stixgraph.errors import DataSourceError
from stixgraph.lang import parse
from stixgraph.sources import open_source
from stixgraph.sources.base import SourceQuery
from stixgraph.sources.profiles import load_profile, profile_names
from stixgraph.sources.stixshifter import StixShifterSource, build_queries, spl_string

import stix_shifter_modules.splunk  # noqa: E402,F401


@pytest.fixture
def splunk_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("STIXSHIFTER_SPLUNK_CONNECTOR", "splunk")
    monkeypatch.setenv("STIXSHIFTER_SPLUNK_CONNECTION", json.dumps(
        {"host": "localhost", "port": 8089, "options": {"result_limit": 500,
                                                        "retrieval_batch_size": 100}}))
    monkeypatch.setenv("STIXSHIFTER_SPLUNK_CONFIG", json.dumps(
        {"auth": {"username": "u", "password": "secret-pw"}}))


def _spl(hunt: str | SourceQuery) -> tuple[str, str, list[str]]:
    if isinstance(hunt, SourceQuery):
        q = hunt
    else:
        g = parse(hunt, "t.hf").statements[0]
        sp = g.timespan
        q = SourceQuery("stixshifter://splunk", g.etype, g.where, "",
                        sp.start if sp else None, sp.stop if sp else None)
    pattern, queries, notes = build_queries(load_profile("splunk"), q)
    assert len(queries) == 1
    return pattern, queries[0].split(" | fields ")[0], notes


def _spl_strings(spl: str) -> list[str]:
    """The double-quoted strings of an SPL text, unescaped as Splunk reads them."""
    out = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', spl, re.S):
        out.append(re.sub(r"\\(.)", r"\1", m.group(1), flags=re.S))
    return out


def test_profile_from_environment(splunk_env):
    p = load_profile("SPLUNK")
    assert (p.name, p.connector) == ("splunk", "splunk")
    assert p.connection["host"] == "localhost"
    # stixgraph's retrieval options are taken out before stix-shifter sees them
    assert p.retrieval["retrieval_batch_size"] == 100
    assert "retrieval_batch_size" not in p.connection["options"]
    assert p.connection["options"]["result_limit"] == 500
    assert "secret-pw" not in json.dumps(p.public())
    assert "splunk" in profile_names()


def test_profile_from_config_file(monkeypatch, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[stixshifter.lab]\nconnector = "splunk"\n'
                   'connection = { host = "10.0.0.9", port = 8089 }\n'
                   'config = { auth = { username = "a", password = "b" } }\n')
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(cfg))
    p = load_profile("lab")
    assert p.connection["host"] == "10.0.0.9" and "config.toml" in p.origin
    assert isinstance(open_source("stixshifter://lab"), StixShifterSource)


def test_missing_profile_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(DataSourceError) as e:
        load_profile("nosuch")
    assert "STIXSHIFTER_NOSUCH_CONNECTOR" in str(e.value) and "\n" not in str(e.value)


def test_bad_profile_json(monkeypatch, tmp_path):
    monkeypatch.setenv("STIXGRAPH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("STIXSHIFTER_X_CONNECTOR", "splunk")
    monkeypatch.setenv("STIXSHIFTER_X_CONNECTION", "{host: oops")
    with pytest.raises(DataSourceError, match="STIXSHIFTER_X_CONNECTION: not JSON"):
        load_profile("x")


@pytest.mark.parametrize("value", ['a"b', "C:\\Windows\\x", "it's", "x|y[z]*w", "l1\nl2",
                                   '" OR 1=1 | delete', "\\", '\\"', "é€😀"])
def test_hostile_values_reach_spl_as_one_escaped_string(splunk_env, value):
    where = ir.Comparison(path=ir.AttrPath(parts=("name",)), op="=", value=value)
    pattern, spl, _ = _spl(SourceQuery("stixshifter://splunk", "process", where, ""))
    strings = _spl_strings(spl)
    # the value appears (for process_name and parent_process_name) exactly as given,
    # and the query around it is the translator's own shape
    assert strings == [value, value]
    assert spl.startswith("search ((process_name = ") and spl.endswith("| head 500")
    assert spl_string(value) in spl


def test_time_range_goes_as_epoch_seconds(splunk_env):
    _, spl, _ = _spl("x = GET process FROM splunk WHERE name = 'cmd.exe' "
                     "START 2024-12-01T00:00:00.250Z STOP 2024-12-24T00:00:00Z")
    start = datetime(2024, 12, 1, 0, 0, 0, 250000, tzinfo=timezone.utc).timestamp()
    stop = datetime(2024, 12, 24, tzinfo=timezone.utc).timestamp()
    assert f"earliest={start:.3f}" in spl and f"latest={stop:.3f}" in spl
    assert "/" not in spl.split("earliest=")[1]  # no zone-less MM/DD/YYYY left


def test_no_time_range_searches_all_time(splunk_env):
    _, spl, _ = _spl("x = GET process FROM splunk WHERE name = 'cmd.exe'")
    assert "earliest" not in spl and "latest" not in spl


def test_profile_time_range_is_kept(splunk_env, monkeypatch):
    monkeypatch.setenv("STIXSHIFTER_SPLUNK_CONNECTION", json.dumps(
        {"host": "localhost", "port": 8089, "options": {"time_range": 60}}))
    _, spl, _ = _spl("x = GET process FROM splunk WHERE name = 'cmd.exe'")
    assert 'earliest="-60minutes"' in spl


def test_unmapped_attribute_widens_and_says_so(splunk_env):
    _, spl, notes = _spl("x = GET process FROM splunk WHERE parent_ref.name = 'x' AND pid = 4")
    assert spl.startswith("search ((process_id = 4) OR (parent_process_id = 4))")
    assert notes and "process:parent_ref.name" in notes[0]


def test_unmapped_branch_of_or_drops_the_or(splunk_env):
    # dropping one side of an OR would narrow the search: the whole OR goes
    _, spl, notes = _spl("x = GET process FROM splunk WHERE (parent_ref.name = 'x' OR "
                         "name = 'a') AND pid = 4")
    assert "process_name" not in spl and "process_id = 4" in spl and notes


def test_nothing_mappable_is_an_error(splunk_env):
    with pytest.raises(DataSourceError, match="nothing in this WHERE maps to splunk"):
        _spl("x = GET process FROM splunk WHERE parent_ref.name = 'x'")


def test_in_list_and_like_values(splunk_env):
    _, spl, _ = _spl("x = GET network-traffic FROM splunk WHERE dst_ref.value IN "
                     "('1.2.3.4', 'a\"b') AND dst_port = 443")
    assert 'dest_ip IN ("1.2.3.4", "a\\"b")' in spl
    _, spl, _ = _spl("x = GET process FROM splunk WHERE command_line LIKE '%\"x\"%'")
    assert 'like(process, "%\\"x\\"%")' in spl
