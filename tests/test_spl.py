"""SPL engine unit tests: precedence, escapes, search vs eval semantics, time modifiers, and the
errors (with columns) for everything outside the subset."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from stixgraph.splunk.events import EventStore
from stixgraph.splunk.spl import (And, Cmp, Not, Or, SPLError, Term, TimeTerm, WhereCmd, parse)

NOW = datetime(2024, 12, 12, 17, 0, 0, tzinfo=timezone.utc)


def mk(*rows):
    return EventStore([{"_time": f"2024-12-12T16:{i:02d}:00.000+00:00", "_raw": "r", "n": str(i),
                        **r} for i, r in enumerate(rows)])


def ns(store, spl, now=NOW):
    return sorted(int(r["n"]) for r in store.search(spl, now=now))


# ---------------------------------------------------------------- precedence

def test_search_or_binds_tighter_than_implicit_and():
    e = parse('search index="a" OR index="b" (x=1)').search.expr
    assert isinstance(e, And) and isinstance(e.items[0], Or) and isinstance(e.items[1], Term)
    s = mk({"index": "a", "x": "2"}, {"index": "b", "x": "1"}, {"index": "c", "x": "1"})
    assert ns(s, 'search index="a" OR index="b" (x=1)') == [1]
    assert ns(s, 'search index="a" OR index="b" AND x=1') == [1]    # explicit AND as well


def test_search_not_binds_tightest():
    e = parse("search NOT a=1 OR b=2").search.expr
    assert isinstance(e, Or) and isinstance(e.items[0], Not)


def test_eval_precedence_is_not_and_or():
    w = parse('search x=1 | where a=1 OR b=2 AND c=3').commands[1]
    assert isinstance(w, WhereCmd) and isinstance(w.expr, Or) and isinstance(w.expr.items[1], And)
    w = parse('search x=1 | where NOT a=1 AND b=2').commands[1]
    assert isinstance(w.expr, And) and isinstance(w.expr.items[0], Not)
    assert isinstance(w.expr.items[1], Cmp)
    s = mk({"a": "1", "b": "0", "c": "0"}, {"a": "0", "b": "2", "c": "3"}, {"a": "0", "b": "2"})
    assert ns(s, "search earliest=0 | where a=1 OR b=2 AND c=3") == [0, 1]


def test_time_terms_are_in_the_tree():
    e = parse('search (a=1 earliest="-1h") OR (b=1 earliest="-1d")').search.expr
    assert isinstance(e, Or) and all(isinstance(x.items[1], TimeTerm) for x in e.items)
    s = EventStore([{"_time": "2024-12-12T16:30:00+00:00", "a": "1", "n": "0"},
                    {"_time": "2024-12-12T10:00:00+00:00", "a": "1", "n": "1"},
                    {"_time": "2024-12-12T10:00:00+00:00", "b": "1", "n": "2"}])
    assert ns(s, 'search (a=1 earliest="-1h") OR (b=1 earliest="-1d")') == [0, 2]


# ---------------------------------------------------------------- search semantics

def test_search_equality_wildcards_and_case():
    s = mk({"f": "C:\\Windows\\System32\\cmd.exe"}, {"f": "cmd.exe"}, {"g": "cmd.exe"})
    assert ns(s, 'search f="CMD.EXE"') == [1]
    assert ns(s, 'search f="*\\\\cmd.exe"') == [0]
    assert ns(s, "search f=*cmd*") == [0, 1]
    assert ns(s, "search f=*") == [0, 1]                       # field exists
    assert ns(s, 'search f!="cmd.exe"') == [0]                 # g-only row dropped
    assert ns(s, 'search NOT f="cmd.exe"') == [0, 2]


def test_search_order_comparisons_numeric_or_string():
    s = mk({"p": "9"}, {"p": "10"}, {"p": "abc"}, {})
    assert ns(s, "search p<10") == [0]
    assert ns(s, "search p>=9") == [0, 1]                      # "abc" is not a number
    assert ns(s, 'search p>"abb"') == [2]
    assert ns(s, "search p IN (9, ABC)") == [0, 2]


def test_search_in_with_wildcards_and_index_default():
    s = mk({"f": "powershell.exe"}, {"f": "pwsh.exe", "index": "sysmon"}, {"f": "x"})
    assert ns(s, 'search f IN ("power*", "PWSH.EXE")') == [0, 1]
    assert ns(s, 'search index=main') == [0, 2]
    assert ns(s, 'search index="sys*"') == [1]


def test_search_star_in_quotes_is_a_wildcard_but_where_is_literal():
    s = mk({"f": "a*b"}, {"f": "aXXb"})
    assert ns(s, 'search f="a*b"') == [0, 1]
    assert ns(s, 'search earliest=0 | where f="a*b"') == [0]


# ---------------------------------------------------------------- strings and escapes

HOSTILE = ['say "hi"', "C:\\Users\\", "a|b", "[x]", "two\nlines", 'mix \\" end', "50%_off"]


def q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_hostile_values_match_literally(value):
    s = mk({"f": value}, {"f": value + "x"}, {"f": value.upper() if value.upper() != value
                                                  else value + " "})
    assert ns(s, f"search f={q(value)}") == ([0, 2] if value.upper() != value else [0])
    assert ns(s, f"search earliest=0 | where f={q(value)}") == [0]
    assert ns(s, f"search earliest=0 | where f IN ({q(value)}, \"zz\")") == [0]


def test_unknown_backslash_sequences_are_kept():
    s = mk({"f": "C:\\Windows\\x.exe"}, {"f": "a.exe"}, {"f": "aXexe"})
    assert ns(s, 'search f="C:\\Windows\\x.exe"') == [0]
    assert ns(s, 'search earliest=0 | where match(f, "a\\.exe")') == [1]


def test_like_and_match_and_cidr():
    s = mk({"f": "cmd.exe", "ip": "10.1.2.3"}, {"f": "CMD.EXE", "ip": "::1"},
           {"f": "cmdXexe", "ip": "not-an-ip"}, {"ip": ["192.168.0.1", "10.9.9.9"]})
    assert ns(s, 'search earliest=0 | where like(f, "cmd%")') == [0, 2]
    assert ns(s, 'search earliest=0 | where like(f, "cmd_exe")') == [0, 2]
    assert ns(s, 'search earliest=0 | where like(f, "cmd.exe")') == [0]
    assert ns(s, 'search earliest=0 | where match(f, "md\\.")') == [0]
    assert ns(s, 'search earliest=0 | where cidrmatch("10.0.0.0/8", ip)') == [0, 3]
    assert ns(s, 'search earliest=0 | where cidrmatch("::/64", ip)') == [1]


def test_eval_null_logic_and_numbers():
    s = mk({"p": "443", "u": "SYSTEM"}, {"p": "80"}, {"u": "system"})
    assert ns(s, 'search earliest=0 | where u="SYSTEM"') == [0]
    assert ns(s, 'search earliest=0 | where u!="SYSTEM"') == [2]            # null is not !=
    assert ns(s, 'search earliest=0 | where NOT (u="SYSTEM")') == [2]       # NOT null is null
    assert ns(s, "search earliest=0 | where p > 100") == [0]
    assert ns(s, "search earliest=0 | where p == 443.0") == [0]
    assert ns(s, 'search earliest=0 | where p = "443.0"') == []             # string compare
    assert ns(s, "search earliest=0 | where p IN (80, 22)") == [1]
    assert ns(s, "search earliest=0 | where isnull(u) OR isnotnull(p) AND p < 100") == [1]
    assert ns(s, "search earliest=0 | where 'u'=\"system\"") == [2]


# ---------------------------------------------------------------- time modifiers

def test_relative_and_snapped_times():
    s = EventStore([{"_time": t, "n": str(i)} for i, t in enumerate([
        "2024-12-12T16:56:00+00:00", "2024-12-12T16:00:00+00:00", "2024-12-12T15:59:59+00:00",
        "2024-12-11T23:00:00+00:00", "2024-12-12T17:00:01+00:00"])])
    assert ns(s, 'search earliest="-5minutes"') == [0]        # latest defaults to now
    assert ns(s, "search earliest=-5m latest=+1h") == [0, 4]
    assert ns(s, "search earliest=-1h@h") == [0, 1]
    assert ns(s, "search earliest=@d") == [0, 1, 2]
    assert ns(s, "search earliest=-1d@d latest=@d") == [3]
    assert ns(s, "search latest=now") == [0, 1, 2, 3]
    assert ns(s, "search a!=1 OR NOT a=1") == [0, 1, 2, 3, 4]  # no time term: all time
    # @d in the user's zone: New York's midnight is 05:00 UTC
    ny = EventStore(s._rows, tz="America/New_York")
    assert ns(ny, "search earliest=@d") == [0, 1, 2]
    assert ns(ny, "search earliest=-1d@d latest=@d") == [3]


def test_absolute_time_resolves_in_zone_with_dst():
    [spec] = [parse('search earliest="07/01/2024:12:00:00"').search.expr.spec]
    assert spec.resolve(NOW, ZoneInfo("Europe/Berlin")) == \
        datetime(2024, 7, 1, 10, tzinfo=timezone.utc).timestamp()
    assert spec.resolve(NOW, ZoneInfo("UTC")) == \
        datetime(2024, 7, 1, 12, tzinfo=timezone.utc).timestamp()


# ---------------------------------------------------------------- pipeline

def test_head_and_fields():
    s = mk({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "2"}, {"a": "1"})
    out = s.search("search a=1 | fields a, b c | head 2", now=NOW)
    assert [r["n"] if "n" in r else None for r in out] == [None, None]
    assert out[0] == {"_time": "2024-12-12T16:02:00.000+00:00", "_raw": "r", "a": "1"}
    assert set(out[1]) == {"_time", "_raw", "a", "b"}
    assert len(s.search("search a=1 | head 0", now=NOW)) == 0
    assert len(s.search("search a=1 | head", now=NOW)) == 3
    assert ns(s, "search a=1 | where b=2 | head 1") == [1]


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("spl,col,what", [
    ('search a=1 | eval x=1', 14, "unsupported command 'eval'"),
    ('| makeresults', 1, "must start with the 'search'"),
    ('search a=1 | append [makeresults]', 21, "subsearch"),
    ('search a=1 |eval latest=[search b=1 | return $_time]', 25, "subsearch"),
    ('search a="unbalanced', 10, "unbalanced quote"),
    ('search a=1 | where f="x', 22, "unbalanced quote"),
    ('search error', 8, "bare search term"),
    ('search a=1 foo', 12, "bare search term"),
    ('search like(f, "x")', 8, "not allowed in the search command"),
    ('search a=1 | where lower(f)="x"', 20, "unknown function"),
    ('search a=1 | where f', 20, "bare value"),
    ('search a=1 | where like(f)', 20, "takes 2"),
    ('search a=1 | where match(f, "(")', 29, "invalid regex"),
    ('search a=1 | where cidrmatch("10.0.0.0/33", f)', 30, "invalid CIDR"),
    ('search a=1 | where a=1 b=2', 24, "unexpected text in 'where'"),
    ('search a=1 | head x', 19, "non-negative integer"),
    ('search a=1 | head 5 6', 21, "unexpected text"),
    ('search a=1 | fields - b', 21, "unsupported fields argument"),
    ('search earliest="-Noneminutes"', 17, "invalid time modifier"),
    ('search earliest="-1mon@mon"', 17, "invalid time modifier"),
    ('search earliest<"-1h"', 8, "supports only '='"),
    ('search a==1', 9, "'==' is not a search-command operator"),
    ('search (a=1', 12, "expected '\\)'"),
    ('search a=1)', 11, "unbalanced '\\)'"),
    ('search ()', 9, "empty parentheses"),
    ('search a=1 AND', 15, "expected a search term"),
    ('search a=1 OR', 14, "expected a search term"),
    ('search a IN (1, 2', 18, "closing IN"),
    ('search a=1 | where a=1 OR', 26, "expected an eval expression"),
    ('search a=1 |', 13, "expected a command"),
])
def test_unsupported_spl_raises_with_column(spl, col, what):
    with pytest.raises(SPLError, match=what) as ei:
        parse(spl)
    assert ei.value.column == col and f"(column {col})" in str(ei.value)
    with pytest.raises(SPLError):
        mk({"a": "1"}).search(spl, now=NOW)
