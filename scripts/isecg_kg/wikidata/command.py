"""The ``link`` subcommand: ``link check [--suggest]`` and ``link quickstatements``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from isecg_kg.builder.quickstatements import membership_statements, quickstatements
from isecg_kg.config import WIKIDATA_TIMEOUT
from isecg_kg.wikidata.client import SparqlClient
from isecg_kg.wikidata.linking import check_links
from isecg_kg.wikidata.quickstatements import existing_memberships, normalize_qid


def _client(args: argparse.Namespace, endpoint: str) -> SparqlClient:
    return SparqlClient(endpoint, timeout=getattr(args, "timeout", WIKIDATA_TIMEOUT))


def cli_link(args: argparse.Namespace) -> int:
    from isecg_kg.builder.load import load_sources

    quiet = getattr(args, "quiet", False)
    if args.link_command == "quickstatements":
        isecg_qid = normalize_qid(args.isecg_qid)
        sources = load_sources(Path(args.source))
        found = membership_statements(sources.triples("ontology", "data"))
        statements = found.statements
        skip: set[str] = set()
        if args.endpoint:
            with _client(args, args.endpoint) as client:
                skip = existing_memberships(client, [s.item for s in statements], isecg_qid)
        lines = quickstatements(statements, isecg_qid, retrieved=datetime.now(UTC).date(),
                                skip=skip)
        for line in lines:
            print(line)
        if not quiet:
            from isecg_kg.rdf import shorten

            kept = [s for s in statements if s.item not in skip]
            already = f"; {len(statements) - len(kept)} already at {args.endpoint}" \
                if args.endpoint else ""
            print(f"link quickstatements: {len(kept)} membership statements in {len(lines)} "
                  f"lines{already}; agencies without a QID, skipped: "
                  f"{', '.join(shorten(a) for a in found.no_item) or 'none'}; sources known "
                  "only through a copy, not cited: "
                  f"{', '.join(shorten(d) for d in found.copies_only) or 'none'}",
                  file=sys.stderr)
        return 0

    sources = load_sources(Path(args.source))
    with _client(args, args.endpoint) as client:
        report = check_links(sources, client, suggest=args.suggest)
    for line in report.lines():
        print(line)
    if not quiet:
        errors = sum(p.severity == "ERROR" for p in report.problems)
        warnings = sum(p.severity == "WARNING" for p in report.problems)
        state = "all links agree" if report.agrees else f"{errors} errors, {warnings} warnings"
        print(f"link check: {report.checked} Wikidata items checked against {report.endpoint}: "
              f"{state}; {len(report.unlinked)} entities unlinked"
              + (f"; {len(report.suggestions)} candidates" if args.suggest else ""),
              file=sys.stderr)
    return 0 if report.agrees else 1
