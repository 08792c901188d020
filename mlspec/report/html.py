"""The report as one self-contained HTML file, kept as a CI artifact and opened from there.

Self-contained means it works from a downloaded artifact, offline, and from GitLab's artifact browser:
inline CSS, plots embedded as ``data:image/png;base64`` URIs with their pixel size (read from the PNG
header) so the page lays out before they decode, and a Content-Security-Policy that allows nothing else
(no script, no fetch, no external image or font). Every value is HTML-escaped by the template environment.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

from mlspec.render import render_html
from mlspec.report.model import Plot, Report

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class Image:
    name: str
    uri: str
    width: int
    height: int


def render(report: Report) -> str:
    return render_html("report/report.html.j2", view(report))


def view(report: Report) -> dict[str, Any]:
    return {"r": report, "csp": CSP, "images": [image(p) for p in report.plots], "footer": " · ".join(report.context)}


def image(plot: Plot) -> Image:
    data = plot.path.read_bytes()
    # The IHDR chunk comes first in every PNG: its width and height follow the signature, length and type.
    width, height = struct.unpack(">II", data[16:24])
    return Image(plot.name, "data:image/png;base64," + base64.b64encode(data).decode("ascii"), width, height)
