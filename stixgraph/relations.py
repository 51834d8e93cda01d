"""FIND's relations: Kestrel v1's table (research/kestrel.md §4), as data.

A triple ``(X, rel, Y)`` says "X rel Y" (a process CREATED a network-traffic).  Its edges are
the ``*_ref``/``*_refs`` properties that point X→Y (``forward``) or Y→X (``backward``).
``FIND R rel V`` asks for the R that stand as X with V as Y; ``FIND R rel BY V`` asks for the
R that stand as Y with V as X.  Both directions work for every row.  ``linked`` is not in the
table: it means "appears in the same observation" and needs no edge.
"""
from __future__ import annotations

from dataclasses import dataclass

ADDR_TYPES = ("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")


@dataclass(frozen=True)
class Relation:
    x: str
    rel: str
    y: str
    forward: tuple[str, ...] = ()  # properties of X pointing at Y
    backward: tuple[str, ...] = ()  # properties of Y pointing at X


def _rows():
    yield Relation("process", "created", "process", backward=("parent_ref",))
    yield Relation("process", "created", "network-traffic", forward=("opened_connection_refs",))
    yield Relation("process", "loaded", "file", forward=("binary_ref",))
    yield Relation("user-account", "owned", "process", backward=("creator_user_ref",))
    for addr in ADDR_TYPES:
        yield Relation(addr, "created", "network-traffic", backward=("src_ref",))
        yield Relation(addr, "accepted", "network-traffic", backward=("dst_ref",))
    yield Relation("artifact", "created", "network-traffic", backward=("src_payload_ref",))
    yield Relation("artifact", "accepted", "network-traffic", backward=("dst_payload_ref",))
    # X contained Y: Y is encapsulated by X (Kestrel lists the ref both ways, which makes
    # FIND return parents and children together; stixgraph keeps the direction)
    yield Relation("network-traffic", "contained", "network-traffic",
                   backward=("encapsulated_by_ref",))
    yield Relation("directory", "contained", "file", forward=("contains_refs",),
                   backward=("parent_directory_ref",))
    yield Relation("directory", "contained", "directory", forward=("contains_refs",))
    yield Relation("file", "contained", "artifact", forward=("content_ref",))
    yield Relation("user-account", "owned", "email-addr", backward=("belongs_to_ref",))
    yield Relation("email-addr", "created", "email-message", backward=("from_ref", "sender_ref"))
    yield Relation("email-addr", "accepted", "email-message",
                   backward=("to_refs", "cc_refs", "bcc_refs"))
    for addr in ("ipv4-addr", "ipv6-addr"):
        yield Relation("autonomous-system", "owned", addr, backward=("belongs_to_refs",))


RELATIONS: dict[tuple[str, str, str], Relation] = {(r.x, r.rel, r.y): r for r in _rows()}
RELATION_WORDS = frozenset(r.rel for r in RELATIONS.values()) | {"linked"}


@dataclass(frozen=True)
class Hop:
    """One way to step from an input entity (of the variable) to a result entity.

    ``props`` are the edge names; ``from_input`` is True when the edge starts at the input
    entity (input --prop--> result), False when it starts at the result (result --prop--> input).
    """

    props: tuple[str, ...]
    from_input: bool


def hops(result_type: str, relation: str, input_type: str, by: bool) -> list[Hop] | None:
    """The edge steps that answer ``FIND result_type relation [BY] input``, or None if the
    relation is not defined for that type pair."""
    x, y = (input_type, result_type) if by else (result_type, input_type)
    row = RELATIONS.get((x, relation, y))
    if row is None:
        return None
    out = []
    # forward edges go X -> Y.  Without BY the result is X: result --prop--> input.
    if row.forward:
        out.append(Hop(row.forward, from_input=by))
    if row.backward:
        out.append(Hop(row.backward, from_input=not by))
    return out


def created_hop(rtype: str) -> Hop:
    """The one edge step of ``FIND <rtype> CREATED BY <process>``: ``opened_connection_refs``
    for network-traffic, a child's ``parent_ref`` for process (what APPLY counts per process,
    :mod:`stixgraph.analytics.activity`)."""
    hop, = hops(rtype, "created", "process", by=True)
    return hop


def relations_for(result_type: str, input_type: str) -> list[str]:
    """Relation words valid between two types (for error messages and completion)."""
    words = {"linked"}
    for (x, rel, y) in RELATIONS:
        if {x, y} == {result_type, input_type} or (x == result_type and y == input_type) \
                or (x == input_type and y == result_type):
            words.add(rel + (" BY" if x == input_type and y == result_type and x != y else ""))
    return sorted(words)
