"""The HTML report in a real browser: headless Chromium, network blocked, loads a report built from a real eval run
with hostile text planted in a case and its trace; it renders, and nothing in it runs.

The proof that scripts do not run: the hostile payload would set ``data-pwned`` on ``<body>`` if it ran. Chromium's
``--dump-dom`` (the DOM after load) shows the payload as text inside the case's node and no such attribute, while a
control page with the same payload unescaped does get the attribute (so the check can fail), and a control page with
the report's CSP and a raw script does not (so the CSP alone would stop it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import api
from harness.cli import app
from harness.models.reports import Report
from harness.reporting.html import CSP, interesting, to_html

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "http://127.0.0.1:9/v1"
PAYLOAD = (
    "<script>document.body.setAttribute('data-pwned','1')</script></details>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\"><b>bold</b>"
)
INSTALL = "apt-get install -y chromium (Debian/Ubuntu), or put chromium / google-chrome on PATH"
runner = CliRunner()


@pytest.fixture(scope="module")
def browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        message = f"the HTML browser test needs headless Chromium: {INSTALL} (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)  # never skipped silently in CI
        pytest.skip(message)
    return found


def chromium(browser: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with every network request failing (a dead proxy, no name resolution)."""
    command = [
        browser,
        "--headless=new",
        "--disable-gpu",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def dump_dom(browser: str, tmp_path: Path, page: Path) -> str:
    return chromium(browser, tmp_path, "--dump-dom", page.as_uri()).stdout


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``agenteval report --html`` of a small real eval run (v1 against v2), and the same report re-rendered with
    the payload planted in its first case (failure text, case id) and in that case's trace (input, output)."""
    tmp = tmp_path_factory.mktemp("html")
    db = tmp / "t.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        ran = runner.invoke(
            app, ["run", "support/adversarial", "--limit", "12", "--json", "--base-url", CLOSED, "--db", str(db)]
        )
        assert ran.exit_code == 0, ran.output
        eval_run_id = json.loads(ran.output)["eval_run"]["eval_run_id"]
        cli_page, report_json = tmp / "report.html", tmp / "report.json"
        args = ["report", eval_run_id, "--baseline-variant", "v2", "--db", str(db)]
        reported = runner.invoke(app, [*args, "--html", str(cli_page), "--json-out", str(report_json)])
    assert reported.exit_code == 0, reported.output
    report = Report.model_validate_json(report_json.read_text(encoding="utf-8"))
    first = interesting(report)[0]  # the page's case-1
    assert first.current is not None
    run_id = first.current.run_ids[0]
    trace = api.get_trace(db, run_id)
    trace = trace.model_copy(update={"run": trace.run.model_copy(update={"input": PAYLOAD, "output_text": PAYLOAD})})
    planted_case = first.current.model_copy(update={"failures": [f"trajectory: {PAYLOAD}"]})
    planted = first.model_copy(update={"case_id": f"pwn {PAYLOAD}", "current": planted_case})
    hostile = report.model_copy(update={"cases": [planted if c is first else c for c in report.cases]})
    hostile_page = tmp / "hostile.html"
    hostile_page.write_text(to_html(hostile, {run_id: trace}), encoding="utf-8")
    return cli_page, hostile_page


def test_cli_writes_a_page_with_drill_downs(pages: tuple[Path, Path]) -> None:
    text = pages[0].read_text(encoding="utf-8")
    assert text.count("<svg") == 3
    assert "agenteval replay " in text
    assert '<ol class="steps">' in text  # real traces were loaded
    assert "chat mock-gpt" in text


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (still filtered) image data of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, width, height = 8, b"", 0, 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    return width, height, zlib.decompress(idat)


def test_screenshot_renders_the_page(browser: str, pages: tuple[Path, Path], tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(browser, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", pages[1].as_uri())
    assert shot.stat().st_size > 50_000
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1280, 2000)
    # A blank or single-colour page filters down to a handful of byte values; text, bars and badges give many.
    assert len(set(pixels)) > 100


def test_planted_script_stays_text_and_never_runs(browser: str, pages: tuple[Path, Path], tmp_path: Path) -> None:
    dom = dump_dom(browser, tmp_path, pages[1])
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert "data-pwned" not in body.group(0)
    assert "<script" not in dom
    assert "<img" not in dom
    # The payload is text inside the planted case's node: the browser's own serialisation escapes it again.
    case = dom[dom.index('<details class="case" id="case-1">') : dom.index('<details class="case" id="case-2">')]
    as_text = "&lt;script&gt;document.body.setAttribute('data-pwned','1')&lt;/script&gt;&lt;/details&gt;&lt;img src=x"
    assert f"pwn {as_text}" in case
    assert case.count(as_text) >= 4  # case id, failure, run input, run output


def test_the_detector_sees_a_script_that_runs_and_the_csp_stops_one(browser: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw.html"
    raw.write_text(f"<!DOCTYPE html><html><head></head><body>{PAYLOAD}</body></html>", encoding="utf-8")
    assert re.search(r"<body[^>]*data-pwned=", dump_dom(browser, tmp_path, raw))
    locked = tmp_path / "locked.html"
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    locked.write_text(f"<!DOCTYPE html><html><head>{meta}</head><body>{PAYLOAD}</body></html>", encoding="utf-8")
    dom = dump_dom(browser, tmp_path, locked)
    assert "<body>" in dom
    assert "data-pwned=" not in dom.replace("setAttribute('data-pwned'", "")
