"""Readers of the built-in analytics' HTML pages, for tests: what a page shows, read back."""
from __future__ import annotations

import json
import re


def page_data(html: str) -> dict:
    """pinip: the JSON block the map is drawn from (points, attribution...)."""
    m = re.search(r'<script type="application/json" id="pinip-data">(.*?)</script>', html, re.S)
    assert m, "the page has no pinip-data block"
    return json.loads(m.group(1))


def unpinned_rows(html: str) -> dict[str, str]:
    """pinip: {address: reason} of the table of addresses not pinned."""
    m = re.search(r'<table class="pinip" id="pinip-unpinned">(.*?)</table>', html, re.S)
    if not m:
        return {}
    return dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", m.group(1)))


def plotted(html: str) -> list[tuple[str, int]]:
    """attribute-plot: the (x, number) rows of the page's data table."""
    m = re.search(r'<table class="ap">(.*?)</table>', html, re.S)
    assert m, "the page has no data table"
    return [(a, int(b)) for a, b in re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>",
                                               m.group(1))]
