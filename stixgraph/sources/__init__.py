"""Data sources: :func:`open_source` turns a GET's ``FROM`` URI into a
:class:`~stixgraph.sources.base.DataSource`.

The scheme picks the class: built-ins (``file``, ``http``, ``https`` and bare paths → bundle
files and URLs), then classes registered with :func:`register_source`, then entry points of
the group ``stixgraph.sources`` (entry point name = scheme, value = a ``DataSource``
subclass), so stix-shifter or TAXII sources can be installed as plug-ins.
"""
from __future__ import annotations

from importlib.metadata import entry_points

from ..errors import DataSourceError
from .base import DataSource, SourceQuery

__all__ = ["DataSource", "SourceQuery", "open_source", "register_source", "scheme_of",
           "known_schemes"]

_REGISTRY: dict[str, type[DataSource]] = {}
ENTRY_POINT_GROUP = "stixgraph.sources"


def register_source(scheme: str, cls: type[DataSource]) -> None:
    """Serve ``scheme://...`` URIs with ``cls`` (overrides built-ins and plug-ins)."""
    _REGISTRY[scheme.lower()] = cls


def scheme_of(uri: str) -> str:
    """``scheme`` of ``scheme://rest``; a bare path (or a Windows drive) is ``file``."""
    head, sep, _ = uri.partition("://")
    if not sep or len(head) == 1 or not head.replace("+", "").replace("-", "").isalnum():
        return "file"
    return head.lower()


def _builtins() -> dict[str, type[DataSource]]:
    from .bundle import BundleSource
    from .stixshifter import StixShifterSource
    from .taxii import TaxiiSource
    return {**{s: BundleSource for s in BundleSource.schemes}, "stixshifter": StixShifterSource,
            **{s: TaxiiSource for s in TaxiiSource.schemes}}


def _plugins() -> dict[str, object]:
    try:
        return {ep.name.lower(): ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    except Exception:  # a broken plug-in must not break the built-in sources
        return {}


def known_schemes() -> list[str]:
    return sorted(set(_builtins()) | set(_REGISTRY) | set(_plugins()))


def open_source(uri: str, config: dict | None = None) -> DataSource:
    """The data source for ``uri`` (``file:///x.json``, ``/x.json``, ``https://...``,
    ``stixshifter://profile``)."""
    if not isinstance(uri, str) or not uri.strip():
        raise DataSourceError("empty data source URI")
    scheme = scheme_of(uri)
    cls = _REGISTRY.get(scheme) or _builtins().get(scheme)
    if cls is None:
        ep = _plugins().get(scheme)
        if ep is not None:
            try:
                cls = ep.load()
            except Exception as e:
                raise DataSourceError(f"data source plug-in {scheme!r} failed to load: {e}") \
                    from None
    if cls is None:
        raise DataSourceError(f"unknown data source scheme {scheme!r} in {uri} (known: "
                              f"{', '.join(known_schemes())})")
    return cls(uri, config)
