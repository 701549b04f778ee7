"""Where the web layer's templates and static files live, and the one way to load templates."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

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
