"""The drift report's Markdown and HTML, byte for byte (they are content-addressed stage outputs, and the Markdown is
the body of the drift issue). Regenerate the expected files after a deliberate change with

    python -m tests.monitor.test_report
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from mlspec.monitor import report as reports

GOLDEN = Path(__file__).resolve().parent / "golden"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def _verdict(name: str, *, drift: bool, method: str = "ks", **values: Any) -> dict[str, Any]:
    return {"name": name, "kind": "numeric", "method": method, "threshold": 0.05, "verdict": "drift" if drift else "ok",
            "drift": drift, "statistic": None, "p_value": None, "psi": None, "reason": "", "note": "",
            "reference": {}, "current": {}, "new_categories": {}, **values}


def drifted() -> dict[str, Any]:
    """Every part: a notice, drifted and steady features (with markup, quotes and table breaks in their names
    and reasons), the predictions, tiny and large numbers, plots and performance rows."""
    return {
        "project": "breast <cancer> & 'co'",
        "drift": True,
        "message": "drift in 2 of 3 features and the predictions",
        "model": {"trained_model": "forest", "where": "deployed to staging (version 3)",
                  "notice": "monitoring the workspace's champion: nothing is \"deployed\""},
        "current": {"source": "current", "rows": 400},
        "reference": {"description": "the training data's profile", "rows": 455},
        "settings": {},
        "features": [
            _verdict("mean_radius", drift=False, statistic=0.0412, p_value=0.61, reason="p 0.61 >= 0.05"),
            _verdict("a|b", drift=True, statistic=0.31, p_value=0.0000123, reason="p 1.2e-05 < 0.05",
                     note="3 new\ncategories"),
            _verdict("<script>x</script>", drift=True, method="psi", threshold=0.2, statistic=12345.678,
                     psi=0.0, reason="PSI 0.42 > 0.2 & rising"),
        ],
        "prediction": _verdict("predictions", drift=True, method="psi", threshold=0.1, statistic=0.25, psi=0.25,
                               reason="PSI 0.25 > 0.1"),
        "performance": {"available": True, "rows": 120, "reason": "", "metrics": [
            {"metric": "accuracy", "recorded": 0.9561, "current": 0.9, "change": -0.0561, "direction": "higher",
             "worse": True},
            {"metric": "log_loss", "recorded": 0.12, "current": None, "change": None, "direction": "lower",
             "worse": False},
        ]},
        "notes": ["KS at p < 0.05 on 3 features: about 14% chance of a false alarm", "PSI <= 0.1 is noise"],
    }


def steady() -> dict[str, Any]:
    """The other branches: no drift, no notice, no predictions, performance not computed, no notes."""
    return {
        "project": "wine",
        "drift": False,
        "message": "no drift in 1 features",
        "model": {"trained_model": "logreg", "where": "the workspace's champion", "notice": ""},
        "current": {"source": "recent", "rows": 50},
        "reference": {"description": "reference.csv", "rows": 60},
        "settings": {},
        "features": [_verdict("alcohol", drift=False, statistic=0.1, p_value=0.9, reason="p 0.9 >= 0.05")],
        "prediction": None,
        "performance": {"available": False, "rows": 0, "reason": "the current data has no labels", "metrics": []},
        "notes": [],
    }


CASES = {"drifted": (drifted, {"<script>x</script>": PNG, "a|b": PNG}), "steady": (steady, {})}


def _texts(case: str, tmp_path: Path) -> dict[str, str]:
    make, plots = CASES[case]
    written = reports.write(tmp_path, make(), plots)
    return {p.name: p.read_text("utf-8") for p in written}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", ["drift.md", "drift.html"])
def test_report_text(case: str, name: str, tmp_path: Path) -> None:
    expected = (GOLDEN / f"{case}-{name}").read_text("utf-8")
    assert _texts(case, tmp_path)[name] == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_and_junit_read_back(case: str, tmp_path: Path) -> None:
    make, _ = CASES[case]
    texts = _texts(case, tmp_path)
    assert json.loads(texts["drift.json"]) == make() == reports.read(tmp_path)
    suite = ET.fromstring(texts["junit.xml"])
    cases = [*make()["features"], *([make()["prediction"]] if make()["prediction"] else [])]
    assert suite.get("tests") == str(len(cases))
    assert suite.get("failures") == str(sum(1 for v in cases if v["drift"]))


def regenerate(tmp: Path) -> None:
    GOLDEN.mkdir(exist_ok=True)
    for case in CASES:
        for name, text in _texts(case, tmp).items():
            if name in ("drift.md", "drift.html"):
                (GOLDEN / f"{case}-{name}").write_text(text, "utf-8")
                print(f"wrote {GOLDEN.name}/{case}-{name}")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        regenerate(Path(tmp))


def test_data_values_in_the_markdown_are_text_not_markup() -> None:
    """Column names and the categories a reason quotes come from the data, and drift.md is the drift issue's
    body: its table shows them as text, as the PR report's cells do."""
    text = reports.markdown(drifted())
    assert "<script>" not in text and "| &lt;script&gt;x&lt;/script&gt; |" in text
    assert "| a\\|b |" in text  # still one cell
