"""domainnamelookup against a loopback DNS server (dnslib) and RDAP server (http.server)."""
from __future__ import annotations

import time

import pandas as pd
import pytest

from stixgraph.analytics import domainnamelookup as dnl
from stixgraph.analytics.base import AnalyticError, Result

from dns_rdap_servers import FakeDNS, FakeRDAP, SilentDNS, dead_port


def nt(*dsts: str) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"network-traffic--{i:04d}" for i in range(len(dsts))],
                         "type": "network-traffic", "src_ref.value": "10.0.0.5",
                         "dst_ref.value": list(dsts), "dst_port": 443})


@pytest.fixture(scope="module")
def _servers():
    with FakeDNS() as dns, FakeRDAP() as rdap:
        yield dns, rdap


@pytest.fixture
def servers(_servers):
    """The module's servers, with their request counters reset."""
    for s in _servers:
        getattr(s, "queries", getattr(s, "requests", None)).clear()
    return _servers


def run(frames, **params) -> Result:
    res = dnl.analytic(frames, {k: str(v) for k, v in params.items()})
    assert isinstance(res, Result) and len(res.frames) == len(frames)
    return res


def by_dst(res: Result, frame: pd.DataFrame, col="dst_ref.value") -> dict:
    out = res.frames[0].assign(dst=list(frame[col]))
    assert list(out.columns[:3]) == ["id", "x_domain_name", "x_domain_organization"]
    assert list(out["id"]) == list(frame["id"])
    return {r.dst: (r.x_domain_name, r.x_domain_organization) for r in out.itertuples()}


def test_names_and_organisations_filled(servers):
    dns, rdap = servers
    f = nt("140.82.114.3", "185.199.111.133", "140.82.114.3", "140.82.112.4")
    res = run([f], resolver=dns.address, rdap=rdap.url, timeout=2)
    got = by_dst(res, f)
    assert got["140.82.114.3"] == ("lb-140-82-114-3-iad.github.com", "GitHub, Inc. (GITHU)")
    assert got["185.199.111.133"] == ("cdn-185-199-111-133.github.com",
                                      "GitHub, Inc (ORG-GI58-RIPE)")
    assert got["140.82.112.4"] == ("lb-140-82-112-4-iad.github.com", "GitHub, Inc. (GITHU)")
    assert not any("failed" in n for n in res.notes), res.notes


def test_failures_left_empty_and_counted(servers):
    dns, rdap = servers
    # 8.8.8.8: NXDOMAIN and RDAP 404; 140.82.114.3 fine
    f = nt("140.82.114.3", "8.8.8.8")
    res = run([f], resolver=dns.address, rdap=rdap.url, timeout=2)
    got = by_dst(res, f)
    assert got["8.8.8.8"] == ("", "")
    assert got["140.82.114.3"][0] == "lb-140-82-114-3-iad.github.com"
    note, = [n for n in res.notes if "failed" in n]
    assert note.startswith("domainnamelookup: 2 of 4 lookups failed (")
    assert "1 NXDOMAIN" in note and "1 RDAP HTTP 404" in note


def test_dead_rdap_port_fails_and_dns_still_works(servers):
    dns, _ = servers
    f = nt("140.82.114.3", "185.199.111.133")
    t0 = time.monotonic()
    res = run([f], resolver=dns.address, rdap=f"http://127.0.0.1:{dead_port()}", timeout=2)
    assert time.monotonic() - t0 < 5
    got = by_dst(res, f)
    assert got["140.82.114.3"] == ("lb-140-82-114-3-iad.github.com", "")
    assert got["185.199.111.133"] == ("cdn-185-199-111-133.github.com", "")
    note, = [n for n in res.notes if "failed" in n]
    assert note == "domainnamelookup: 2 of 4 lookups failed (2 RDAP unreachable)"


def test_each_address_looked_up_once_per_run(servers):
    dns, rdap = servers
    f = nt(*(["140.82.114.3"] * 20 + ["185.199.111.133"] * 7 + ["8.8.8.8"] * 3))
    ips = pd.DataFrame({"id": ["ipv4-addr--1", "ipv4-addr--2"], "type": "ipv4-addr",
                        "value": ["140.82.114.3", "8.8.8.8"]})
    res = run([f, ips], resolver=dns.address, rdap=rdap.url, timeout=2)
    assert {dns.count(ip) for ip in ("140.82.114.3", "185.199.111.133", "8.8.8.8")} == {1}
    assert sum(dns.queries.values()) == 3
    assert dict(rdap.requests) == {"140.82.114.3": 1, "185.199.111.133": 1, "8.8.8.8": 1}
    # the second frame (ipv4-addr, column value) gets the same answers
    assert list(res.frames[1]["x_domain_name"]) == ["lb-140-82-114-3-iad.github.com", ""]
    assert list(res.frames[1]["x_domain_organization"]) == ["GitHub, Inc. (GITHU)", ""]
    assert len(res.frames[0]) == 30
    # a new run looks up again (cached per run, not forever)
    run([f], resolver=dns.address, rdap=rdap.url, timeout=2)
    assert dns.count("140.82.114.3") == 2


def test_dead_resolver_is_time_boxed():
    addrs = [f"140.82.{i // 200}.{i % 200 + 1}" for i in range(50)]
    with SilentDNS() as silent:
        t0 = time.monotonic()
        res = run([nt(*addrs)], resolver=silent.address, rdap="off", timeout=1)
        elapsed = time.monotonic() - t0
    assert elapsed < 10, elapsed
    assert set(res.frames[0]["x_domain_name"]) == {""}
    note, = [n for n in res.notes if "failed" in n]
    assert note.startswith("domainnamelookup: 50 of 50 lookups failed (")
    assert "DNS timeout" in note and "DNS skipped (server unreachable)" in note  # fail fast kicked in


def test_overall_budget_bounds_the_run():
    addrs = [f"140.82.114.{i}" for i in range(1, 5)]
    with SilentDNS() as silent:
        t0 = time.monotonic()
        res = run([nt(*addrs)], resolver=silent.address, rdap="off", timeout=5, budget=1)
        elapsed = time.monotonic() - t0
    assert elapsed < 3, elapsed
    note, = [n for n in res.notes if "failed" in n]
    assert note == "domainnamelookup: 4 of 4 lookups failed (4 time budget exhausted)"


def test_private_addresses_skipped_not_failed(servers):
    dns, rdap = servers
    f = nt("10.0.0.4", "192.168.1.4", "127.0.0.1", "fe80::1", "10.0.0.4", "140.82.114.3", None)
    res = run([f], resolver=dns.address, rdap=rdap.url, timeout=2)
    assert set(dns.queries) == {"3.114.82.140.in-addr.arpa."}
    assert set(rdap.requests) == {"140.82.114.3"}
    out = res.frames[0]
    assert list(out["x_domain_name"]) == [""] * 5 + ["lb-140-82-114-3-iad.github.com", ""]
    assert not any("failed" in n for n in res.notes)
    assert ("domainnamelookup: 4 private or non-global addresses not looked up "
            "(10.0.0.4, 127.0.0.1, 192.168.1.4, fe80::1)") in res.notes


def test_environment_configures_servers(servers, monkeypatch):
    dns, rdap = servers
    monkeypatch.setenv("STIXGRAPH_DNS", dns.address)
    monkeypatch.setenv("STIXGRAPH_RDAP", rdap.url + "/ip/")
    res = run([nt("140.82.114.3")], timeout=2)
    assert res.frames[0].iloc[0].tolist()[1:] == ["lb-140-82-114-3-iad.github.com",
                                                  "GitHub, Inc. (GITHU)"]


def test_bad_input_and_parameters():
    with pytest.raises(AnalyticError, match="neither dst_ref.value"):
        dnl.analytic([pd.DataFrame({"id": ["process--1"], "name": ["a.exe"]})], {})
    with pytest.raises(AnalyticError, match="resolver="):
        dnl.analytic([nt("140.82.114.3")], {"resolver": "dns.example:53"})
    with pytest.raises(AnalyticError, match="timeout="):
        dnl.analytic([nt("140.82.114.3")], {"timeout": "soon"})
    with pytest.raises(AnalyticError, match="rdap="):
        dnl.analytic([nt("140.82.114.3")], {"rdap": "ftp://x"})


def test_parse_resolver_and_registrant():
    assert dnl.parse_resolver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert dnl.parse_resolver("10.0.0.1") == ("10.0.0.1", 53)
    assert dnl.parse_resolver("[::1]:5353") == ("::1", 5353)
    assert dnl.parse_resolver("::1") == ("::1", 53)
    from dns_rdap_servers import RDAP
    assert dnl.registrant(RDAP["140.82.114.3"]) == "GitHub, Inc. (GITHU)"
    assert dnl.registrant({"entities": [{"roles": ["abuse"], "handle": "X"}]}) == ""
