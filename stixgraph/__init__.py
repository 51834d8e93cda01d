"""stixgraph: threat hunting over a STIX 2.1 graph (Kestrel v1 hunts, SQLite or ArangoDB)."""
__version__ = "0.1.0"
