"""The build: load → validate → reason → serialize → describe → checksum, written atomically.

Everything is written into a fresh sibling directory and moved into place only when all of it
succeeded, so a failed build leaves the previous output exactly as it was.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.config import GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY
from isecg_kg.errors import BuildError, ValidationFailed

DUMPS = ("isecg.ttl", "isecg.nt", "isecg.nq", "isecg.jsonld", "isecg.rdf", "isecg-inferred.nt")


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
    if out.is_dir() and any(out.iterdir()) and not (out / "SHA256SUMS").exists():
        raise BuildError(f"{out}: not empty and not a previous build (no SHA256SUMS); "
                         "refusing to replace it — choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise BuildError(f"{out.parent}: cannot create the build directory: {exc.strerror}") from exc
    try:
        yield tmp
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        os.chmod(out, 0o755)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"{out}: cannot write the build: {exc.strerror}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_release(tmp: Path, ontology: list[ox.Triple], data: list[ox.Triple],
                  inferred_lines: list[bytes], report_triples: list[ox.Triple],
                  step: Callable) -> None:
    from isecg_kg import serialize as ser
    from isecg_kg.void import describe_release, write_sums

    with step("serialize nq"):
        ontology_lines = ser.graph_lines(ontology)
        data_lines = ser.graph_lines(data)
        ser.write_lines(ser.quad_lines(GRAPH_ONTOLOGY, ontology_lines)
                        + ser.quad_lines(GRAPH_DATA, data_lines)
                        + ser.quad_lines(GRAPH_INFERRED, inferred_lines), tmp / "isecg.nq")
    with step("serialize nt"):
        asserted_lines = ser.merge_lines(ontology_lines, data_lines)
        ser.write_lines(asserted_lines, tmp / "isecg.nt")
        ser.write_lines(inferred_lines, tmp / "isecg-inferred.nt")
        asserted = ser.parse_lines(asserted_lines)
    with step("serialize ttl"):
        ser.write_rdf(asserted, tmp / "isecg.ttl", ox.RdfFormat.TURTLE)
    with step("serialize rdf"):
        ser.write_rdf(asserted, tmp / "isecg.rdf", ox.RdfFormat.RDF_XML)
    with step("serialize jsonld"):
        ser.write_json(ser.context_document(), tmp / "context.jsonld")
        ser.write_jsonld(asserted, tmp / "isecg.jsonld")
    with step("serialize report"):
        ser.write_rdf(ser.parse_lines(ser.canonical_lines(report_triples)),
                      tmp / "shacl-report.ttl", ox.RdfFormat.TURTLE)
    with step("gzip"):
        dumps = [tmp / name for name in DUMPS]
        gz = ser.gzip_files(dumps)
    with step("void"):
        files = dumps + gz + [tmp / "context.jsonld"]
        void = describe_release(asserted, len(inferred_lines), files)
        ser.write_rdf(ser.parse_lines(ser.graph_lines(void)), tmp / "void.ttl",
                      ox.RdfFormat.TURTLE)
        write_sums(tmp)


class Progress:
    """Reports the build's steps: a live spinner on a terminal (rich), plain lines otherwise."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._status = None
        if not quiet:
            from rich.console import Console

            self.console = Console(stderr=True)

    def start(self, name: str) -> None:
        if not self.quiet and self.console.is_terminal:
            self._status = self.console.status(f"{name} …")
            self._status.start()

    def done(self, name: str, seconds: float) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        if not self.quiet:
            self.console.print(f"{name:<18} {seconds:7.3f} s", highlight=False)


def build(source: Path, out: Path, *, reasoner: str = "rules", budget: float = 60.0,
          site: bool = False, base: str | None = None, progress: Progress | None = None,
          validator: str = "auto") -> BuildResult:
    from isecg_kg.load import load_sources
    from isecg_kg.reason import reason_lines
    from isecg_kg.validate import validate

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

    started = time.perf_counter()
    with step("load"):
        sources = load_sources(source)
    with step("validate"):
        report = validate(sources, validator)
    if not report.conforms:
        lines = [str(p) for p in report.problems if p.severity == "Violation"]
        raise ValidationFailed(f"{len(lines)} SHACL violations:\n" + "\n".join(lines))
    ontology, data = sources.triples("ontology"), sources.triples("data")
    with step("reason"):
        inferred = reason_lines(ontology + data, reasoner, budget)
    with staged_directory(out) as tmp:
        write_release(tmp, ontology, data, inferred, report.triples, step)
        if site:
            from isecg_kg.site import write_site

            with step("site"):
                write_site(tmp, tmp / "site", base)
    timings["total"] = time.perf_counter() - started
    return BuildResult(out=Path(out), triples=len(set(ontology) | set(data)),
                       inferred=len(inferred), timings=timings)


def is_stale(source: Path, out: Path) -> bool:
    """True when there is no build in `out` or a source file is newer than it."""
    sums = Path(out) / "SHA256SUMS"
    if not sums.exists():
        return True
    built = sums.stat().st_mtime
    return any(p.stat().st_mtime > built for pattern in ("ontology/*.ttl", "data/*.ttl",
                                                         "shapes/*.ttl")
               for p in Path(source).glob(pattern))


def cli_build(args: argparse.Namespace) -> int:
    result = build(args.source, args.out, reasoner=args.reasoner, budget=args.reason_budget,
                   site=args.site, base=args.base, progress=Progress(quiet=args.quiet),
                   validator=args.validator)
    if not args.quiet:
        print(f"built {result.out}: {result.triples} triples asserted, {result.inferred} "
              f"inferred, {result.timings['total']:.2f} s", file=sys.stderr)
    return 0
