"""A Pygments lexer for hunts (``*.hf``): keywords, relation words, entity types, strings,
timestamps, numbers, comments.  Registered as ``stixgraph`` (entry point ``pygments.lexers``)
so nbconvert, Sphinx and ``pygmentize`` colour hunts; the kernel names it in language_info."""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

from .complete import ENTITY_TYPES, KEYWORDS
from .relations import RELATION_WORDS


class StixgraphLexer(RegexLexer):
    name = "stixgraph"
    aliases = ["stixgraph", "kestrel", "hf"]
    filenames = ["*.hf"]
    mimetypes = ["text/x-stixgraph"]
    flags = 0

    tokens = {
        "root": [
            (r"\s+", Text),
            (r"#.*?$", Comment.Single),
            (r"[tT]'[^']*'", String.Other),  # timestamps t'2024-...'
            (r"[rR]?'(\\\\|\\'|[^'])*'", String.Single),
            (r'[rR]?"(\\\\|\\"|[^"])*"', String.Double),
            (r"(python|docker|stixshifter|taxii|file|https?)(://)([^\s,]+)",
             bygroups(Name.Namespace, Punctuation, Name.Function)),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(tuple(w.upper() for w in sorted(RELATION_WORDS)), suffix=r"\b"),
             Keyword.Pseudo),
            (words(tuple(w.lower() for w in KEYWORDS), suffix=r"\b"), Keyword),
            (words(ENTITY_TYPES, suffix=r"\b"), Name.Class),
            (r"-?\d+(\.\d+)?", Number),
            (r"(!=|<=|>=|=|<|>|\+)", Operator),
            (r"[(),\[\]{}:]", Punctuation),
            (r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_'\[\]*-]+)*", Name),
            (r".", Text),
        ],
    }
