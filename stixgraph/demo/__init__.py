"""Demo data for stixgraph.

:mod:`stixgraph.demo.caldera` writes a deterministic STIX 2.0 bundle shaped like stix-shifter's
Splunk module output, telling the story of the seed notebook's MITRE Caldera exercise on
host WindowsTarget (10.0.0.5)::

    python -m stixgraph.demo.caldera OUT.json [--size N] [--seed S]

``from stixgraph.demo import DEMO_NOW, FACTS, generate`` works too (imported lazily, so that
``python -m stixgraph.demo.caldera`` runs the module only once).
"""

__all__ = ["DEMO_NOW", "FACTS", "generate"]


def __getattr__(name):
    if name in __all__:
        from . import caldera
        return getattr(caldera, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
