"""Streaming STIX bundle reader.

``iter_bundle(path_or_fileobj)`` yields normalised :class:`Observation` objects from

* a STIX 2.0 or 2.1 bundle (``{"type": "bundle", ..., "objects": [...]}``, keys in any order),
* a bare JSON list of STIX objects,
* a stream of STIX objects (JSON-Lines or concatenated objects).

The ``objects`` array is read element by element from 8 MiB chunks, so memory is bounded by
the chunk size, the largest object and (2.1 only) the SCOs kept for resolving refs.

STIX 2.1 observed-data with ``object_refs`` need the referenced top-level SCOs: every
top-level SCO read is kept (id → object); an observed-data whose refs are all known is yielded
at once, the others when the array ends (refs still unknown are dropped and counted).

Speed (200 000 observed-data, 201 MB from gen_bundle.py, this 2-core VM)
------------------------------------------------------------------------
Measured building blocks: reading the file 0.07 s; ``orjson.loads`` of every element 2.5 s
(12 µs each: building Python objects dominates); stdlib ``json`` 3.7 s and ijson (yajl2_c)
3.9 s for everything; a regex over strings (``re.sub``) 7.6 s; one ``bytes`` pass of
``find``/``count``/``replace``/``translate`` 0.1-0.45 s.  So the reader parses only what can
match:

1. *Boundaries.*  The separator between two elements (``},\\n{`` for gen_bundle, ``},\\n    {``
   for an indented bundle) is learnt from the first two elements; ``bytes.find`` of it gives
   candidate boundaries at C speed.
2. *Verification* (only when skipping): a block of elements is valid for skipping when every
   candidate boundary in it is at array depth and outside strings.  Exact check with a few
   C-speed passes (~0.6 s of the 200k scan): ``translate`` keeps only ``"{}``, the line
   breaks (or a NUL marker put in place of each separator) and, when the block has escapes
   other than ``\\\\`` (every backslash run even: Windows paths need nothing more), ``\\`` and
   the escape letters; escaped ``\\\\`` and ``\\"`` are dropped (this also tells whether a
   real ``\\u``/``\\/`` escape exists); the quotes must then pair up (``""``; a quote left
   means a string holds a brace → exact path for that block); then every line/segment must
   reduce to nothing by removing ``{}`` pairs.  Raw newlines and NULs cannot occur inside
   JSON strings, which is what makes this exact.  A verified block is remembered per file
   version (device, inode, size, mtime, ctime; :data:`_BLOCKS`), with whether it holds an
   ``"object_refs"``: reading the same file again skips both.
3. *Text pre-filter* (:func:`stixgraph.stix.match.text_filter`): ``bytes.find`` of a
   necessary text (``"cmd.exe"``, ``"dst_port"``; of the sound alternatives, the one with the
   fewest occurrences in the first block) locates candidate elements; a
   second necessary check runs on each candidate; only survivors are parsed.  Elements with
   ``\\u`` / ``\\/`` escapes or ``"object_refs"`` are always parsed.  Skipped ranges are
   remembered: if a STIX 2.1 observed-data shows up, they are re-read for SCOs and skipping
   stops (needs a seekable file; streams are parsed whole).
4. Anything unusual (strings with braces, mixed separators, pretty-printed nesting) falls
   back to the exact path: parse each element with orjson at the next ``}`` that is followed
   by ``,``/``]`` and parses.
5. *Two readers* (:func:`split_point`, :func:`iter_half`; run by
   :class:`stixgraph.sources.bundle.BundleSource` in two processes): the second starts at a
   separator near the middle of the file, the first stops there, which proves (or, reading
   past it, disproves) that the separator is a real element boundary.  A STIX 2.1
   observed-data in the second half needs the SCOs of the whole file: that reader gives up and
   the caller reads the file again in one part.

Results (``python -m stixgraph.stix.bundle FILE [--name N | --port P] [--raw]``): see
:data:`BENCHMARK`.
"""
from __future__ import annotations

import io
import os
import re
from typing import BinaryIO, Callable, Iterator

import orjson

from ..errors import DataSourceError
from .match import has_hatch
from .model import Observation
from .normalize import NON_SCO_TYPES, _refs_in, normalize_observed_data, raw_observation

BENCHMARK = """\
200 000 observed-data, 201 MB (gen_bundle.py, seed 42), this 2-core VM (a slow one: CPython
runs ~3x slower than on a desktop), Python 3.11, wall time of `python -m stixgraph.stix.bundle`,
peak RSS of the whole process; runs vary by +-20 %.
  alternatives for reading every element (no matching):
    ijson yajl2_c items('objects.item')            3.9 s
    json.JSONDecoder.raw_decode on the whole text  3.7 s   (whole file in memory)
    separator split + orjson.loads per element     3.2 s
  this reader, matching on raw observations (--raw):
    no filter (parse all 200 000)                  5.1-6.2 s   108 MB
    name = 'cmd.exe'  (7 221 match, 7 222 parsed)  1.5-2.2 s    49 MB
    dst_port = 443    (15 193 match, ~17 600 parsed) 2.4-3.4 s  55 MB
  plus normalisation of the matches (ids, refs; ~100 us per observation):
    name = 'cmd.exe'                               2.2-2.9 s    55 MB
    dst_port = 443                                 3.6-4.4 s    71 MB
    no filter (normalise all 200 000)              ~22 s       128 MB
"""

CHUNK = 8 << 20
_WS = b" \t\r\n"
_DEL_LINE = bytes(c for c in range(256) if c not in b'"{}\n')
_DEL_MARK = bytes(c for c in range(256) if c not in b'"{}\x00')
_ESC_MAP = bytes(0x78 if c in b"bfnrt" else c for c in range(256))  # b f n r t -> x
_ESC_DEL_LINE = bytes(c for c in range(256) if c not in b'"{}\\/ubfnrt\n')
_ESC_DEL_MARK = bytes(c for c in range(256) if c not in b'"{}\\/ubfnrt\x00')
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_SCALAR = re.compile(rb"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")
_CAND_ANY = re.compile(rb"[}\]]\s*(?:[,\]}{:]|\Z)")  # end of any nested value
_CAND_EL = re.compile(rb"\}\s*(?:,\s*(?:\{|\Z)|\]|\Z)")  # end of an array element
_CAND_STREAM = re.compile(rb"\}\s*(?:\{|\Z)")  # end of an object in a stream
_OBJREFS = b'"object_refs"'
#: where :func:`split_point` cuts a file: the first reader's output is stored while it reads,
#: the second's only after, so the second gets the smaller part
SPLIT_FRACTION = 0.5

# Verified blocks, remembered per file version so that reading the same file again skips the
# verification: (dev, inode, size, mtime_ns, ctime_ns, separator) -> {block start offset:
# (block end offset, hatch, has "object_refs")}.  A block is the same bytes when the file's
# identity and times are the same, so its verification gives the same answer.
_BLOCKS: dict[tuple, dict[int, tuple[int, bool, bool]]] = {}
_BLOCKS_FILES = 32


def block_cache() -> dict:
    """The verified-block memory (to hand to another process, see :func:`remember_blocks`)."""
    return {k: dict(v) for k, v in _BLOCKS.items()}


def remember_blocks(cache: dict) -> None:
    for k, v in (cache or {}).items():
        _BLOCKS.setdefault(k, {}).update(v)
    while len(_BLOCKS) > _BLOCKS_FILES:
        del _BLOCKS[next(iter(_BLOCKS))]


def _eof_error(e: orjson.JSONDecodeError) -> bool:
    return "unexpected end of data" in str(e)


class _Region(io.RawIOBase):
    """A read-only window [start, end) of a seekable binary file."""

    def __init__(self, f, start, end):
        self.f, self.pos, self.end = f, start, end

    def readable(self):
        return True

    def read(self, n=-1):
        if self.pos >= self.end:
            return b""
        n = self.end - self.pos if n is None or n < 0 else min(n, self.end - self.pos)
        self.f.seek(self.pos)
        data = self.f.read(n)
        self.pos += len(data)
        return data


class BundleReader:
    """Low-level reader: :meth:`observed_data` yields ``(od, top, offset)`` where ``top`` is
    the id → SCO lookup for 2.1 refs (None for embedded-only observed-data)."""

    def __init__(self, f: BinaryIO, name: str, *, text_filter=None,
                 progress: Callable[[int], None] | None = None, stats: dict | None = None,
                 seekable: bool | None = None):
        self.f, self.name, self.progress = f, name, progress
        self.stats = stats if stats is not None else {}
        if seekable is None:
            try:
                seekable = f.seekable() and isinstance(f.tell(), int)
            except (AttributeError, ValueError, OSError):
                seekable = False
        self.seekable = seekable
        use = text_filter is not None and seekable
        self.needles = text_filter.needles if use else None
        self.core = text_filter.core if use else None
        self.alts = text_filter.alternatives[:6] if use and len(text_filter.alternatives) > 1 \
            else None
        self.buf = b""
        self.p = 0
        self.base = 0  # file offset of buf[0]
        self.mark = None  # file offset fill() must keep in the buffer
        self.eof = False
        self.read_total = 0
        self.top: dict[str, dict] = {}
        self.pending: list = []
        self.out: list = []
        self.skipped: list[tuple[int, int]] = []
        self.D: bytes | None = None
        self.collect = False  # re-reading skipped ranges: keep every element
        self.hatch = True
        self.btype = None  # the bundle's "type" value, once read
        self.form = None  # "bundle" (objects array in an object), "list", "stream"
        self.refs_seen = False  # an observed-data with object_refs was read
        # split reading (two processes, :func:`split_point`): this reader stops at the element
        # starting at file offset ``stop_at`` and calls ``on_stop(exact)`` there (exact: the
        # offset is a real element start and nothing read so far needs the rest of the file;
        # on_stop may raise to end the read, or return to read on); ``on_refs()`` is called
        # when an observed-data with object_refs is read.
        self.stop_at: int | None = None
        self.on_stop: Callable[[bool], None] | None = None
        self.on_refs: Callable[[], None] | None = None
        self.ident = None  # the file's identity for _BLOCKS (seekable real files only)
        self.blocks: dict | None = None
        if seekable:
            try:
                st = os.fstat(f.fileno())
                self.ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
                pass

    # -- low level -----------------------------------------------------------

    def err(self, msg: str, pos: int | None = None):
        where = f" at byte {self.base + (self.p if pos is None else pos)}"
        raise DataSourceError(f"{self.name}: {msg}{where}")

    def fill(self) -> bool:
        """Read one more chunk (dropping consumed bytes); False at end of file."""
        if self.eof:
            return False
        cut = self.p if self.mark is None else min(self.p, self.mark - self.base)
        if cut > 0:
            self.buf = self.buf[cut:]
            self.base += cut
            self.p -= cut
        try:
            data = self.f.read(CHUNK)
        except OSError as e:
            raise DataSourceError(f"{self.name}: read error: {e}") from None
        if not data:
            self.eof = True
            return False
        self.buf += data if isinstance(data, bytes) else bytes(data)
        self.read_total += len(data)
        if self.progress:
            self.progress(self.read_total)
        return True

    def peek(self):
        """The next non-blank byte (None at end of file); ``p`` moves onto it."""
        while True:
            b, n, p = self.buf, len(self.buf), self.p
            while p < n and b[p] in _WS:
                p += 1
            self.p = p
            if p < n:
                return b[p]
            if not self.fill():
                return None

    def expect(self, ch: int, what: str):
        c = self.peek()
        if c != ch:
            if c is None:
                self.err(f"truncated file: unexpected end of file, expected {what}")
            self.err(f"invalid JSON: expected {what}, found {chr(c)!r}")
        self.p += 1

    def token(self, rx: re.Pattern, what: str) -> bytes:
        while True:
            m = rx.match(self.buf, self.p)
            if m and m.end() < len(self.buf):
                break
            if not self.fill():
                if not m:
                    if self.p >= len(self.buf):
                        self.err(f"truncated file: unexpected end of file, expected {what}")
                    self.err(f"invalid JSON: expected {what}")
                break
        self.p = m.end()
        return m.group()

    def value_end(self, cand: re.Pattern = None) -> int:
        """Exact end (buffer index) of the object/array starting at ``p``."""
        cand = cand or _CAND_ANY
        q = self.p + 1
        while True:
            m = cand.search(self.buf, q)
            if m is None:
                q -= self.p
                if not self.fill():
                    what = "object" if self.buf[self.p:self.p + 1] == b"{" else "array"
                    self.err(f"truncated file: unexpected end of file inside an {what}")
                q += self.p
                continue
            c = m.start() + 1
            try:
                orjson.loads(self.buf[self.p:c])
                return c
            except orjson.JSONDecodeError as e:
                if not _eof_error(e):
                    self.err(f"invalid JSON: {_msg(e)}", self.p + e.pos)
            q = c

    def skip_value(self) -> bytes:
        c = self.peek()
        if c is None:
            self.err("truncated file: unexpected end of file")
        if c == 0x22:
            return self.token(_STRING, "a string")
        if c in (0x7B, 0x5B):
            e = self.value_end()
            s, self.p = self.p, e
            return self.buf[s:e]
        return self.token(_SCALAR, "a JSON value")

    # -- elements ------------------------------------------------------------

    def handle(self, el, off: int):
        if not isinstance(el, dict):
            raise DataSourceError(f"{self.name}: not a STIX object in the objects array at "
                                  f"byte {off}")
        t = el.get("type")
        if self.collect:
            self.out.append(el)
        elif t == "observed-data":
            if el.get("object_refs"):
                self.refs_seen = True
                if self.on_refs is not None:
                    self.on_refs()
            if el.get("object_refs") and not isinstance(el.get("objects"), dict):
                if self.needles is not None:
                    self.go_full()
                if self._resolvable(el):
                    self.out.append((el, self.top, off))
                else:
                    self.pending.append((el, off))
            else:
                self.out.append((el, self.top if el.get("object_refs") else None, off))
        elif isinstance(t, str) and t not in NON_SCO_TYPES and isinstance(el.get("id"), str):
            self.top[el["id"]] = el

    def _resolvable(self, od) -> bool:
        todo = [r for r in od.get("object_refs") or () if isinstance(r, str)]
        seen = set()
        while todo:
            r = todo.pop()
            if r in seen:
                continue
            seen.add(r)
            o = self.top.get(r)
            if o is None:
                if r.split("--", 1)[0] in NON_SCO_TYPES:
                    continue
                return False
            _refs_in(o, todo)
        return True

    def parse_segment(self, seg: bytes, off: int):
        """Parse a byte range holding one or more whole elements."""
        try:
            self.handle(orjson.loads(seg), off)
            return
        except orjson.JSONDecodeError:
            pass
        try:
            els = orjson.loads(b"[" + seg + b"]")
        except orjson.JSONDecodeError as e:
            raise DataSourceError(f"{self.name}: invalid JSON: {_msg(e)} at byte "
                                  f"{off + max(e.pos - 1, 0)}") from None
        for el in els:
            self.handle(el, off)

    def go_full(self):
        """A STIX 2.1 observed-data appeared: stop skipping, fetch SCOs from skipped ranges."""
        self.needles = self.core = None
        ranges, self.skipped = self.skipped, []
        if not ranges:
            return
        here = self.f.tell()
        for s, e in ranges:
            sub = BundleReader(_Region(self.f, s, e), self.name, seekable=False)
            sub.base = s
            sub.collect = True
            for el in sub._drain(sub.array(comma=True, until_eof=True)):
                t = el.get("type")
                if isinstance(t, str) and t not in NON_SCO_TYPES and isinstance(el.get("id"), str):
                    self.top[el["id"]] = el
        self.f.seek(here)

    def _drain(self, gen):
        for _ in gen:
            if self.out:
                out, self.out = self.out, []
                yield from out
        out, self.out = self.out, []
        yield from out

    # -- arrays --------------------------------------------------------------

    def array(self, comma: bool = True, until_eof: bool = False):
        """Read elements up to ``]`` (comma) or end of file.  A generator: it yields after
        each batch so that the caller can hand ``self.out`` on."""
        first = True  # no element read yet: no separator expected
        while True:
            c = self.peek()
            if c is None:
                if until_eof or not comma:
                    return
                self.err("truncated file: unexpected end of file inside the objects array")
            if comma and c == 0x5D and not until_eof:
                self.p += 1
                return
            if comma and (not first or until_eof) and c == 0x2C:
                self.p += 1
                c = self.peek()
                if c is None and until_eof:
                    return
                if c is None:
                    self.err("truncated file: unexpected end of file inside the objects array")
            elif comma and not first:
                self.err(f"invalid JSON: expected ',' or ']' in the objects array, found "
                         f"{chr(c)!r}")
            if c != 0x7B:
                self.err("not a STIX object in the objects array")
            if self.stop_at is not None and self.base + self.p >= self.stop_at:
                exact = self.base + self.p == self.stop_at and not self.refs_seen
                self.stop_at = None
                self.on_stop(exact)
            if self.D is None:
                self.one_element(comma)
                self.learn_separator(comma)
                first = False
            elif self.fast(comma):
                first = False
            else:
                first = True  # nothing consumed (more data was read): still at an element
            yield

    def one_element(self, comma: bool = True):
        e = self.value_end(_CAND_EL if comma else _CAND_STREAM)
        seg = self.buf[self.p:e]
        off = self.base + self.p
        self.p = e
        self.handle(orjson.loads(seg), off)

    def learn_separator(self, comma: bool):
        while True:
            b, q = self.buf, self.p
            while q < len(b) and b[q] in b" \t\r\n,":
                q += 1
            if q < len(b) or not self.fill():
                break
        sep = self.buf[self.p:q]
        if q < len(self.buf) and self.buf[q] == 0x7B and sep.count(b",") == (1 if comma else 0):
            self.D = b"}" + sep + b"{"

    def fast(self, comma: bool):
        """Elements from ``p`` (an element start) up to the last separator in the buffer."""
        e = self.buf.rfind(self.D, self.p)
        if e < 0:
            if self.fill():
                return False  # the array loop comes back here with more data
            self.one_element(comma)  # the last element
            return True
        end = e + 1
        if self.stop_at is not None:  # end the block at the stop element
            i = self.stop_at - self.base - (len(self.D) - 1)
            if self.p <= i and i + 1 < end and self.buf.startswith(self.D, i):
                end = i + 1
        if self.needles is None:
            self.parse_all(end, comma)
            return True
        if self.blocks is None and self.ident is not None:
            self.blocks = _BLOCKS.setdefault(self.ident + (self.D,), {})
            while len(_BLOCKS) > _BLOCKS_FILES:
                del _BLOCKS[next(iter(_BLOCKS))]
        start = self.base + self.p
        known = self.blocks.get(start) if self.blocks is not None else None
        if known is not None and known[0] == self.base + end:
            self.hatch, objrefs = known[1], known[2]
        elif self.verify(self.buf[self.p:end]):
            objrefs = None
        else:
            self.parse_all(end, comma)
            return True
        if self.alts:  # first block: keep the needle set with the fewest hits
            blk = self.buf[self.p:end]
            self.needles = min(self.alts, key=lambda ns: sum(blk.count(n) for n in ns[:-3]))
            self.alts = None
        hatch = self.hatch
        found = self.skim(end, objrefs)
        if objrefs is None and self.blocks is not None and self.needles is not None:
            self.blocks[start] = (self.base + end, hatch, found)
        return True

    def parse_all(self, end: int, comma: bool):
        """Parse every element in [p, end) (an element start .. a candidate boundary)."""
        b, D, L = self.buf, self.D, len(self.D)
        s = self.p
        while s < end:
            q = b.find(D, s, end + L - 1)
            q = end if q < 0 else q + 1
            while True:
                try:
                    el = orjson.loads(b[s:q])
                    break
                except orjson.JSONDecodeError as ex:
                    if _eof_error(ex) and q < end:
                        nq = b.find(D, q, end + L - 1)
                        q = end if nq < 0 else nq + 1
                        continue
                    if _eof_error(ex) or "after document" in str(ex):
                        self.p = s  # a boundary inside an element, or odd separators
                        self.one_element(comma)
                        return
                    self.p = s
                    self.err(f"invalid JSON: {_msg(ex)}", s + ex.pos)
            self.handle(el, self.base + s)
            s = q
            if s < end:
                while b[s] in b" \t\r\n,":
                    s += 1
        self.p = end

    def verify(self, block: bytes) -> bool:
        """True when every separator occurrence in ``block`` is a real element boundary.
        Also sets ``self.hatch``: the block holds a real ``\\u`` or ``\\/`` escape."""
        D = self.D
        if b"\n" in D and self._verify(block, b"\n"):
            return True
        return self._verify(block.replace(D, b"}\x00{"), b"\x00")

    def _verify(self, m: bytes, sep: bytes) -> bool:
        if b"\\" not in m or m.count(b"\\") == 2 * m.count(b"\\\\"):
            # no escapes, or only escaped backslashes (every backslash run even: Windows
            # paths): every quote is real and no \\u or \\/ escape exists
            self.hatch = False
            return _balanced(m.translate(None, _DEL_LINE if sep == b"\n" else _DEL_MARK), sep)
        # keep quotes, braces, sep, backslashes and every escape letter (b f n r t as 'x'):
        # backslash runs are then exactly those of the text
        r = m.translate(_ESC_MAP, _ESC_DEL_LINE if sep == b"\n" else _ESC_DEL_MARK)
        r = r.replace(b"\\\\", b"")  # escaped backslashes
        if b"\\" not in r:  # only escaped backslashes
            self.hatch = False
        else:
            self.hatch = b"\\u" in r or b"\\/" in r
            if b'\\"' in r:
                r = r.replace(b'\\"', b"")  # escaped quotes
        return _balanced(r.translate(None, b"\\xu/"), sep)

    def skim(self, end: int, objrefs: bool | None = None) -> bool:
        """Verified block [p, end): parse only the elements the text filter lets through.
        ``objrefs`` False: the block is known to hold no ``"object_refs"``.  Returns whether
        it holds one (True when that was not looked for)."""
        b, D, L, p0 = self.buf, self.D, len(self.D), self.p
        spans = []
        found = True
        for n in self.needles:
            if n[0] == 0x5C and not self.hatch:
                continue
            if n == _OBJREFS:
                if objrefs is False:
                    found = False
                    continue
                h = b.find(n, p0, end)
                found = h >= 0
            else:
                h = b.find(n, p0, end)
            t = p0
            while h >= 0:
                if n[0] == 0x5C:  # an escape needle: real only after an even backslash run
                    i = h - 1
                    while i >= p0 and b[i] == 0x5C:
                        i -= 1
                    if (h - i) % 2 == 0:
                        h = b.find(n, h + 1, end)
                        continue
                s = b.rfind(D, t - 1 if t > p0 else p0, h)  # the separator before the hit
                s = p0 if s < 0 else s + L - 1
                t = b.find(D, h, end + L - 1)
                t = end if t < 0 else t + 1
                if h + len(n) <= t:
                    spans.append((s, t))
                h = b.find(n, t, end)
        if len(self.needles) > 1:
            spans = sorted(set(spans))
        last, core, hatch = p0, self.core, self.hatch
        for s, t in spans:
            if s < last:
                continue
            seg = b[s:t]
            if not (core(seg) or _OBJREFS in seg or (hatch and has_hatch(seg))):
                continue
            if s > last:
                self.skipped.append((self.base + last, self.base + s))
            last = t
            self.parse_segment(seg, self.base + s)
            if self.needles is None:  # a 2.1 observed-data: the rest in full mode
                s = last
                while s < end and b[s] in b" \t\r\n,":
                    s += 1
                self.p = s
                if s < end:
                    self.parse_all(end, True)
                self.p = end
                return True
        if last < end:
            self.skipped.append((self.base + last, self.base + end))
        self.p = end
        return found

    # -- top level -----------------------------------------------------------

    def observed_data(self) -> Iterator[tuple[dict, dict | None, int]]:
        yield from self._drain(self._top())
        pend, self.pending = self.pending, []
        for od, off in pend:
            yield od, self.top, off

    def _top(self):
        if not self.fill():
            raise DataSourceError(f"{self.name}: empty file, not a STIX bundle")
        if self.buf.startswith(b"\xef\xbb\xbf"):
            self.p = 3
        c = self.peek()
        if c == 0x5B:
            self.p += 1
            self.form = "list"
            yield from self.array(comma=True)
            self.end_of_file()
            return
        if c != 0x7B:
            self.err("not JSON: a STIX bundle starts with '{' or '['")
        self.mark = start = self.base + self.p
        self.p += 1
        yield from self._members(start, True, False, None)

    def resume(self, form: str, btype):
        """Read from an element start inside the objects array (the second half of a split
        file, :func:`split_point`) to the end of the file."""
        yield from self.array(comma=True)
        if form == "list":
            self.end_of_file()
        else:
            yield from self._members(None, False, True, btype)

    def _members(self, start, first: bool, saw_array: bool, btype):
        """The bundle object's members from ``p`` (just after ``{`` or after a member)."""
        while True:
            c = self.peek()
            if c == 0x7D:
                self.p += 1
                break
            if not first:
                self.expect(0x2C, "',' or '}'")
            first = False
            if self.peek() != 0x22:
                self.expect(0x22, "a property name")
            key = orjson.loads(self.token(_STRING, "a property name"))
            self.expect(0x3A, "':'")
            if key == "objects" and self.peek() == 0x5B:
                if btype not in (None, "bundle"):
                    self.err(f"not a STIX bundle (type {btype!r})")
                self.p += 1
                saw_array, self.mark, self.btype, self.form = True, None, btype, "bundle"
                yield from self.array(comma=True)
                continue
            raw = self.skip_value()
            if key == "type":
                btype = orjson.loads(raw) if raw[:1] == b'"' else None
                if saw_array and btype != "bundle":
                    self.err(f"not a STIX bundle (type {btype!r})")
        if saw_array:
            if btype is None:
                self.err("not a STIX bundle (no 'type')")
            self.end_of_file()
            return
        # one whole top-level object: an empty bundle, or the first of a stream of objects
        obj = orjson.loads(self.buf[start - self.base:self.p])
        self.mark = None
        if btype == "bundle":
            self.end_of_file()
            return
        if not isinstance(btype, str) or not btype:
            self.err("not a STIX bundle: a JSON object without 'type'", start - self.base)
        self.form = "stream"
        self.handle(obj, start)
        yield
        yield from self.array(comma=False)

    def end_of_file(self):
        if self.peek() is not None:
            self.err("invalid JSON: unexpected content after the bundle")


def _balanced(r: bytes, sep: bytes) -> bool:
    """``r`` (only ``"{}`` and ``sep`` left): no string kept a brace, and every ``sep``-delimited
    piece is a balanced brace sequence, i.e. every ``sep`` sits at array depth."""
    # quotes must pair up adjacently (non-overlapping, left to right: what replace(b'""', b"")
    # would remove); counting instead of removing saves building the copy
    if r.count(b'""') * 2 != r.count(b'"'):
        return False
    r = r.translate(None, b'"')
    for _ in range(64):
        n = len(r)
        r = r.replace(b"{}", b"")
        if len(r) == n:
            break
    return r.count(sep) == len(r)


def _msg(e: orjson.JSONDecodeError) -> str:
    return str(e).split(":")[0]


def _open(src) -> tuple[BinaryIO, str, bool]:
    if isinstance(src, (str, os.PathLike)):
        try:
            return open(src, "rb"), str(src), True
        except OSError as e:
            raise DataSourceError(f"cannot open {src}: {e.strerror or e}") from None
    name = getattr(src, "name", None)
    return src, (name if isinstance(name, str) else "<stream>"), False


def scan(src, *, text_filter=None, progress=None, stats=None, name=None
         ) -> Iterator[tuple[dict, dict | None, int]]:
    """Yield ``(observed_data_dict, top_level_sco_lookup_or_None, byte_offset)``, raw."""
    f, fname, own = _open(src)
    try:
        r = BundleReader(f, name or fname, text_filter=text_filter, progress=progress,
                         stats=stats)
        yield from r.observed_data()
    finally:
        if own:
            f.close()


def iter_bundle(src, *, accept: Callable[[Observation], bool] | None = None,
                text_filter=None, progress: Callable[[int], None] | None = None,
                stats: dict | None = None, name: str | None = None) -> Iterator[Observation]:
    """Yield the normalised observations of a bundle (path or binary file object).

    ``accept(raw_observation)`` filters before normalisation (raw: objects keyed as in the
    file, refs unchanged); ``text_filter`` is :func:`stixgraph.stix.match.text_filter`'s result
    (only used on seekable files); ``progress(bytes_read)``; ``stats`` collects
    ``dropped_refs``.  Errors are :class:`DataSourceError` naming the file and byte offset.
    """
    yield from _normalised(scan(src, text_filter=text_filter, progress=progress, stats=stats,
                                name=name), accept, stats, name, src)


def _normalised(raw, accept, stats, label, src) -> Iterator[Observation]:
    """``iter_bundle``'s second half: filter and normalise ``scan``'s triples."""
    for od, top, off in raw:
        try:
            if accept is not None:
                try:
                    ok = accept(raw_observation(od, top, trusted=True))
                except (AttributeError, TypeError):  # a non-object among the objects
                    ok = accept(raw_observation(od, top))
                if not ok:
                    continue
            yield normalize_observed_data(od, bundle_objects=top, stats=stats)
        except DataSourceError as e:
            where = label or getattr(src, "name", None) or str(src)
            raise DataSourceError(f"{where}: object at byte {off}: {e}") from None


def split_point(path, min_size: int = 0) -> tuple[int, dict] | None:
    """Where two processes can share the reading of a bundle file: ``(x, resume)`` where
    ``x`` is the file offset of an objects-array element near the middle *if* the separator
    before it is a real element boundary, and ``resume`` the keyword arguments of
    :func:`iter_half`'s second reader.  The first reader (started with ``stop_at=x``) proves
    or disproves the guess when it gets there.  None when the file is small or its layout
    unusual (a stream of objects, no regular separator)."""
    try:
        size = os.path.getsize(path)
        if size < max(min_size, 2 * CHUNK):
            return None
        with open(path, "rb") as f:
            r = BundleReader(f, str(path), seekable=True)
            gen = r._top()
            try:
                next(gen)  # the first element (with the separator learnt after it)
            except (StopIteration, DataSourceError):
                return None
            finally:
                gen.close()
            if r.D is None or r.form not in ("bundle", "list"):
                return None
            first_end = r.base + r.p
            mid = int(size * SPLIT_FRACTION)
            f.seek(mid)
            window = f.read(1 << 20)
    except OSError:
        return None
    i = window.find(r.D)
    if i < 0:
        return None
    x = mid + i + len(r.D) - 1
    if x <= first_end or x >= size - 1:
        return None
    return x, {"form": r.form, "btype": r.btype, "D": r.D}


def iter_half(path, *, start: int | None = None, stop_at: int | None = None, on_stop=None,
              on_refs=None, resume: dict | None = None, accept=None, text_filter=None,
              progress=None, stats=None, name=None) -> Iterator[Observation]:
    """:func:`iter_bundle` over one half of a file split at :func:`split_point`'s offset:
    the first half reads from the start with ``stop_at``/``on_stop`` (see
    :class:`BundleReader`), the second from ``start`` with the ``resume`` arguments."""
    f, fname, _ = _open(path)
    try:
        r = BundleReader(f, name or fname, text_filter=text_filter, progress=progress,
                         stats=stats, seekable=True)
        r.on_refs = on_refs
        if start is None:
            r.stop_at, r.on_stop = stop_at, on_stop
            raw = r.observed_data()
        else:
            f.seek(start)
            r.base, r.D = start, resume["D"]
            raw = r._drain(r.resume(resume["form"], resume["btype"]))
        yield from _normalised(raw, accept, stats, name, path)
    finally:
        f.close()


def _main(argv=None):  # pragma: no cover - benchmark helper
    import argparse
    import resource
    import time

    from .. import ir
    from .match import compile_matcher, text_filter

    ap = argparse.ArgumentParser(description="scan a bundle and report speed")
    ap.add_argument("file")
    ap.add_argument("--name", help="process:name = NAME")
    ap.add_argument("--port", type=int, help="network-traffic:dst_port = PORT")
    ap.add_argument("--no-filter", action="store_true", help="parse everything")
    ap.add_argument("--raw", action="store_true", help="do not normalise matches")
    a = ap.parse_args(argv)
    where, centre = None, "process"
    if a.name:
        where = ir.Comparison(ir.AttrPath(("name",)), "=", a.name)
    elif a.port is not None:
        where, centre = ir.Comparison(ir.AttrPath(("dst_port",)), "=", a.port), "network-traffic"
    m = compile_matcher(where, centre)
    tf = None if a.no_filter else text_filter(where, centre)
    t0 = time.perf_counter()
    n = 0
    if a.raw:
        for od, top, _ in scan(a.file, text_filter=tf):
            if m(raw_observation(od, top, trusted=True)):
                n += 1
    else:
        for _ in iter_bundle(a.file, accept=m, text_filter=tf):
            n += 1
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{n} observations in {dt:.2f} s, peak RSS {rss} MB")


if __name__ == "__main__":  # pragma: no cover
    _main()
