"""The line of a source file on which a triple is written, for error messages.

pyoxigraph gives positions only for syntax errors. Fed one line per read, its streaming parser
emits each triple while the line that completes it is the last one read, so counting lines
gives the position. That is a second parse of the file, so it runs only for the few triples an
error message names, never on the build's path.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

# (subject, predicate, object); None, and any blank node (their labels differ between two
# parses), match every term.
Pattern = tuple[ox.NamedNode | ox.BlankNode | None, ox.NamedNode | None, object]


class _LineReader(io.RawIOBase):
    """A binary file that hands out at most one line per read and knows which line that is."""

    def __init__(self, path: Path):
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._newlines = 0
        self.line = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._file.readline(len(buffer))
        self.line = self._newlines + 1
        self._newlines += chunk.count(b"\n")
        buffer[:len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._file.close()
        super().close()


def _matches(pattern: Pattern, triple: ox.Triple) -> bool:
    return all(want is None or isinstance(want, ox.BlankNode) or want == got
               for want, got in zip(pattern, (triple.subject, triple.predicate, triple.object),
                                    strict=True))


def placed(path: Path) -> Iterator[tuple[ox.Triple, int]]:
    """Each triple of `path` with the line that completes it, in the file's order."""
    reader = _LineReader(path)
    try:
        for quad in ox.parse(reader, format=ox.RdfFormat.TURTLE):
            yield quad.triple, reader.line
    except (SyntaxError, MemoryError, OSError):
        return  # the first parse accepted this file; a changed file loses only the line numbers
    finally:
        reader.close()


def lines_of(path: Path, patterns: Iterable[Pattern], *, limit: int = 5) -> list[list[int]]:
    """For each pattern, the lines (at most `limit`) of `path` holding a triple it matches."""
    patterns = list(patterns)
    found: list[list[int]] = [[] for _ in patterns]
    for triple, line in placed(path):
        for i, pattern in enumerate(patterns):
            if len(found[i]) < limit and _matches(pattern, triple):
                found[i].append(line)
    return found


def first_line(path: Path, test: Callable[[ox.Triple], bool]) -> int | None:
    """The line of the first triple of `path` for which `test` is true."""
    with contextlib.closing(placed(path)) as triples:
        return next((line for triple, line in triples if test(triple)), None)


def long_line(data: bytes, longer_than: int) -> int | None:
    """The number of the first line of `data` longer than `longer_than` bytes."""
    start = 0
    for number, end in enumerate(_ends(data), start=1):
        if end - start > longer_than:
            return number
        start = end + 1
    return None


def _ends(data: bytes):
    pos = data.find(b"\n")
    while pos != -1:
        yield pos
        pos = data.find(b"\n", pos + 1)
    yield len(data)


def line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def locate(sources, wanted: list[list[Pattern]], *, limit: int = 5) -> list[list[tuple[str, int]]]:
    """For each entry of `wanted` (patterns tried in order until one matches), the places
    (relative file, line) of up to `limit` triples that match, in file order.

    The files that hold a match are found in memory (one pass over the subjects named); only
    those files are parsed again for the lines. A pattern without a subject IRI finds nothing.
    """
    subjects = {p[0] for tries in wanted for p in tries if isinstance(p[0], ox.NamedNode)}
    if not subjects:
        return [[] for _ in wanted]
    held: dict[int, list[ox.Triple]] = {}  # file index -> its triples about those subjects
    for i, f in enumerate(sources.files):
        hits = [t for t in f.triples if t.subject in subjects]
        if hits:
            held[i] = hits
    chosen: list[Pattern | None] = []
    for tries in wanted:
        chosen.append(next((p for p in tries if isinstance(p[0], ox.NamedNode) and any(
            _matches(p, t) for hits in held.values() for t in hits)), None))
    places: list[list[tuple[str, int]]] = [[] for _ in wanted]
    for i, hits in held.items():
        f = sources.files[i]
        todo = [k for k, p in enumerate(chosen)
                if p is not None and len(places[k]) < limit and any(_matches(p, t) for t in hits)]
        if not todo:
            continue
        rel = sources.relative(f.path)
        found = lines_of(f.path, [chosen[k] for k in todo], limit=limit)  # one list per pattern
        for k, lines in zip(todo, found, strict=True):
            if chosen[k][1] is None:  # only the focus is known: name each file that describes it
                lines = lines[:1]
            lines = sorted(set(lines), key=lines.index)  # several triples on one line
            places[k] += [(rel, n) for n in lines][:limit - len(places[k])]
    return places
