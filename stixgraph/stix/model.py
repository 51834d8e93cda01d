"""The normalised STIX graph unit that data sources yield and stores ingest."""
from __future__ import annotations

from dataclasses import dataclass, field


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
