"""attribute-plot: column classes, bucket choice, the aggregated numbers (read from what is
plotted, not only "a PNG exists"), the PNG and the self-contained page, errors."""
from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stixgraph.analytics import attribute_plot as ap
from stixgraph.analytics.base import AnalyticError, Display, Result

T0 = pd.Timestamp("2021-04-03T08:00:00Z")


def iso(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # STIX: milliseconds, Z


def traffic(times, **cols) -> pd.DataFrame:
    """network-traffic rows as APPLY passes them (first_observed as STIX strings)."""
    n = len(times)
    base = {"id": [f"network-traffic--{i:05d}" for i in range(n)], "type": "network-traffic",
            "src_ref.value": "10.0.0.5", "dst_ref.value": "140.82.114.3", "dst_port": 443,
            "first_observed": [iso(t) for t in times], "src_byte_count": np.arange(n) * 10}
    base.update(cols)
    return pd.DataFrame(base)


def spike_frame() -> pd.DataFrame:
    """One connection a minute for 30 minutes, and 40 more in minute 12: the traffic spike."""
    times = [T0 + pd.Timedelta(minutes=m, seconds=7) for m in range(30)]
    times += [T0 + pd.Timedelta(minutes=12, seconds=s) for s in range(10, 50)]
    return traffic(times)


def run(frame, **params) -> Result:
    res = ap.analytic([frame], {k: str(v) for k, v in params.items()})
    assert isinstance(res, Result) and res.frames == [] and isinstance(res.display, Display)
    return res


def decode_png(png: bytes) -> Image.Image:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def test_time_series_counts_the_spike():
    frame = spike_frame()
    plan = ap.aggregate(frame, "first_observed", "id")
    assert plan.kind == "timeseries" and plan.bucket == "1min"
    s = plan.data
    assert len(s) == 30 and int(s.sum()) == len(frame) == 70
    assert s.index[0] == T0 and str(s.index.tz) == "UTC"
    assert s[T0 + pd.Timedelta(minutes=12)] == 41
    assert (s.drop(T0 + pd.Timedelta(minutes=12)) == 1).all()
    assert plan.xlabel == "first_observed (UTC)" and plan.ylabel == "connections per 1min"
    assert "connections per minute" in plan.title
    # YPARAM is optional for a time x: counts too
    assert ap.aggregate(frame, "first_observed").data.equals(s)


def test_time_series_png_and_page():
    res = run(spike_frame(), XPARAM="first_observed", YPARAM="id")
    img = decode_png(res.display.png)
    assert img.size == (800, 450)
    html = res.display.html
    m = re.search(r'src="data:image/png;base64,([^"]+)"', html)
    assert m and base64.b64decode(m.group(1)) == res.display.png
    assert "connections per minute over first_observed" in html
    assert "<td>2021-04-03T08:12:00Z</td><td>41</td>" in html  # the plotted numbers
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    # the figure really has a drawn line (not an empty axes): the plot colour is in the PNG
    colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert sum(n for n, c in colours if abs(c[0] - 0x1F) < 20 and abs(c[2] - 0xA8) < 20) > 200


def test_time_series_sums_a_numeric_y():
    times = [T0 + pd.Timedelta(seconds=s) for s in (0, 1, 12, 13, 14, 59)]
    frame = traffic(times, src_byte_count=[100, 200, 1, 2, 3, 1000])
    plan = ap.aggregate(frame, "first_observed", "src_byte_count")
    assert plan.bucket == "1s"  # 59 s span: 59 one-second buckets
    assert plan.data[T0] == 100 and plan.data[T0 + pd.Timedelta(seconds=13)] == 2
    assert plan.data.sum() == 1306 and len(plan.data) == 60
    assert plan.ylabel == "sum of src_byte_count (bytes) per 1s"


@pytest.mark.parametrize("seconds, bucket", [
    (0, "1s"), (59, "1s"), (99, "1s"), (100, "10s"), (600, "10s"), (3600, "1min"),
    (6 * 3600, "5min"), (3 * 86400, "1h"), (60 * 86400, "1D"), (5 * 365 * 86400, "1ME"),
    (500 * 365 * 86400, "1ME")])
def test_bucket_choice(seconds, bucket):
    assert ap.pick_bucket(seconds) == bucket


def test_bucket_aliases_work_in_pandas():
    """Every alias resamples on this pandas (the upstream 1S/1T/1H/1M spellings do not)."""
    idx = pd.date_range("2021-01-01", periods=3, freq="1D", tz="UTC")
    for alias, _ in ap.BUCKETS:
        assert pd.Series(1, index=idx).resample(alias).size().sum() == 3


def test_month_buckets_over_years():
    times = [T0 + pd.Timedelta(days=d) for d in range(0, 4000, 40)]
    plan = ap.aggregate(traffic(times), "first_observed")
    assert plan.bucket == "1ME" and int(plan.data.sum()) == len(times)
    decode_png(run(traffic(times), XPARAM="first_observed").display.png)


def test_scatter_numeric_against_numeric():
    frame = traffic([T0] * 5, src_byte_count=[1, 2, 3, 4, 5], dst_byte_count=[10, 20, 30, 40, 50])
    plan = ap.aggregate(frame, "src_byte_count", "dst_byte_count")
    assert plan.kind == "scatter"
    assert plan.data["x"].tolist() == [1, 2, 3, 4, 5]
    assert plan.data["y"].tolist() == [10, 20, 30, 40, 50]
    assert plan.xlabel == "src_byte_count (bytes)" and plan.ylabel == "dst_byte_count (bytes)"
    res = run(frame, XPARAM="src_byte_count", YPARAM="dst_byte_count")
    assert decode_png(res.display.png).size == (800, 450)
    # the same column on both axes works too
    assert ap.aggregate(frame, "src_byte_count", "src_byte_count").data.shape == (5, 2)


def test_bar_chart_of_a_categorical_x():
    frame = traffic([T0] * 7, x_direction=["outbound"] * 5 + ["inbound"] * 2)
    plan = ap.aggregate(frame, "x_direction")
    assert plan.kind == "bar"
    assert plan.data.to_dict() == {"outbound": 5, "inbound": 2}
    assert plan.ylabel == "connections" and plan.title.endswith("connections by x_direction")
    res = run(frame, XPARAM="x_direction")
    decode_png(res.display.png)
    assert "<td>outbound</td><td>5</td>" in res.display.html
    # a port is a category, not a number; a numeric y is summed per category
    assert ap.aggregate(frame, "dst_port").data.to_dict() == {"443": 7}
    sums = ap.aggregate(frame, "x_direction", "src_byte_count").data.to_dict()
    assert sums == {"outbound": 0 + 10 + 20 + 30 + 40, "inbound": 50 + 60}


def test_bar_chart_keeps_the_top_n():
    dsts = [f"203.0.113.{i}" for i in range(30) for _ in range(30 - i)]
    frame = traffic([T0] * len(dsts), **{"dst_ref.value": dsts})
    plan = ap.aggregate(frame, "dst_ref.value", topn=5)
    assert list(plan.data.index) == [f"203.0.113.{i}" for i in range(5)] + ["other (25 values)"]
    assert int(plan.data.sum()) == len(dsts)
    assert plan.data.iloc[0] == 30


def test_column_classes():
    frame = spike_frame()
    frame["count_text"] = [str(i) for i in range(len(frame))]
    assert ap.classify(frame["first_observed"], "first_observed") == "time"
    assert ap.classify(pd.to_datetime(frame["first_observed"], format="ISO8601"), "t") == "time"
    assert ap.classify(frame["src_byte_count"], "src_byte_count") == "numeric"
    assert ap.classify(frame["count_text"], "count_text") == "numeric"
    assert ap.classify(frame["dst_port"], "dst_port") == "categorical"
    assert ap.classify(frame["id"], "id") == "categorical"
    assert ap.classify(frame["dst_ref.value"], "dst_ref.value") == "categorical"
    assert ap.classify(pd.Series(["2021-04-03 08:00"]), "x") == "categorical"  # no Z


def test_errors():
    frame = spike_frame()
    with pytest.raises(AnalyticError, match=r"XPARAM 'foo' is not a column of the input "
                                            r"\(network-traffic\); it has: .*first_observed"):
        ap.analytic([frame], {"XPARAM": "foo"})
    with pytest.raises(AnalyticError, match="YPARAM 'bar' is not a column"):
        ap.analytic([frame], {"XPARAM": "first_observed", "YPARAM": "bar"})
    with pytest.raises(AnalyticError, match="XPARAM is missing"):
        ap.analytic([frame], {})
    with pytest.raises(AnalyticError, match="takes one variable"):
        ap.analytic([frame, frame], {"XPARAM": "id"})
    with pytest.raises(AnalyticError, match="empty"):
        ap.analytic([frame.iloc[:0]], {"XPARAM": "id"})
    with pytest.raises(AnalyticError, match="TOPN"):
        ap.analytic([frame], {"XPARAM": "id", "TOPN": "x"})


def test_no_pyplot_state():
    import sys
    had = "matplotlib.pyplot" in sys.modules
    run(spike_frame(), XPARAM="first_observed", YPARAM="id")
    if had:
        import matplotlib.pyplot as plt
        assert plt.get_fignums() == []
    else:
        assert "matplotlib.pyplot" not in sys.modules
