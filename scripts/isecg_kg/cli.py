"""The one command-line entry point, ``isecg-kg``, with a subcommand per pipeline step.

Each subcommand is a thin wrapper: it parses arguments here and calls one function of the module
that does the work, importing it only then so that ``isecg-kg --help`` stays instant. Only this
module exits the process. Exit codes: 0 success / conforms, 1 does not conform, 2 error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from isecg_kg import __version__, formats
from isecg_kg.config import (
    ADMISSION_WAIT,
    BODY_TIMEOUT,
    BUDGET_WINDOW,
    CLIENT_BUDGET,
    HEAD_TIMEOUT,
    HEAVY_AFTER,
    MAX_ANSWER_BYTES,
    MAX_CLIENT_CONNECTIONS,
    MAX_CONNECTIONS,
    MAX_QUERY_BYTES,
    MAX_ROWS,
    PROJECT_ROOT,
    QUERY_TIMEOUT,
    REASON_BUDGET,
    SERVER_MEMORY_MIB,
    WIKIDATA_SPARQL,
    WIKIDATA_TIMEOUT,
    WORKER_MEMORY_MIB,
    default_dist,
)


def _names(found) -> str:
    """Format names as a help text lists them: the registry's, in its order."""
    return "|".join(dict.fromkeys(f.name for f in found))

def _lazy(target: str):
    """The subcommand ``module:function``, imported only when it runs (``--help`` stays instant)."""
    def run(args: argparse.Namespace) -> int:
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)(args)

    return run


def _build(args: argparse.Namespace) -> int:
    from isecg_kg.builder.pipeline import KEPT, cli_build

    def export(staged: Path) -> None:  # the static site, from the staged build, before the swap
        from isecg_kg.web.pages.export import write_site

        write_site(staged, staged / "site", args.base, releases=Path(args.out) / KEPT,
                   source=args.source)

    return cli_build(args, [("site", export)] if args.site else [])




def ensure_build(source: Path, dist: Path, *, quiet: bool = False) -> Path:
    """``dist``, built first when it has no dump or is older than any source or rule (what
    `query` and `serve` read: the CLI decides whether to build, the wings never do)."""
    from isecg_kg.config import DATA_GLOB, ONTOLOGY_GLOB, RULES_DIR, SHAPES_GLOB

    source, dist = Path(source), Path(dist)
    nq = dist / "isecg.nq"
    inputs = [p for g in (ONTOLOGY_GLOB, DATA_GLOB, SHAPES_GLOB) for p in source.glob(g)]
    inputs += list(Path(RULES_DIR).glob("*.rq")) + list(source.glob("data/releases/*.toml"))
    if nq.is_file() and (dist / "SHA256SUMS").is_file():
        built = nq.stat().st_mtime
        if all(p.stat().st_mtime <= built for p in inputs):
            return dist
        reason = "older than its sources"
    else:
        reason = "missing"
    if not quiet:
        print(f"isecg-kg: the build in {dist} is {reason}; building it now", file=sys.stderr)
    from isecg_kg.builder.pipeline import build

    build(source, dist)
    return dist


def _query(args: argparse.Namespace) -> int:
    from isecg_kg.sparql.command import cli_query

    return cli_query(args, lambda: ensure_build(args.source, args.dist, quiet=args.quiet))



def _serve(args: argparse.Namespace) -> int:
    from isecg_kg.web.server import cli_serve

    args.dist = ensure_build(Path(args.source), Path(args.dist), quiet=args.quiet)
    return cli_serve(args)



def _dev_tool(name: str):
    """A development tool of the source checkout (scripts/bench/): not part of the installed
    package, so it runs only from a clone of the repository."""
    from isecg_kg.errors import IsecgError

    tools = PROJECT_ROOT / "scripts"
    if not (tools / "bench" / f"{name}.py").is_file():
        raise IsecgError(f"{name} is a development tool of the source repository "
                         "(scripts/bench/), not installed with the package: run it from a "
                         "clone of the repository, installed with `pip install -e .`")
    if str(tools) not in sys.path:
        sys.path.insert(0, str(tools))
    return importlib.import_module(f"bench.{name}")


def _synth(args: argparse.Namespace) -> int:
    return _dev_tool("synth").cli_synth(args)


def _bench(args: argparse.Namespace) -> int:
    return _dev_tool("bench").cli_bench(args)





def _validator_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--validator", choices=("auto", "pyshacl", "sparql"), default="auto",
                   help="SHACL engine: sparql (the shapes compiled to SPARQL on pyoxigraph), "
                        "pyshacl (the reference the tests compare it with), auto: sparql, or "
                        "pyshacl for shapes using a feature the compiler refuses, with one line "
                        "saying so (default: %(default)s)")


def _source_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", type=Path, default=PROJECT_ROOT, metavar="DIR",
                   help="project root holding ontology/, data/ and shapes/ (default: %(default)s)")


def _dist_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dist", type=Path, default=default_dist(), metavar="DIR",
                   help="build output to read, built there first when missing or stale "
                        "(default: the project's dist/ inside the project, else "
                        "$XDG_DATA_HOME/isecg-kg/dist; here: %(default)s)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isecg-kg",
        description="Build, validate, query and serve the ISECG knowledge graph.",
        epilog="Exit codes: 0 success, 1 does not conform, 2 error (unreadable input, bad query).",
    )
    parser.add_argument("--version", action="version", version=f"isecg-kg {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="load, validate, reason and write the dumps")
    _source_arg(p)
    p.add_argument("--out", type=Path, default=default_dist(), metavar="DIR",
                   help="output directory, replaced atomically (default: the project's dist/ "
                        "inside the project, else $XDG_DATA_HOME/isecg-kg/dist; here: "
                        "%(default)s)")
    p.add_argument("--reasoner", choices=("rules", "owlrl"), default="rules",
                   help="rules: the ontology's entailments as SPARQL rules (fast); owlrl: the "
                        "full OWL RL closure, the reference (default: %(default)s)")
    p.add_argument("--reason-budget", type=float, default=REASON_BUDGET, metavar="SECONDS",
                   help="time budget for reasoning (default: %(default)s)")
    _validator_arg(p)
    p.add_argument("--site", action="store_true",
                   help="also write the static linked-data site into OUT/site/")
    p.add_argument("--base", metavar="IRI",
                   help="public base IRI of the site (default: the data's)")
    p.set_defaults(func=_build)

    p = sub.add_parser("validate", help="check the sources against the SHACL shapes")
    _source_arg(p)
    _validator_arg(p)
    p.set_defaults(func=_lazy("isecg_kg.builder.validate:cli_validate"))

    p = sub.add_parser("format", help="rewrite the Turtle sources in the canonical layout")
    _source_arg(p)
    p.add_argument("--check", action="store_true",
                   help="only report files that are not formatted (exit 1 if any)")
    p.set_defaults(func=_lazy("isecg_kg.builder.format:cli_format"))

    p = sub.add_parser("query", help="run a SPARQL query against the build or an endpoint")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("query", nargs="?", help="the query text")
    src.add_argument("-f", "--file", type=Path, help="a .rq file")
    src.add_argument("-n", "--name", help="a named query (see `isecg-kg queries`)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="bind ?NAME to VALUE (an IRI in <>, or a literal; typed as the query's "
                        "header declares); repeatable")
    p.add_argument("--format", default=None,
                   help=f"SELECT/ASK: {_names(formats.answers('SELECT'))} (default table); "
                        f"CONSTRUCT/DESCRIBE: {_names(formats.answers('CONSTRUCT'))} "
                        "(default turtle)")
    p.add_argument("--endpoint", metavar="URL", help="run against this SPARQL endpoint instead")
    p.add_argument("--timeout", type=float, default=QUERY_TIMEOUT, metavar="SECONDS",
                   help="query time limit (default: %(default)s)")
    p.add_argument("--wikidata-endpoint", default=WIKIDATA_SPARQL, metavar="URL",
                   help="endpoint that SERVICE <wikidata> calls go to (default: %(default)s)")
    _source_arg(p)
    _dist_arg(p)
    p.set_defaults(func=_query)

    p = sub.add_parser("queries", help="list the named queries, one per line")
    p.set_defaults(func=_lazy("isecg_kg.sparql.command:cli_list_queries"))

    p = sub.add_parser("serve", help="serve the linked data, the SPARQL endpoint and the pages")
    _source_arg(p)
    _dist_arg(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--base", metavar="IRI",
                   help="base IRI mapped onto this server (default: the data's base)")
    p.add_argument("--query-timeout", type=float, default=QUERY_TIMEOUT, metavar="SECONDS")
    p.add_argument("--max-rows", type=int, default=MAX_ROWS, metavar="N")
    p.add_argument("--max-query-bytes", type=int, default=MAX_QUERY_BYTES, metavar="N")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="query worker processes (default: one per core)")
    p.add_argument("--max-heavy", type=int, default=None, metavar="N",
                   help="queries allowed to run past --heavy-after at once (default: one per "
                        "core, fewer than the workers)")
    p.add_argument("--heavy-after", type=float, default=None, metavar="SECONDS",
                   help=f"a query still running after this is heavy (default: {HEAVY_AFTER}, or a "
                        "quarter of --query-timeout if less)")
    p.add_argument("--admission-wait", type=float, default=ADMISSION_WAIT, metavar="SECONDS",
                   help="how long a query waits for a free worker before 503 "
                        "(default: %(default)s)")
    p.add_argument("--worker-memory", type=int, default=WORKER_MEMORY_MIB, metavar="MIB",
                   help="address space of each query worker; a query past it gets 503 "
                        "(default: %(default)s)")
    p.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS, metavar="N",
                   help="connections served at once; uvicorn answers 503 beyond "
                        "(default: %(default)s)")
    p.add_argument("--max-client-connections", type=int, default=MAX_CLIENT_CONNECTIONS,
                   metavar="N", help="connections one client address may hold open at once; 429 "
                                     "beyond (--trust-proxy addresses are not capped) (default: "
                                     "%(default)s)")
    p.add_argument("--max-answer-bytes", type=int, default=MAX_ANSWER_BYTES, metavar="N",
                   help="bytes per answer; a longer one is cut at a row and flagged like the "
                        "row cap (default: %(default)s)")
    p.add_argument("--server-memory", type=int, default=SERVER_MEMORY_MIB, metavar="MIB",
                   help="resident memory of the server process above which queries get 503 "
                        "and the answer cache is emptied (default: %(default)s)")
    p.add_argument("--head-timeout", type=float, default=HEAD_TIMEOUT, metavar="SECONDS",
                   help="time to send a request line and headers; then 408 (default: "
                        "%(default)s)")
    p.add_argument("--body-timeout", type=float, default=BODY_TIMEOUT, metavar="SECONDS",
                   help="time to send a request body once its head is in; then 408 (default: "
                        "%(default)s)")
    p.add_argument("--client-budget", type=float, default=CLIENT_BUDGET, metavar="SECONDS",
                   help="query time each client may spend in any --budget-window; then 429 with "
                        "Retry-After; 0: no budget (default: %(default)s)")
    p.add_argument("--budget-window", type=float, default=BUDGET_WINDOW, metavar="SECONDS",
                   help="the sliding window of --client-budget (default: %(default)s)")
    p.add_argument("--trust-proxy", action="append", default=None, metavar="ADDRESS",
                   help="a proxy's address (repeatable): requests from it are charged to the "
                        "first X-Forwarded-For address; never believed from anyone else")
    p.add_argument("--service-allow", action="append", default=None, metavar="URL",
                   help="SERVICE endpoints allowed (repeatable; default: Wikidata's)")
    p.add_argument("--wikidata-endpoint", default=WIKIDATA_SPARQL, metavar="URL")
    p.add_argument("--store", metavar="URL",
                   help="answer from this external SPARQL 1.1 store instead of the embedded one")
    p.set_defaults(func=_serve)

    p = sub.add_parser("link", help="Wikidata links: check them, export QuickStatements")
    lsub = p.add_subparsers(dest="link_command", metavar="ACTION", required=True)
    lc = lsub.add_parser("check", help="check every Wikidata link against a Wikidata endpoint")
    lc.add_argument("--endpoint", default=WIKIDATA_SPARQL, metavar="URL")
    lc.add_argument("--suggest", action="store_true",
                    help="propose candidates for unlinked entities (writes nothing)")
    lc.add_argument("--timeout", type=float, default=WIKIDATA_TIMEOUT, metavar="SECONDS")
    _source_arg(lc)
    # --isecg-qid is required; argparse is not told, so that leaving it out gets the message
    # that says where to find the QID (normalize_qid), not only argparse's "required"
    lq = lsub.add_parser("quickstatements", help="QuickStatements v1 for missing memberships",
                         usage="isecg-kg link quickstatements [-h] --isecg-qid QID "
                               "[--endpoint URL] [--timeout SECONDS] [--source DIR]")
    lq.add_argument("--isecg-qid", metavar="QID",
                    help="required: ISECG's Wikidata item, as you have checked it (this "
                         "project knows none; a build's isecg-quickstatements.txt has a "
                         "placeholder there)")
    lq.add_argument("--endpoint", metavar="URL",
                    help="skip statements this Wikidata endpoint already has")
    lq.add_argument("--timeout", type=float, default=WIKIDATA_TIMEOUT, metavar="SECONDS")
    _source_arg(lq)
    p.set_defaults(func=_lazy("isecg_kg.wikidata.command:cli_link"))

    p = sub.add_parser("synth", help="write a synthetic graph of the same shape, for benchmarks")
    p.add_argument("--triples", type=int, required=True, metavar="N")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="a source directory (ontology/, data/, shapes/) to build from")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_synth)

    p = sub.add_parser("bench", help="benchmark the build and the endpoint against peers")
    p.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    p.add_argument("--json", type=Path, default=Path("bench.json"), metavar="FILE")
    p.add_argument("--only", metavar="SECTIONS", help="run these sections only, comma-separated "
                   "(real, scale, growth, endpoint, burst, fair, slow, reconcile); the targets "
                   "of the others are not measured")
    _source_arg(p)
    p.set_defaults(func=_bench)

    p = sub.add_parser("diff", help="what changed between two releases, by entity")
    p.add_argument("old", type=Path, help="the older release: a build or release directory, "
                   "or a dump file (.nq, .nt, .ttl, .rdf, .jsonld, each also .gz)")
    p.add_argument("new", type=Path, help="the newer release, likewise")
    p.add_argument("--inferred", action="store_true",
                   help="also compare the inferred graph (left out by default)")
    p.add_argument("--format", choices=("md", "html", "ttl"), default="md",
                   help="what to print: Markdown, HTML or Turtle (Changeset vocabulary) "
                        "(default: %(default)s)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write changelog.md, changelog.html and changelog.ttl into DIR instead")
    p.set_defaults(func=_lazy("isecg_kg.builder.changelog:cli_diff"))

    p = sub.add_parser("release", help="freeze the committed sources into a kept, versioned "
                       "release; without VERSION, rebuild and check every kept release")
    p.add_argument("version", nargs="?", metavar="VERSION",
                   help="a new version (must be the one data/releases/releases.toml declares "
                        "at HEAD) or a kept one (rebuilt from its commit and checked)")
    _source_arg(p)
    p.add_argument("--releases", type=Path, default=default_dist() / "releases", metavar="DIR",
                   help="where release directories are kept (default: %(default)s)")
    p.add_argument("--issued", metavar="YYYY-MM-DD",
                   help="release date of a new release (default: today, UTC)")
    p.set_defaults(func=_lazy("isecg_kg.builder.release:cli_release"))

    p = sub.add_parser("load", help="push a build into a SPARQL 1.1 Graph Store")
    p.add_argument("--into", required=True, metavar="URL",
                   help="the store's Graph Store URL; a store that takes writes only from a "
                        "user gets one as http://USER:PASSWORD@HOST/... (Digest or Basic)")
    _dist_arg(p)
    p.set_defaults(func=_lazy("isecg_kg.sparql.store:cli_load"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    from isecg_kg.errors import IsecgError

    try:
        return int(args.func(args) or 0)
    except IsecgError as exc:
        print(f"isecg-kg {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
