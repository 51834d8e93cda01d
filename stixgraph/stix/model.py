"""The normalised STIX graph unit that data sources yield and stores ingest."""
from __future__ import annotations

from dataclasses import dataclass, field

SPEC_VERSION = "2.1"
#: observed-data properties an Observation holds in its own fields (not in ``props``)
_OWN = frozenset(("type", "id", "spec_version", "first_observed", "last_observed",
                  "number_observed", "object_refs", "objects"))


@dataclass
class Observation:
    """One observed-data, normalised to STIX 2.1.

    * ``objects`` maps each SCO's deterministic STIX 2.1 id to the SCO dict (``type``, ``id``,
      properties; every ``*_ref``/``*_refs`` value is the STIX id of another SCO of this
      observation, never a 2.0 index).  Custom ``x-`` types and ``x_`` properties are kept.
    * ``first_observed``/``last_observed`` are ISO-8601 UTC strings ending in ``Z`` with
      millisecond precision (``2024-12-12T16:43:24.000Z``) so they sort as text.
    * ``props`` keeps the other observed-data properties (``created_by_ref``, ``created``,
      ``modified``, ``x_*``...).
    """

    id: str
    first_observed: str
    last_observed: str
    number_observed: int
    objects: dict[str, dict]
    props: dict = field(default_factory=dict)

    def of_type(self, etype: str):
        return [o for o in self.objects.values() if o.get("type") == etype]

    def to_stix(self) -> dict:
        """The STIX 2.1 observed-data: ``object_refs`` = its SCO ids in order; ``created`` and
        ``modified`` from ``props``, else ``first_observed``, so that the same observation is
        always the same object version (re-publishing or re-ingesting it duplicates nothing)."""
        props = {k: v for k, v in (self.props or {}).items()
                 if k not in _OWN and v is not None and not k.startswith("_")}
        created = props.pop("created", None) or self.first_observed
        modified = props.pop("modified", None) or created
        return {**props, "type": "observed-data", "spec_version": SPEC_VERSION, "id": self.id,
                "created": created, "modified": modified,
                "first_observed": self.first_observed, "last_observed": self.last_observed,
                "number_observed": int(self.number_observed or 1),
                "object_refs": list(self.objects)}

    @classmethod
    def from_stix(cls, od: dict, objects) -> "Observation":
        """The inverse of :meth:`to_stix`: an observed-data dict and its SCOs (dicts with
        ``id``); ``_``-prefixed attributes (a store's own) are dropped."""
        objs = {o["id"]: {k: v for k, v in o.items() if not k.startswith("_")} for o in objects}
        props = {k: v for k, v in od.items() if k not in _OWN and not k.startswith("_")}
        return cls(od["id"], od["first_observed"], od["last_observed"],
                   int(od.get("number_observed") or 1), objs, props)
