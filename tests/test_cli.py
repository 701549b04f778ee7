"""The one entry point: instant help, version, subcommands, python -m."""

from __future__ import annotations

import subprocess
import sys

from conftest import run_cli
from isecg_kg import __version__


def test_help_imports_no_heavy_library():
    code = ("import sys; from isecg_kg.cli import make_parser; make_parser().format_help(); "
            "heavy = {'rdflib', 'pyshacl', 'owlrl', 'pyoxigraph', 'starlette', 'uvicorn', "
            "'httpx', 'jinja2'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_the_subcommands():
    proc = run_cli("--help", check=True)
    for sub in ("build", "validate", "format", "query", "queries", "serve", "link", "bench"):
        assert sub in proc.stdout


def test_version():
    assert run_cli("--version", check=True).stdout.strip() == f"isecg-kg {__version__}"


def test_console_script_is_installed():
    proc = subprocess.run(["isecg-kg", "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_unknown_subcommand_is_a_usage_error():
    assert run_cli("frobnicate").returncode == 2
