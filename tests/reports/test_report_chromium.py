"""Open the report in headless Chromium: every image loads and no section is empty.

index.html carries a small script that, after load, writes on <body> the number of images
(data-images), of broken ones (data-broken) and the ids of empty sections (data-empty-sections).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)


def _dump_dom(index, profile, size: str = "1400,900") -> str:
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        f"--window-size={size}",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
        "--dump-dom", index.resolve().as_uri(),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _body(dom: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", dom)
    assert tag, dom[:500]
    return dict(re.findall(r'(data-[\w-]+)="([^"]*)"', tag.group(1)))


@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize(
    "which", [pytest.param("built_report", marks=pytest.mark.slow), "empty_report"]
)  # the full report takes ~12 s to build: slow
def test_report_renders_in_chromium(which, request, tmp_path):
    index = request.getfixturevalue(which)
    body = _body(_dump_dom(index, tmp_path / "profile"))
    assert body.get("data-checked") == "1", body
    assert body["data-broken"] == "0"
    assert body["data-empty-sections"] == ""
    assert body["data-sections"] == "13"
    assert int(body["data-images"]) == (13 if which == "built_report" else 0)


@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_twelve_verdicts_fit_a_1400_by_900_screen(monkeypatch, tmp_path):
    """The first screen shows the answer and every row of a 12-claim verdict table whole."""
    from test_report_first_page import _first_page, long_claims_frame

    claims = long_claims_frame()  # as long as the blog's claims are
    _first_page(monkeypatch, tmp_path / "r", claims, "quick")
    body = _body(_dump_dom(tmp_path / "r" / "index.html", tmp_path / "profile"))
    assert body["data-verdict-rows"] == "12"
    assert body["data-verdict-rows-visible"] == "12", body
    small = _body(_dump_dom(tmp_path / "r" / "index.html", tmp_path / "profile", "1400,500"))
    assert int(small["data-verdict-rows-visible"]) < 12  # the count measures the window
