"""A synthetic source directory for benchmarks at any size: copies of the project's own data.

``write_synthetic(out, triples, seed)`` writes ``out/ontology/`` and ``out/shapes/`` (copied from
the project) and ``out/data/*.ttl``: as many copies of the project's ``data/*.ttl`` as make about
``triples`` triples (at least one). So the synthetic graph has the real graph's proportions by
construction — the same classes with the same entities per class, every shape with its targets,
the same ratio of inferred to asserted triples — and follows the data as it grows. (The generator
written by hand before this drifted: it yielded 1.4 inferred triples per asserted one where the
real graph has 0.45, and no event, claim, interval or name statement other than acronyms, so the
shapes on those were never measured at scale.)

Each copy is renamed apart: an IRI below ``ID_BASE`` gets ``synth-NNNNN-`` before its last path
segment (``…/id/agency/nasa`` → ``…/id/agency/synth-00003-nasa``), so no synthetic entity can be
mistaken for, or collide with, a real one; a language-tagged literal (labels, titles, names,
excerpts: a quarter of the triples) gets `` (synth NNNNN)`` appended, so the copies' text is as
distinct as real text would be. Other literals (dates, acronyms, counts) and IRIs outside the
ID base (Wikidata items, web addresses, the vocabularies) are shared by the copies.

The seed orders the subject blocks of each file, the copies interleaved; the same seed gives the
same bytes. ``proportions`` counts what both graphs are compared on.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections import Counter
from pathlib import Path

from isecg_kg.config import DATA_GLOB, ID_BASE, PREFIXES, PROJECT_ROOT
from isecg_kg.errors import InputError
from isecg_kg.rdf import RDF_TYPE

MIN_TRIPLES = 200


def _blocks(path: Path) -> list[list]:
    """The triples of one Turtle file, in runs of one subject each (the file's own order)."""
    import pyoxigraph as ox

    blocks: list[list] = []
    for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        if not blocks or blocks[-1][0].subject != t.subject:
            blocks.append([])
        blocks[-1].append(t)
    return blocks


def template(source: Path = PROJECT_ROOT) -> dict[str, list[list]]:
    """The data files of `source` to copy: file name -> subject blocks."""
    files = {p.name: _blocks(p) for p in sorted(Path(source).glob(DATA_GLOB))}
    if not any(files.values()):
        raise InputError(f"{source}: no data triples to copy", path=str(source))
    return files


class _Renamer:
    """Terms of copy `k`: the template's IRIs below ID_BASE and its language-tagged literals
    renamed apart, everything else shared."""

    def __init__(self, k: int):
        self.tag = f"synth-{k:05d}-"
        self.note = f" (synth {k:05d})"
        self.done: dict = {}

    def __call__(self, term):
        import pyoxigraph as ox

        out = self.done.get(term)
        if out is None:
            out = term
            if type(term) is ox.NamedNode and term.value.startswith(ID_BASE):
                head, _, last = term.value.rpartition("/")
                out = ox.NamedNode(f"{head}/{self.tag}{last}")
            elif type(term) is ox.Literal and term.language:
                out = ox.Literal(term.value + self.note, language=term.language)
            self.done[term] = out
        return out


def copy_triples(source: Path = PROJECT_ROOT) -> int:
    """Data triples in one copy of `source`'s data: the step between the sizes synth makes."""
    return sum(len(b) for bs in template(source).values() for b in bs)


def copies_for(triples: int, per_copy: int) -> int:
    if triples < MIN_TRIPLES:
        raise InputError(f"--triples {triples}: too small; ask for at least {MIN_TRIPLES}")
    return max(1, round(triples / per_copy))


def write_synthetic(out: Path, triples: int, seed: int = 0, source: Path = PROJECT_ROOT) -> Path:
    """Write a source directory of ≈`triples` data triples (whole copies of `source`'s data, at
    least one) into `out`; return `out`."""
    import pyoxigraph as ox

    files = template(source)
    copies = copies_for(triples, sum(len(b) for bs in files.values() for b in bs))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("ontology", "shapes", "data"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    shutil.copytree(Path(source) / "ontology", out / "ontology")
    shutil.copytree(Path(source) / "shapes", out / "shapes")
    (out / "data").mkdir()
    rng = random.Random(seed)
    renamers = [_Renamer(k) for k in range(copies)]
    for name, blocks in files.items():
        order = [(k, i) for k in range(copies) for i in range(len(blocks))]
        rng.shuffle(order)

        def triples_in(order=order, blocks=blocks):
            for k, i in order:
                r = renamers[k]
                for t in blocks[i]:
                    yield ox.Triple(r(t.subject), t.predicate, r(t.object))

        tmp = out / "data" / f".{name}.tmp"
        ox.serialize(triples_in(), str(tmp), ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        tmp.replace(out / "data" / name)
    return out


def proportions(source: Path) -> dict:
    """What the synthetic graph is compared with the real one on: data triples, and entities
    per class (rdf:type statements in the data, by class IRI)."""
    import pyoxigraph as ox

    classes: Counter = Counter()
    n = 0
    for p in sorted(Path(source).glob(DATA_GLOB)):
        for t in ox.parse(path=str(p), format=ox.RdfFormat.TURTLE):
            n += 1
            if t.predicate.value == RDF_TYPE:
                classes[t.object.value] += 1
    return {"data_triples": n, "classes": dict(sorted(classes.items()))}


def count_triples(source: Path) -> int:
    """Triples in `source`/data/*.ttl (parsed with pyoxigraph)."""
    return proportions(source)["data_triples"]


def cli_synth(args: argparse.Namespace) -> int:
    out = write_synthetic(args.out, args.triples, args.seed)
    if not getattr(args, "quiet", False):
        print(f"wrote {out}: {count_triples(out):,} data triples, whole copies of the project's "
              f"data for ≈{args.triples:,} (seed {args.seed})", file=sys.stderr)
    return 0
