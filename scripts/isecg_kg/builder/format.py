"""One canonical Turtle layout for the sources: rdflib's ``longturtle``.

It sorts subjects, writes one subject per block and one predicate per line, so diffs stay small.
Narrative belongs in rdfs:comment / skos:scopeNote: ``#`` comments do not survive formatting.
The rdflib version is pinned (pyproject.toml) because the layout changes between releases.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from isecg_kg.builder.load import find_files, parse_turtle


def formatted(path: Path, display: str | None = None) -> str:
    """The canonical text of one Turtle file (strictly parsed first, for file:line:col errors)."""
    import rdflib

    parse_turtle(path, display)
    g = rdflib.Graph(bind_namespaces="none")
    g.parse(path, format="turtle")
    return g.serialize(format="longturtle")


def unformatted(root: Path) -> list[tuple[Path, str]]:
    """Files whose text differs from their canonical layout, with that layout."""
    out = []
    for paths in find_files(root).values():
        for p in paths:
            text = formatted(p, str(p.relative_to(root)))
            if p.read_text(encoding="utf-8") != text:
                out.append((p, text))
    return out


def cli_format(args: argparse.Namespace) -> int:
    root = Path(args.source)
    changes = unformatted(root)
    for path, text in changes:
        rel = path.relative_to(root)
        if args.check:
            print(f"[WARNING] {rel}: not in the canonical layout (run `isecg-kg format`)")
        else:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            if not args.quiet:
                print(f"formatted {rel}", file=sys.stderr)
    return 1 if (args.check and changes) else 0
