"""The code passes the linter the project pins (ruff), so style problems fail CI, not review."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_ruff_reports_nothing():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                           "scripts", "tests"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
