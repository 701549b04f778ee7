"""``isecg-kg serve``: build when needed, then serve the app with uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path


def cli_serve(args) -> int:
    import uvicorn

    from isecg_kg.errors import QueryError
    from isecg_kg.query import ensure_build
    from isecg_kg.web.app import ServerOptions, create_app
    from isecg_kg.web.context import Site

    if args.store:
        raise QueryError("--store (answering from an external SPARQL store) is not supported "
                         "yet; serve the embedded build instead")
    dist = ensure_build(Path(args.source), Path(args.dist), quiet=args.quiet)
    site = Site.from_dist(dist, base=args.base)
    options = ServerOptions.from_args(args)
    app = create_app(site, options)
    if not args.quiet:
        print(f"isecg-kg serve: http://{args.host}:{args.port}/ (build {dist}, "
              f"{options.worker_count()} query workers, {options.query_timeout:g} s per query)",
              file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=5, server_header=False)
    return 0
