"""``isecg-kg serve``: build when needed, then serve the app with uvicorn.

Connection-level limits live here, request-level ones in the app (see README, "Limits and threat
model"). SIGTERM (or Ctrl-C) stops accepting connections, lets the requests in flight finish (for
as long as a query may run, plus a margin), stops the query workers and exits 0.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from isecg_kg.web.defaults import GRACE


def cli_serve(args) -> int:
    import uvicorn

    from isecg_kg.web.app import create_app
    from isecg_kg.web.context import Site
    from isecg_kg.web.http.http11 import protocol
    from isecg_kg.web.options import ServerOptions

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            # uvicorn re-raises the signal once it has shut down, so the process ended by it
            # (exit 143 for SIGTERM); a drained shutdown is a normal end: exit 0.
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()

    dist = Path(args.dist)  # built by the CLI when missing or stale
    site = Site.from_dist(dist, base=args.base, source=Path(args.source))
    for kept in site.kept:
        if kept.problems:
            print(f"isecg-kg serve: warning: release {kept.version} is not served because "
                  f"{'; '.join(kept.problems)}", file=sys.stderr)
    options = ServerOptions.from_args(args)
    app = create_app(site, options)
    app.state.engine.start()  # here, a worker that cannot start is one line and exit 2
    for name, reason in sorted(app.state.site.release.problems.items()):
        print(f"isecg-kg serve: warning: {name} is withheld (503) because {reason}",
              file=sys.stderr)
    if not args.quiet:
        answers = (f"store {options.store}, {options.worker_count()} queries at once"
                   if options.store else f"{options.worker_count()} query workers")
        print(f"isecg-kg serve: http://{args.host}:{args.port}/ (build {dist}, {answers}, "
              f"{options.limits().timeout:g} s per query)", file=sys.stderr)
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_level="warning", access_log=False,
        server_header=False, limit_concurrency=options.max_connections,
        # the peer is the client: uvicorn would believe X-Forwarded-For from 127.0.0.1 by
        # default; who may say otherwise is --trust-proxy's to decide (web/http/clients.py)
        proxy_headers=False,
        # h11 explicitly, with strict framing and read deadlines (web/http/http11.py); uvicorn would
        # pick httptools wherever it happens to be installed (measured: no faster here)
        http=protocol(options.head_limit(), options.head_timeout,
                      options.body_timeout, per_client=options.max_client_connections,
                      clients=options.clients()), loop="asyncio",
        h11_max_incomplete_event_size=options.head_limit(),
        timeout_graceful_shutdown=math.ceil(options.limits().timeout + GRACE))
    Server(config).run()
    return 0
