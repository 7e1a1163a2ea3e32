"""Open the HTML report in headless Chromium: it renders, logs no console errors, and the
hostile group name shows as text. A screenshot is saved for a person to look at."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fairslm
from fairslm.audit import counterfactual_test
from fairslm.reporting import build_report, write_report

XSS = "<script>alert(1)</script>"


class _Lead:
    """Scores a text 0.4 when it starts with "She", else 0.6."""

    classes_ = [0, 1]

    def predict_proba(self, texts):
        return np.array([[0.6, 0.4] if t.startswith("She") else [0.4, 0.6] for t in texts])


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (scripts/test.sh installs Debian's chromium package "
                "where apt-get and root are available)")


def _run(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr", "--v=0", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.slow
def test_report_renders_in_chromium_without_console_errors(tmp_path):
    browser = _chromium()
    y_true = [1, 0, 1, 1, 0, 1, 0, 0] * 10
    y_pred = [1, 0, 1, 0, 0, 0, 0, 0] * 10
    groups = ["women", "men", XSS, "men", "women", "men", XSS, "men"] * 10
    base = fairslm.audit_predictions(y_true, y_pred, sensitive_features={"group": groups},
                                     min_group_size=10)
    fixed = fairslm.audit_predictions(y_true, y_true, sensitive_features={"group": groups},
                                      min_group_size=10)
    cf = counterfactual_test(_Lead(), ["She leads the team.", "He leads the team."] * 5)
    rep = build_report({"baseline": base, "mitigated": fixed}, counterfactual=cf)
    html_path = write_report(rep, tmp_path)["html"]
    url = html_path.as_uri()

    dom = _run(browser, tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert console == [], console
    assert "<script" not in dom.stdout.lower()  # the group name became text, not an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout
    assert re.search(r"<h1>Fairness audit report</h1>", dom.stdout)

    shot = tmp_path / "report.png"
    res = _run(browser, tmp_path, "--window-size=1200,2400", f"--screenshot={shot}", url)
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    keep = os.environ.get("FAIRSLM_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report.png")
