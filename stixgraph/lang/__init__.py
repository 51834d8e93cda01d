"""The Kestrel v1 hunt language: text in, :mod:`stixgraph.ir` instructions out."""
from .parser import parse, parse_timestamp

__all__ = ["parse", "parse_timestamp"]
