"""``APPLY attribute-plot ON v WITH XPARAM=x, YPARAM=y``: one chart of two attributes of a
variable (Kestrel's ``python://attribute-plot`` / ``docker://attributeplot``), offline.

Columns are classified (research/analytics-jupyter.md §0):

* **time**: a datetime dtype, or strings that are all ISO 8601 timestamps ending in ``Z``
  (``first_observed``, ``created``...);
* **numeric**: a numeric dtype (or strings that all parse as numbers), except ``id`` and
  ``*_id`` / ``*_port`` / ``*_ref`` columns (ports and identifiers are categories);
* **categorical**: anything else.

Charts:

* time x: a time series, ``y`` aggregated per automatic bucket (:func:`pick_bucket`, one of
  ``1s 10s 1min 5min 1h 1D 1ME``, pandas 3 spellings, the finest giving at most
  :data:`MAX_BUCKETS` buckets): the **sum** of a numeric ``y``, else the **count** of records
  (YPARAM optional; Kestrel's seed uses ``YPARAM=id``); empty buckets count 0;
* numeric x with numeric (or time) y: a scatter plot; numeric x alone: a histogram;
* categorical x: a horizontal bar chart of the top ``TOPN`` values (default 20; the rest
  summed as "other"): counts, or the sum of a numeric ``y``.

The output is one :class:`~.base.Display` with a PNG (matplotlib Agg, Figure objects only: no
pyplot state) and a self-contained HTML page embedding that PNG as a ``data:`` URI plus the
plotted numbers as a table.  :func:`aggregate` returns what is plotted, for tests and callers.
"""
from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field

import pandas as pd

from .base import AnalyticError, Display, Result

#: candidate time buckets (pandas 3 aliases) and their length in seconds (1ME ~ 31 days)
BUCKETS = (("1s", 1), ("10s", 10), ("1min", 60), ("5min", 300), ("1h", 3600),
           ("1D", 86400), ("1ME", 31 * 86400))
MAX_BUCKETS = 100
TOPN = 20
FIGSIZE = (8.0, 4.5)  # inches
DPI = 100  # so the PNG is 800 x 450 pixels
_ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$")

#: what one record of a type is called on an axis
NOUNS = {"network-traffic": "connections", "process": "processes", "file": "files",
         "ipv4-addr": "addresses", "ipv6-addr": "addresses", "domain-name": "domain names",
         "url": "URLs", "user-account": "accounts", "x-oca-event": "events"}


def unit_of(column: str) -> str:
    """The unit of a numeric attribute, for axis labels ('' when unknown)."""
    c = column.rsplit(".", 1)[-1].lower()
    if c.endswith("byte_count") or c.endswith("_bytes") or c == "size":
        return "bytes"
    if c.endswith("packets"):
        return "packets"
    if c.endswith("_port") or c == "port":
        return "port"
    if c in ("pid", "x_ppid") or c.endswith("_pid"):
        return "pid"
    if c.endswith("duration") or c.endswith("_seconds"):
        return "s"
    return ""


def _label(column: str) -> str:
    u = unit_of(column)
    return f"{column} ({u})" if u and u not in ("port", "pid") else column


def classify(series: pd.Series, name: str) -> str:
    """``"time"``, ``"numeric"`` or ``"categorical"``."""
    base = name.rsplit(".", 1)[-1]
    ident = base == "id" or base.endswith(("_id", "_port", "_ref", "_refs")) or base == "port"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "time"
    if pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "categorical" if ident else "numeric"
    vals = series.dropna()
    vals = vals[vals.astype(str).str.strip() != ""]
    if vals.empty:
        return "categorical"
    text = vals.astype(str)
    if text.map(lambda v: bool(_ISO_Z.match(v))).all():
        return "time"
    if not ident and pd.to_numeric(text, errors="coerce").notna().all() \
            and not vals.map(lambda v: isinstance(v, bool)).any():
        return "numeric"
    return "categorical"


def pick_bucket(span_seconds: float) -> str:
    """The finest bucket giving at most :data:`MAX_BUCKETS` buckets over ``span_seconds``."""
    for alias, secs in BUCKETS:
        if span_seconds / secs < MAX_BUCKETS:
            return alias
    return BUCKETS[-1][0]


def _bucket_words(alias: str) -> str:
    return {"1s": "second", "10s": "10 s", "1min": "minute", "5min": "5 min", "1h": "hour",
            "1D": "day", "1ME": "month"}[alias]


@dataclass
class Plan:
    """What is plotted: ``kind`` is ``"timeseries"``, ``"scatter"``, ``"histogram"`` or
    ``"bar"``; ``data`` a Series (x as index) for timeseries/bar/histogram, a two-column
    DataFrame (columns ``x`` and ``y``) for scatter."""

    kind: str
    data: object
    title: str
    xlabel: str
    ylabel: str
    bucket: str | None = None
    notes: list[str] = field(default_factory=list)


def _column(frame: pd.DataFrame, param: str, value: str, what: str) -> pd.Series:
    if value not in frame.columns:
        cols = ", ".join(sorted(map(str, frame.columns)))
        raise AnalyticError(f"attribute-plot: {param} '{value}' is not a column of {what}; "
                            f"it has: {cols}")
    return frame[value]


def aggregate(frame: pd.DataFrame, xparam: str, yparam: str | None = None,
              topn: int = TOPN) -> Plan:
    """The chart for ``xparam`` (and ``yparam``) of ``frame``, without drawing it."""
    types = sorted(set(frame["type"].dropna().astype(str))) if "type" in frame.columns else []
    what = f"the input ({', '.join(types)})" if types else "the input"
    noun = NOUNS.get(types[0], "records") if len(types) == 1 else "records"
    x = _column(frame, "XPARAM", xparam, what)
    y = _column(frame, "YPARAM", yparam, what) if yparam else None
    xk = classify(x, xparam)
    yk = classify(y, yparam) if y is not None else None
    subject = f"{', '.join(types)}: " if types else ""
    notes: list[str] = []

    if xk == "time":
        t = pd.to_datetime(x, utc=True, errors="coerce", format="ISO8601") \
            if not pd.api.types.is_datetime64_any_dtype(x) else x
        if getattr(t.dt, "tz", None) is None:
            t = t.dt.tz_localize("UTC")
        ok = t.notna()
        if not ok.any():
            raise AnalyticError(f"attribute-plot: XPARAM '{xparam}' has no timestamp")
        if (~ok).any():
            notes.append(f"attribute-plot: {int((~ok).sum())} records without {xparam} "
                         f"left out")
        t = t[ok]
        span = (t.max() - t.min()).total_seconds()
        bucket = pick_bucket(span)
        if yk == "numeric":
            vals = pd.to_numeric(y[ok], errors="coerce").fillna(0)
            series = pd.Series(vals.to_numpy(), index=pd.DatetimeIndex(t)).sort_index() \
                .resample(bucket).sum(min_count=0)
            u = unit_of(yparam)
            ylabel = f"sum of {yparam}{f' ({u})' if u else ''} per {bucket}"
            title = f"{subject}{yparam} per {_bucket_words(bucket)} over {xparam}"
        else:
            series = pd.Series(1, index=pd.DatetimeIndex(t)).sort_index() \
                .resample(bucket).size()
            ylabel = f"{noun} per {bucket}"
            title = f"{subject}{noun} per {_bucket_words(bucket)} over {xparam}"
        series.name = ylabel
        return Plan("timeseries", series, title, f"{xparam} (UTC)", ylabel, bucket, notes)

    if xk == "numeric":
        xs = pd.to_numeric(x, errors="coerce")
        if yk in ("numeric", "time"):
            ys = pd.to_numeric(y, errors="coerce") if yk == "numeric" else \
                pd.to_datetime(y, utc=True, errors="coerce", format="ISO8601")
            data = pd.DataFrame({"x": xs.to_numpy(), "y": ys.to_numpy()}).dropna()
            return Plan("scatter", data, f"{subject}{yparam} against {xparam} "
                        f"({len(data)} {noun})", _label(xparam),
                        _label(yparam) + (" (UTC)" if yk == "time" else ""), None, notes)
        xs = xs.dropna()
        if yparam:
            notes.append(f"attribute-plot: YPARAM '{yparam}' is categorical: a histogram of "
                         f"{xparam} is drawn")
        return Plan("histogram", xs, f"{subject}distribution of {xparam}", _label(xparam),
                    noun, None, notes)

    cats = x.astype("string").fillna("(none)").replace("", "(empty)")
    if yk == "numeric":
        vals = pd.to_numeric(y, errors="coerce").fillna(0)
        agg = vals.groupby(cats.to_numpy()).sum().sort_values(ascending=False, kind="stable")
        u = unit_of(yparam)
        ylabel = f"sum of {yparam}{f' ({u})' if u else ''}"
    else:
        agg = cats.value_counts(sort=True)
        agg.index = agg.index.astype(str)
        ylabel = noun
    if len(agg) > topn:
        rest = agg.iloc[topn:]
        agg = pd.concat([agg.iloc[:topn], pd.Series({f"other ({len(rest)} values)":
                                                     rest.sum()})])
    agg.name = ylabel
    return Plan("bar", agg, f"{subject}{ylabel} by {xparam}", xparam, ylabel, None, notes)


def draw(plan: Plan):
    """A matplotlib Figure (Agg canvas attached) of the plan."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    import matplotlib.dates as mdates

    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if plan.kind == "timeseries":
        s = plan.data
        idx = s.index.tz_convert("UTC").tz_localize(None)
        # each bucket is a step as wide as the bucket, the last one too (it ends one bucket
        # after its start); the markers sit on the buckets' starts
        end = idx[-1] + pd.tseries.frequencies.to_offset(plan.bucket)
        xs, ys = idx.append(pd.DatetimeIndex([end])), [*s.to_numpy(), s.to_numpy()[-1]]
        ax.plot(xs, ys, drawstyle="steps-post", color="#1f5fa8")
        if len(s) <= 40:
            ax.plot(idx, s.to_numpy(), "o", markersize=3, color="#1f5fa8")
        ax.fill_between(xs, ys, step="post", alpha=0.15, color="#1f5fa8")
        loc = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        ax.set_ylim(bottom=0)
    elif plan.kind == "scatter":
        d = plan.data
        ax.scatter(d.iloc[:, 0], d.iloc[:, 1], s=14, alpha=0.7, color="#1f5fa8")
    elif plan.kind == "histogram":
        ax.hist(plan.data.to_numpy(), bins=min(30, max(1, plan.data.nunique())),
                color="#1f5fa8")
    else:
        s = plan.data.iloc[::-1]  # largest on top
        bars = ax.barh([str(i) for i in s.index], s.to_numpy(), color="#1f5fa8", height=0.6)
        pad = max(0.0, (4 - len(s)) / 2)  # one or two bars stay bars, not slabs
        ax.set_ylim(-0.5 - pad, len(s) - 0.5 + pad)
        ax.bar_label(bars, padding=3, fontsize=8)  # the value at each bar's end
        ax.margins(x=0.08)
        if plan.ylabel and not plan.ylabel.startswith("sum"):  # counts: whole ticks
            from matplotlib.ticker import MaxNLocator
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="y", labelsize=8 if len(s) > 12 else 10)
    ax.set_title(plan.title, fontsize=11)
    if plan.kind == "bar":
        ax.set_xlabel(plan.ylabel)
        ax.set_ylabel(plan.xlabel)
    else:
        ax.set_xlabel(plan.xlabel)
        ax.set_ylabel(plan.ylabel)
    ax.grid(True, alpha=0.3)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _table(plan: Plan, limit: int = 200) -> str:
    e = html.escape
    if plan.kind == "scatter":
        d = plan.data
        rows = [(d.iloc[i, 0], d.iloc[i, 1]) for i in range(min(len(d), limit))]
        head = (plan.xlabel, plan.ylabel)
    elif plan.kind == "histogram":
        return ""
    else:
        s = plan.data
        if plan.kind == "timeseries":
            s = s[s != 0] if len(s) > limit else s
        rows = [(i.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(i, "strftime") else i, v)
                for i, v in list(s.items())[:limit]]
        head = (plan.xlabel if plan.kind == "timeseries" else plan.xlabel, plan.ylabel)
    body = "".join(f"<tr><td>{e(str(a))}</td><td>{e(str(b))}</td></tr>" for a, b in rows)
    return (f'<details><summary>data</summary><table class="ap"><tr><th>{e(head[0])}</th>'
            f"<th>{e(head[1])}</th></tr>{body}</table></details>")


def page(plan: Plan, png: bytes) -> str:
    e = html.escape
    b64 = base64.b64encode(png).decode()
    w, h = int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(plan.title)}</title><style>body{{font-family:system-ui,sans-serif;"
            "margin:12px}h1{font-size:1.1em}table.ap{border-collapse:collapse;font-size:.85em}"
            "table.ap td,table.ap th{border:1px solid #ccd;padding:2px 8px}</style></head>"
            f"<body><h1>{e(plan.title)}</h1><img alt=\"{e(plan.title)}\" width=\"{w}\" "
            f"height=\"{h}\" src=\"data:image/png;base64,{b64}\">"
            + "".join(f"<p>{e(n)}</p>" for n in plan.notes)
            + _table(plan) + "</body></html>")


def _param(params: dict, name: str) -> str | None:
    for k in (name, name.lower(), name.capitalize()):
        v = params.get(k)
        if v is not None and str(v).strip():
            return str(v).strip()
    return None


def analytic(frames, params) -> Result:
    if len(frames) != 1:
        raise AnalyticError(f"attribute-plot: takes one variable (APPLY attribute-plot ON v "
                            f"WITH XPARAM=..., YPARAM=...), got {len(frames)}")
    frame = frames[0]
    xparam = _param(params, "XPARAM")
    if not xparam:
        raise AnalyticError("attribute-plot: XPARAM is missing (WITH XPARAM=attribute, "
                            "YPARAM=attribute)")
    yparam = _param(params, "YPARAM")
    if frame.empty:
        raise AnalyticError("attribute-plot: the variable is empty: nothing to plot")
    topn = _param(params, "TOPN") or str(TOPN)
    if not topn.isdigit() or int(topn) < 1:
        raise AnalyticError(f"attribute-plot: TOPN must be a positive integer, not {topn!r}")
    plan = aggregate(frame, xparam, yparam, int(topn))
    fig = draw(plan)
    png = _png(fig)
    title = f"attribute-plot {xparam}" + (f" {yparam}" if yparam else "")
    return Result(frames=[], display=Display(title=title, html=page(plan, png), png=png),
                  notes=plan.notes)
