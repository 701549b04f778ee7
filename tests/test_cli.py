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


# ---- where builds go: the project's dist/ inside the project, a per-user directory elsewhere


def test_default_dist_is_the_projects_inside_it_and_per_user_elsewhere(tmp_path, monkeypatch):
    from isecg_kg.config import PROJECT_ROOT, default_dist

    assert default_dist(PROJECT_ROOT) == PROJECT_ROOT / "dist"
    assert default_dist(PROJECT_ROOT / "data") == PROJECT_ROOT / "dist"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_dist(tmp_path) == tmp_path / "xdg" / "isecg-kg" / "dist"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the spec: only absolute paths
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dist(tmp_path) == tmp_path / "home" / ".local" / "share" / "isecg-kg" / "dist"


def test_query_run_elsewhere_writes_no_dist_there(tmp_path):
    import os

    elsewhere, xdg = tmp_path / "elsewhere", tmp_path / "xdg"
    elsewhere.mkdir()
    env = {**os.environ, "XDG_DATA_HOME": str(xdg)}
    help_text = subprocess.run([sys.executable, "-m", "isecg_kg", "query", "--help"],
                               cwd=elsewhere, env=env, capture_output=True, text=True,
                               check=False).stdout
    assert "XDG_DATA_HOME" in " ".join(help_text.split())
    proc = subprocess.run([sys.executable, "-m", "isecg_kg", "query", "-n", "members-2022",
                           "--format", "csv"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 28  # header + the 27 members of 2022
    assert list(elsewhere.iterdir()) == []
    assert (xdg / "isecg-kg" / "dist" / "isecg.nq").is_file()
    assert str(xdg / "isecg-kg" / "dist") in proc.stderr  # it says where it built
