"""The contract between APPLY and an analytic (Kestrel v1's, in-process).

An analytic is a callable ``analytic(frames, params) -> Result``:

* ``frames``: one pandas DataFrame per variable named after ``ON``, in order.  Columns: ``id``,
  ``type``, the entities' attributes, and ``ref.attr`` paths for their references
  (``dst_ref.value`` for network-traffic, ``binary_ref.name`` for a process...), as DISP shows
  them.  One row per entity.
* ``params``: the ``WITH`` parameters as strings (Kestrel stringifies every value; a list is
  comma-joined: ``WITH x=(a,b)`` gives ``"a,b"``).

It returns a :class:`Result`: DataFrames to write back (none, or one per input in order; each
has ``id`` and the attributes to add or change — APPLY upserts them by id onto the stored
entities, so every variable holding those entities sees them), at most one :class:`Display`
(a map, a plot) and notes (one line each: what could not be done, e.g. lookups that failed).
An analytic must not write to the store itself, must not reach the network unless its
documented parameters say where (a resolver, an RDAP server), and must raise
:class:`AnalyticError` with a one-line reason on bad input.

Built-ins are registered in the ``stixgraph.analytics`` entry-point group
(``pinip = "stixgraph.analytics.pinip:analytic"``); Kestrel python analytics (``fn(df, ...)``
returning DataFrames and/or a display) are adapted by the APPLY runner.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import StixgraphError


class AnalyticError(StixgraphError):
    """An analytic could not run on its input (one line: what and why)."""


@dataclass
class Display:
    """What an analytic shows: a self-contained HTML page (renders with no network), and/or a
    PNG image; ``title`` names it (file names, notebook captions)."""

    title: str
    html: str | None = None
    png: bytes | None = None


@dataclass
class Result:
    frames: list = field(default_factory=list)  # pandas DataFrames, one per input or none
    display: Display | None = None
    notes: list[str] = field(default_factory=list)
