"""Renderers over display objects (:mod:`stixgraph.display`): terminal tables, JSON Lines, CSV.

A :class:`Renderer` writes to the stream it is given, one display at a time, so the CLI can
print a hunt's output statement by statement::

    r = Renderer(sys.stdout, "table")
    for d in displays:
        r.write(d)
"""
from __future__ import annotations

import csv
import io
import math
import re
import shutil
import textwrap
from pathlib import Path
from typing import IO

import orjson

from .display import Message, Summary, Table, Visual

FORMATS = ("table", "json", "csv")
FOOTNOTE = "*Number of related records cached."
SUMMARY_HEAD = ["VARIABLE", "TYPE", "#(ENTITIES)", "#(RECORDS)"]
MIN_COL = 8  # a column is never squeezed below this (or its header, if shorter)
GAP = "  "


def cell(value) -> str:
    """One value as text: None empty, lists/dicts compact JSON, booleans lower-case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return _json(value)
    return str(value)


def _json(obj) -> str:
    return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def summary_table(s: Summary) -> tuple[list[str], list[list]]:
    """The summary as columns and rows (one ``<type>*`` column per cached type)."""
    cols = SUMMARY_HEAD + [f"{t}*" for t in s.cached_types]
    rows = [[v.variable, v.type, v.entities, v.records] + [v.cached.get(t, 0) for t in s.cached_types]
            for v in s.variables]
    return cols, rows


def label(obj: dict) -> str:
    """A short human label for a STIX object (graph commands)."""
    t = obj.get("type")
    if t == "process":
        parts = [str(obj[k]) for k in ("pid", "name") if obj.get(k) is not None]
        return " ".join(parts) or obj.get("command_line") or ""
    if t == "network-traffic":
        ports = "->".join(str(obj.get(k, "?")) for k in ("src_port", "dst_port"))
        return ports + (" " + cell(obj["protocols"]) if obj.get("protocols") else "")
    for key in ("value", "name", "path", "key", "user_id", "account_login", "hostname", "number",
                "action", "display_name"):
        if obj.get(key) is not None:
            return cell(obj[key])
    return ""


class Renderer:
    """Writes displays to ``stream`` as ``table`` (terminal), ``json`` (JSON Lines) or ``csv``.

    ``width``: terminal width for tables (default: the terminal's); ``full``: show long values
    whole (wrapped) instead of cut with '…'.  ``err``: where CSV output sends messages (they
    are not CSV); when None they go to ``stream``."""

    def __init__(self, stream: IO[str], fmt: str = "table", *, width: int | None = None,
                 full: bool = False, err: IO[str] | None = None,
                 display_dir: str | Path | None = None, open_displays: bool = False):
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r} (use one of {', '.join(FORMATS)})")
        self.stream = stream
        self.fmt = fmt
        self.width = width or shutil.get_terminal_size((100, 24)).columns
        self.full = full
        self.err = err
        self._tables = 0  # CSV: tables written so far (blank line between them)
        self.display_dir = Path(display_dir) if display_dir else Path("stixgraph-displays")
        self.open_displays = open_displays

    def _save_visual(self, d: Visual) -> None:
        """Write an analytic's display to ``display_dir`` (HTML and/or PNG), named by its
        statement's line and title; open it with ``open_displays``."""
        if d.files:
            return
        self.display_dir.mkdir(parents=True, exist_ok=True)
        stem = f"line{d.statement:03d}-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", d.title)[:60]
        for ext, data in (("html", d.html), ("png", d.png)):
            if data is None:
                continue
            path = self.display_dir / f"{stem}.{ext}"
            if isinstance(data, str):
                path.write_text(data, encoding="utf-8")
            else:
                path.write_bytes(data)
            d.files.append(str(path))
        if self.open_displays and d.files:
            import webbrowser

            webbrowser.open(Path(d.files[0]).resolve().as_uri())

    def write(self, d) -> None:
        getattr(self, f"_{self.fmt}")(d)
        self.stream.flush()

    def write_error(self, text: str) -> None:
        """An error line (the shell: the session goes on)."""
        (self.err or self.stream).write(f"error: {text}\n")
        (self.err or self.stream).flush()

    def write_all(self, displays) -> None:
        for d in displays:
            self.write(d)

    # -- JSON Lines ------------------------------------------------------------
    def _json(self, d) -> None:
        if isinstance(d, Table):
            obj = {"display": "table", "statement": d.statement, "columns": list(d.columns),
                   "rows": [list(r) for r in d.rows]}
        elif isinstance(d, Summary):
            obj = {"display": "summary", "variables": [
                {"variable": v.variable, "type": v.type, "entities": v.entities,
                 "records": v.records, "cached": {t: v.cached.get(t, 0) for t in d.cached_types}}
                for v in d.variables]}
        elif isinstance(d, Message):
            obj = {"display": "message", "statement": d.statement, "level": d.level, "text": d.text}
        elif isinstance(d, Visual):
            self._save_visual(d)
            obj = {"display": "visual", "statement": d.statement, "title": d.title,
                   "files": list(d.files)}
        else:
            raise TypeError(f"not a display: {d!r}")
        self.stream.write(_json(obj) + "\n")

    # -- CSV --------------------------------------------------------------------
    def _csv(self, d) -> None:
        if isinstance(d, (Message, Visual)):
            text = d.text if isinstance(d, Message) else self._visual_line(d)
            (self.err or self.stream).write(f"{getattr(d, 'level', 'display')}: {text}\n")
            return
        cols, rows = (d.columns, d.rows) if isinstance(d, Table) else summary_table(d)
        if self._tables:
            self.stream.write("\n")
        self._tables += 1
        w = csv.writer(self.stream, lineterminator="\n")
        w.writerow(cols)
        w.writerows([cell(v) for v in r] for r in rows)

    # -- terminal ---------------------------------------------------------------
    def _visual_line(self, d: Visual) -> str:
        self._save_visual(d)
        return f"{d.title}: written to {', '.join(d.files)}"

    def _table(self, d) -> None:
        if isinstance(d, Message):
            self.stream.write(f"{d.level}: {d.text}\n")
        elif isinstance(d, Visual):
            self.stream.write(f"display: {self._visual_line(d)}\n")
        elif isinstance(d, Table):
            if d.title:
                self.stream.write(d.title + "\n")
            self.stream.write(self.grid(d.columns, d.rows) + "\n\n")
        elif isinstance(d, Summary):
            if d.variables:
                cols, rows = summary_table(d)
                self.stream.write(self.grid(cols, rows, fit=False) + "\n\n" + FOOTNOTE + "\n\n")
            self.stream.write(f"[SUMMARY] block executed in {math.ceil(d.seconds)} seconds\n")
        else:
            raise TypeError(f"not a display: {d!r}")

    def grid(self, columns: list[str], rows: list[list], fit: bool = True) -> str:
        """Aligned columns: a header line, a rule, then the rows.  Numbers are right-aligned
        and never cut; with ``fit``, other long cells are cut with '…' (or wrapped when
        ``full``) so that the table fits the width."""
        head = [str(c) for c in columns]
        body = [[cell(v) for v in r] for r in rows]
        numeric = [bool(rows) and all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool)
                                      or r[i] is None for r in rows) for i in range(len(head))]
        widths = [max([len(h)] + [_longest(r[i]) for r in body]) for i, h in enumerate(head)]
        if fit:
            widths = self._fit(widths, [w if num else max(MIN_COL, len(h))
                                        for w, num, h in zip(widths, numeric, head)])
        lines = _line([[h] for h in head], widths, numeric) + _line([["-" * w] for w in widths], widths, numeric)
        for r in body:
            lines.extend(_row(r, widths, numeric, self.full))
        return "\n".join(lines)

    def _fit(self, natural: list[int], floor: list[int]) -> list[int]:
        avail = self.width - len(GAP) * (len(natural) - 1)
        if sum(natural) <= avail:
            return natural
        floor = [min(n, f) for n, f in zip(natural, floor)]
        lo, hi = 0, max(natural)  # largest cap such that the capped widths fit
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if sum(max(f, min(n, mid)) for n, f in zip(natural, floor)) <= avail:
                lo = mid
            else:
                hi = mid - 1
        widths = [max(f, min(n, lo)) for n, f in zip(natural, floor)]
        spare = avail - sum(widths)
        for i, n in enumerate(natural):  # give what is left to the cut columns
            if spare > 0 and widths[i] < n:
                widths[i] += 1
                spare -= 1
        return widths


def _longest(text: str) -> int:
    return max((len(s) for s in text.split("\n")), default=0)


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split("\n"))
    return text if len(text) <= width else text[:width - 1] + "…"


def _wrap(text: str, width: int) -> list[str]:
    out = []
    for part in text.split("\n"):
        out += textwrap.wrap(part, width, break_on_hyphens=False, drop_whitespace=False) or [""]
    return [s.rstrip() for s in out]


def _row(cells: list[str], widths: list[int], numeric: list[bool], full: bool) -> list[str]:
    if full:
        return _line([_wrap(c, w) for c, w in zip(cells, widths)], widths, numeric)
    return _line([[_cut(c, w)] for c, w in zip(cells, widths)], widths, numeric)


def _line(cells: list[list[str]], widths: list[int], numeric: list[bool]) -> list[str]:
    """Lay out one row whose cells are lists of lines."""
    height = max((len(c) for c in cells), default=1)
    out = []
    for k in range(height):
        parts = []
        for c, w, num in zip(cells, widths, numeric):
            s = c[k] if k < len(c) else ""
            parts.append(s.rjust(w) if num else s.ljust(w))
        out.append(GAP.join(parts).rstrip())
    return out


# -- HTML (the Jupyter kernel, the %%hunt magic) ---------------------------------------------
_HTML_STYLE = ("<style>table.stixgraph{border-collapse:collapse;font-size:12px}"
               "table.stixgraph th{cursor:pointer;background:#f0f0f0;text-align:left}"
               "table.stixgraph td,table.stixgraph th{border:1px solid #ddd;padding:2px 6px;"
               "vertical-align:top}"
               "table.stixgraph td{white-space:pre-wrap;word-break:break-word;max-width:60em}"
               "table.stixgraph td.n{text-align:right}</style>")
# click a header to sort by it (again: the other way); numbers sort as numbers
_HTML_SORT = ("<script>document.currentScript.previousElementSibling.querySelectorAll('th')"
              ".forEach(function(th,i){th.onclick=function(){var t=th.closest('table'),"
              "b=t.tBodies[0],r=Array.from(b.rows),d=th.dataset.d=th.dataset.d=='a'?'d':'a';"
              "r.sort(function(x,y){var p=x.cells[i].innerText,q=y.cells[i].innerText,"
              "u=parseFloat(p),v=parseFloat(q),c=(!isNaN(u)&&!isNaN(v))?u-v:p.localeCompare(q);"
              "return d=='a'?c:-c});r.forEach(function(x){b.appendChild(x)})}})</script>")


def html_table(columns: list[str], rows: list[list], title: str | None = None) -> str:
    import html as _h

    def td(v):
        num = isinstance(v, (int, float)) and not isinstance(v, bool)
        return f"<td{' class=n' if num else ''}>{_h.escape(cell(v))}</td>"

    head = "".join(f"<th>{_h.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(td(v) for v in r) + "</tr>" for r in rows)
    cap = f"<caption>{_h.escape(title)}</caption>" if title else ""
    return (f"{_HTML_STYLE}<table class=stixgraph>{cap}<thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{_HTML_SORT}")


def html_of(d) -> tuple[str, str]:
    """(HTML, plain text) of a display, for rich front ends."""
    import html as _h

    if isinstance(d, Table):
        plain = Renderer(io.StringIO(), width=120).grid(d.columns, d.rows)
        return html_table(d.columns, d.rows, d.title), plain
    if isinstance(d, Summary):
        cols, rows = summary_table(d)
        buf = io.StringIO()
        Renderer(buf, width=120).write(d)
        body = html_table(cols, rows) + f"<p><small>{_h.escape(FOOTNOTE)}</small></p>" \
            if d.variables else ""
        return (body + f"<p><small>[SUMMARY] block executed in {math.ceil(d.seconds)} seconds"
                       f"</small></p>"), buf.getvalue()
    if isinstance(d, Message):
        return f"<pre>{_h.escape(d.level)}: {_h.escape(d.text)}</pre>", f"{d.level}: {d.text}"
    if isinstance(d, Visual):
        if d.html:  # a whole page: isolated in an iframe (its scripts and styles stay in it)
            return (f'<iframe srcdoc="{_h.escape(d.html, quote=True)}" '
                    f'style="width:100%;height:520px;border:0" title="{_h.escape(d.title)}">'
                    f'</iframe>'), d.title
        return "", d.title
    raise TypeError(f"not a display: {d!r}")
