"""Where the web layer's templates and static files live, the one way to load templates, and
the one way to serve a static file."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import FileResponse, Response

from isecg_kg.formats import media_type_of

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def environment(**globals_) -> Environment:
    """A Jinja environment over TEMPLATES that escapes HTML, SVG and XML output."""
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html", "svg", "xml"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(globals_)
    return env


def static_file(name: str):
    """A handler serving one file of the web layer's static files (404 while it is absent)."""
    path = STATIC / name
    media_type = media_type_of(name)

    async def handler(request) -> Response:
        if not path.is_file():
            return Response("404 Not Found\n", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type=media_type,
                            headers={"Cache-Control": "public, max-age=3600",
                                     "X-Content-Type-Options": "nosniff"})

    return handler
