"""The HTML report of a run whose gate failed, opened in headless Chromium (Debian's package, see the Makefile).

Chromium takes a screenshot (kept under the test's tmp_path and copied to build/test-artifacts/) and dumps
the DOM it rendered. The report allows no script (its Content-Security-Policy), so the DOM probe runs in a
copy whose policy also allows one inline script, which records what the browser made of the page: each
image's decoded size, and the banner's computed colour.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import signal
import struct
import subprocess
from pathlib import Path

from markupsafe import escape

from mlspec.load import load
from mlspec.report.html import CSP
from mlspec.report.outputs import write
from tests.report.conftest import run_here
from tests.support import REPO

ARTIFACTS = REPO / "build" / "test-artifacts"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1280,2600")
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(i => `${i.alt}:${i.naturalWidth}x${i.naturalHeight}:${i.complete}`);
  document.body.setAttribute("data-probe-images", images.join(" "));
  const banner = getComputedStyle(document.getElementById("verdict")).backgroundColor;
  document.body.setAttribute("data-probe-banner", banner);
});
</script>
"""


def chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium to completion in its own process group, which is ended whatever happens."""
    binary = shutil.which("chromium")
    assert binary, "chromium is not installed; run `make test`, which installs Debian's chromium package"
    proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):  # its renderer and zygote processes, if any are left
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 0, f"chromium exited {proc.returncode}"
    return out


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_failed_gate_report_in_chromium(pull_request: Path, tmp_path: Path) -> None:
    spec = pull_request / "mlspec.yaml"
    spec.write_text(spec.read_text().replace("roc_auc: {min: 0.95,", "roc_auc: {min: 0.999,", 1))
    assert not run_here(spec).ok
    write(load(spec), ["html"], environ={})
    report = pull_request / ".mlspec" / "report" / "report.html"

    shot = tmp_path / "report-failed-gate.png"
    chromium(tmp_path / "profile-shot", f"--screenshot={shot}", report.as_uri())
    assert png_size(shot) == (1280, 2600)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / shot.name)

    page = report.read_text()
    probed = tmp_path / "probed.html"
    policy = str(escape(CSP))
    assert policy in page
    probed.write_text(page.replace(policy, str(escape(CSP + "; script-src 'unsafe-inline'")))
                      .replace("</body>", PROBE + "</body>"))
    dom = chromium(tmp_path / "profile-dom", "--virtual-time-budget=10000", "--dump-dom", probed.as_uri())

    # What the page shows: the verdict, one row per gate with its outcome, the failing gate's reason.
    banner = re.search(r'<header class="banner fail" id="verdict" data-verdict="fail">\s*<h1>(.*?)</h1>', dom, re.S)
    assert banner, dom[:2000]
    assert re.sub(r"<[^>]+>", "", banner[1]).strip() == "fail mlspec breast-cancer: 1 gate failed"
    rows = re.findall(r'<tr class="gate" data-metric="(\w+)" data-status="(\w+)">', dom)
    assert rows == [("roc_auc", "fail"), ("f1", "pass"), ("log_loss", "pass")]
    assert html.escape("0.9917 < min 0.999", quote=False) in dom
    assert re.search(r'data-probe-banner="rgb\(207, 34, 46\)"', dom), "the failed banner is not red"

    # The plots decoded, at the size of the PNGs the evaluation wrote.
    probe = re.search(r'data-probe-images="([^"]*)"', dom)
    assert probe, "the probe script did not run"
    plots = pull_request / ".mlspec" / "stages" / "evaluate" / "plots"
    expected = [f"{p.stem}:{'x'.join(map(str, png_size(p)))}:true" for p in sorted(plots.glob("*.png"))]
    assert probe[1].split() == expected
    assert all(int(size.split(":")[1].split("x")[0]) > 0 for size in expected)


def test_the_report_itself_runs_no_script(pull_request: Path, tmp_path: Path) -> None:
    write(load(pull_request / "mlspec.yaml"), ["html"], environ={})
    report = pull_request / ".mlspec" / "report" / "report.html"
    tampered = tmp_path / "tampered.html"
    tampered.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    dom = chromium(tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom", tampered.as_uri())
    assert 'data-verdict="pass"' in dom and "<script>" in dom  # rendered, with the script in it
    assert 'data-probe-images="' not in dom  # which the policy did not let run
