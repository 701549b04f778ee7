"""The build: load → validate → reason → serialize → describe → checksum, written atomically.

Everything is written into a fresh sibling directory and moved into place only when all of it
succeeded, so a failed build leaves the previous output exactly as it was.

Reasoning and the dumps of the asserted graph need nothing from each other, and pyoxigraph
releases the GIL while it reasons, so they run side by side: the reasoner on the main thread, the
asserted dumps on a writer thread, gzip and checksums on a small pool as each dump is complete.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pyoxigraph as ox

from isecg_kg.checksums import sha256, write_sums
from isecg_kg.config import GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY, REASON_BUDGET
from isecg_kg.errors import BuildError, ValidationFailed
from isecg_kg.rdf import canonical, used_prefixes

if TYPE_CHECKING:
    from isecg_kg.builder.void import DataVoid

KEPT = "releases"  # kept release directories below the build output: carried over, untouched


@dataclass
class BuildResult:
    out: Path
    triples: int
    inferred: int
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """Yield an empty directory beside `out`; on success it replaces `out`, else it vanishes."""
    out = Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out}: exists and is not a directory; choose another --out")
    if out.is_dir() and any(p.name != KEPT for p in out.iterdir()) \
            and not (out / "SHA256SUMS").exists():
        raise BuildError(f"{out}: not empty and not a previous build (no SHA256SUMS); "
                         "refusing to replace it — choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise BuildError(f"{out.parent}: cannot create the build directory: "
                         f"{exc.strerror}") from exc
    try:
        yield tmp
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        kept = out / KEPT
        if kept.is_dir() and not kept.is_symlink():  # kept releases move into the new build
            kept.rename(tmp / KEPT)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        os.chmod(out, 0o755)
    except OSError as exc:
        _restore_kept(tmp, out)
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"{out}: cannot write the build: {exc.strerror}") from exc
    except BaseException:
        _restore_kept(tmp, out)
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _restore_kept(tmp: Path, out: Path) -> None:
    """Put the kept releases back where they were when the swap failed half-way."""
    if (tmp / KEPT).is_dir():
        target = out if out.is_dir() else out.with_name(f".{out.name}.old-{os.getpid()}")
        (tmp / KEPT).rename(target / KEPT)


class Asserted(NamedTuple):
    ontology: list[bytes]  # sorted, distinct N-Triples lines
    data: list[bytes]
    triples: int           # distinct triples of both
    void: DataVoid         # describe_data's


def write_asserted(tmp: Path, ontology: tuple[list[bytes], list[ox.Triple]],
                   data: tuple[list[bytes], list[ox.Triple]],
                   report_triples: list[ox.Triple], compress: Callable[[Path], None],
                   step: Callable, release=None) -> Asserted:
    """The dumps of the asserted graph (its two parts as N-Triples lines and the triples they
    are, in the same order, any order) in every format, the SHACL report, context.jsonld and
    the QuickStatements of ISECG's memberships (builder/quickstatements.py).

    Everything here needs only the asserted graph, so the build runs it beside the reasoner.
    """
    from isecg_kg.builder import serialize as ser
    from isecg_kg.builder.quickstatements import FILE, write_quickstatements
    from isecg_kg.builder.void import describe_data

    with step("serialize nt"):
        (ontology, data), asserted_lines, asserted = ser.sorted_graphs([ontology, data])
        ser.write_lines(asserted_lines, tmp / "isecg.nt")
        compress(tmp / "isecg.nt")
        prefixes = used_prefixes(asserted)
    with step("serialize ttl"):
        ser.write_rdf(asserted, tmp / "isecg.ttl", ox.RdfFormat.TURTLE, prefixes)
        compress(tmp / "isecg.ttl")
    with step("serialize rdf"):
        ser.write_rdf(asserted, tmp / "isecg.rdf", ox.RdfFormat.RDF_XML, prefixes)
        compress(tmp / "isecg.rdf")
    with step("serialize jsonld"):
        ser.write_json(ser.context_document(), tmp / "context.jsonld")
        ser.write_jsonld(asserted, tmp / "isecg.jsonld")
        compress(tmp / "isecg.jsonld")
    with step("serialize report"):
        # random blank node labels made canonical (RDFC-1.0), in the dumps' order
        ser.write_rdf(canonical(report_triples), tmp / "shacl-report.ttl", ox.RdfFormat.TURTLE)
    with step("quickstatements"):
        write_quickstatements(asserted, tmp / FILE)
    with step("describe data"):
        return Asserted(ontology, data, len(asserted_lines),
                        describe_data(asserted_lines, release))


def write_inferred(tmp: Path, ontology_lines: list[bytes], data_lines: list[bytes],
                   inferred_lines: list[bytes], compress: Callable[[Path], None]) -> None:
    """The dumps that hold the entailments: N-Quads of all three graphs, and N-Triples."""
    from isecg_kg.builder import serialize as ser

    ser.write_nquads([(GRAPH_ONTOLOGY, ontology_lines), (GRAPH_DATA, data_lines),
                      (GRAPH_INFERRED, inferred_lines)], tmp / "isecg.nq")
    compress(tmp / "isecg.nq")
    ser.write_lines(inferred_lines, tmp / "isecg-inferred.nt")
    compress(tmp / "isecg-inferred.nt")


def write_void(tmp: Path, data_void: DataVoid, inferred_count: int,
               digests: dict[Path, str]) -> None:
    """void.ttl over the dumps and their gzips, then SHA256SUMS (known digests reused)."""
    from isecg_kg.builder import serialize as ser
    from isecg_kg.builder.dcat import prefixes
    from isecg_kg.builder.quickstatements import FILE
    from isecg_kg.builder.void import describe_release

    def digest(path: Path) -> str:
        return digests.get(path) or sha256(path)

    void = describe_release(data_void, inferred_count,
                            sorted(digests) + [tmp / "context.jsonld", tmp / FILE], digest)
    void = ser.sorted_graph(void)
    ser.write_rdf(void, tmp / "void.ttl", ox.RdfFormat.TURTLE, prefixes(void))
    write_sums(tmp, digest)


def _gzip_and_digest(path: Path) -> dict[Path, str]:
    """path.gz, and the SHA-256 of both files (zlib and hashlib release the GIL)."""
    from isecg_kg.builder.serialize import gzip_file

    gz = gzip_file(path)
    return {path: sha256(path), gz: sha256(gz)}


class Progress:
    """Reports the build's steps: a live spinner on a terminal (rich), plain lines otherwise."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._status = None
        self.console = None
        if not quiet and sys.stderr.isatty():  # rich only for a terminal: 35 ms of imports
            from rich.console import Console

            self.console = Console(stderr=True)

    def start(self, name: str) -> None:
        if self.console is not None and self.console.is_terminal:
            self._status = self.console.status(f"{name} …")
            self._status.start()

    def done(self, name: str, seconds: float) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        if self.console is not None:
            self.console.print(f"{name:<18} {seconds:7.3f} s", highlight=False)
        elif not self.quiet:
            print(f"{name:<18} {seconds:7.3f} s", file=sys.stderr, flush=True)


def build(source: Path, out: Path, *, reasoner: str = "rules", budget: float = REASON_BUDGET,
          progress: Progress | None = None, validator: str = "auto",
          extra: Sequence[tuple[str, Callable[[Path], None]]] = ()) -> BuildResult:
    """Build the dumps of `source` into `out`, atomically. `extra` steps (name, function of the
    staged build directory) run last, before the build replaces `out`: the CLI's static export
    of the site is one, so a failing export leaves the previous build too."""
    from isecg_kg.builder import serialize as ser
    from isecg_kg.builder.load import load_sources
    from isecg_kg.builder.reason import reason_lines
    from isecg_kg.builder.release import read_registry
    from isecg_kg.builder.validate import validate

    timings: dict[str, float] = {}

    progress = progress or Progress(quiet=True)

    @contextmanager
    def step(name: str):
        progress.start(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            timings[name] = time.perf_counter() - start
            progress.done(name, timings[name])

    background: dict[str, float] = {}

    @contextmanager
    def timed(name: str):
        """A step on the writer thread: timed there, reported once it is done."""
        start = time.perf_counter()
        try:
            yield
        finally:
            background[name] = time.perf_counter() - start

    started = time.perf_counter()
    registry = read_registry(source)
    with step("load"):
        sources = load_sources(source)
    with step("validate"):
        report = validate(sources, validator)
    if not report.conforms:
        lines = [str(p) for p in report.problems if p.severity == "Violation"]
        what = "ill-typed literals" if report.engine == "xsd" else "SHACL violations"
        raise ValidationFailed(f"{len(lines)} {what}:\n" + "\n".join(lines))
    # N-Triples lines in the sources' order: the reasoner takes them as they are, the writer
    # sorts them for the dumps
    ontology_triples, data_triples = sources.triples("ontology"), sources.triples("data")
    ontology = ser.ntriples_lines(ontology_triples)
    data = ser.ntriples_lines(data_triples)
    del sources  # the writer keeps the triples, sorted by their lines; nothing else of it
    with staged_directory(out) as tmp:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gzip") as gzip_pool, \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="dumps") as writer:
            gzipped: list[Future] = []

            def compress(path: Path) -> None:
                gzipped.append(gzip_pool.submit(_gzip_and_digest, path))

            # pyoxigraph releases the GIL while it reasons, so the asserted dumps are written
            # meanwhile on another thread; reasoning stays on this one, where the memory that
            # validation freed is at hand for its store
            written = writer.submit(write_asserted, tmp, (ontology, ontology_triples),
                                    (data, data_triples), report.triples, compress, timed,
                                    registry)
            del ontology_triples, data_triples
            with step("reason"):
                inferred = reason_lines(ontology + data, reasoner, budget)
            del ontology, data
            with step("wait for dumps"):
                asserted = written.result()
            for name, seconds in background.items():
                progress.done(f"  {name}", seconds)
            timings.update(background)
            with step("serialize nq"):
                write_inferred(tmp, asserted.ontology, asserted.data, inferred, compress)
            with step("gzip"):
                digests = {path: d for job in gzipped for path, d in job.result().items()}
        with step("void"):
            write_void(tmp, asserted.void, len(inferred), digests)
        for name, run in extra:
            with step(name):
                run(tmp)
    timings["total"] = time.perf_counter() - started
    return BuildResult(out=Path(out), triples=asserted.triples, inferred=len(inferred),
                       timings=timings)


def cli_build(args: argparse.Namespace,
              extra: Sequence[tuple[str, Callable[[Path], None]]] = ()) -> int:
    result = build(args.source, args.out, reasoner=args.reasoner, budget=args.reason_budget,
                   progress=Progress(quiet=args.quiet), validator=args.validator, extra=extra)
    if not args.quiet:
        print(f"built {result.out}: {result.triples} triples asserted, {result.inferred} "
              f"inferred, {result.timings['total']:.2f} s", file=sys.stderr)
    return 0
