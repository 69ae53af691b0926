"""The explorer in a real browser: system Chromium driven by Playwright.

``urbsim explore`` is started on a free loopback port; the test changes two levers, sees an
invalid value refused with the command line's message, runs the baseline at 40,000 households
per agent, exports the scenario and checks that ``urbsim check`` accepts the export and
``urbsim run`` of it gives the national table the page showed, bit for bit.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from urbsim.explore.state import national_csv, national_digest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    # A server, a browser and a run: outside `make test-fast`.
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason="system Chromium (/usr/bin/chromium) is absent: .ci/run installs it from Debian",
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[2]
#: Chromium flags for a headless run without network side-traffic or a sandbox (CI is root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Generous waits (ms): the first run compiles the model, and CI machines are shared.
PAGE_WAIT = 120_000
RUN_WAIT = 900_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, server: subprocess.Popen[bytes], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"urbsim explore exited with code {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"urbsim explore did not listen on port {port} in {seconds} s")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``urbsim explore`` on a free loopback port; its process group is killed afterwards."""
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    cmd = [sys.executable, "-m", "urbsim", "explore", "--port", str(port)]
    cmd += ["--scenarios", str(REPO / "scenarios")]
    # A session of its own: the command and the solara server it starts are killed together.
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _urbsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "urbsim", *args], cwd=REPO, capture_output=True, text=True
    )


def _set_text(page: object, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)  # type: ignore[attr-defined]
    field.fill(value)
    field.press("Enter")


def test_explorer_runs_and_exports_a_reproducible_scenario(server: str, tmp_path: Path) -> None:
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(PAGE_WAIT)
            page.goto(server)
            page.get_by_text("Set the levers and press Run.").wait_for()

            # An invalid value is refused with the command line's message.
            _set_text(page, "Governance efficiency", "-1")
            page.get_by_role("button", name="Run", exact=True).click()
            refused = page.locator(".run-error").inner_text(timeout=PAGE_WAIT)
            cli = _urbsim(
                "check",
                "scenarios/baseline.toml",
                "--set",
                "seed=20101101",
                "--set",
                "timeline.2025.governance_efficiency=-1",
            )
            assert cli.returncode == 2
            assert refused.strip() == cli.stderr.strip()

            # Two levers, then a run of the small scenario.
            _set_text(page, "Governance efficiency", "1.0")
            _set_text(page, "Households per agent", "40000.0")
            _set_text(page, "County-town budget (bn yuan/yr)", "250.0")
            page.get_by_role("button", name="Run", exact=True).click()
            first = page.locator(".national-digest").inner_text(timeout=RUN_WAIT)
            # The three run figures and the two series figures are drawn.
            assert page.locator("img").count() >= 5

            # Kept as the reference; a second run with a choice lever changed is compared.
            page.get_by_role("button", name="Save as reference").click()
            page.get_by_label("Funding base", exact=True).click(force=True)
            page.get_by_role("option", name="registered", exact=True).click()
            page.get_by_role("button", name="Run", exact=True).click()
            digest_line = page.locator(".national-digest")
            playwright_api.expect(digest_line).not_to_have_text(first, timeout=RUN_WAIT)
            digest = digest_line.inner_text().rsplit(" ", 1)[-1]
            page.get_by_text("Current minus reference").wait_for()
            assert page.get_by_text("Reference: baseline").count() == 1
            page.screenshot(path=str(tmp_path / "explorer.png"))

            with page.expect_download() as download:
                page.get_by_role("button", name="Export scenario").click()
            export = tmp_path / "export.toml"
            download.value.save_as(export)
            with page.expect_download() as download:
                page.get_by_role("button", name="National table (CSV)").click()
            csv = tmp_path / "national.csv"
            download.value.save_as(csv)
        finally:
            browser.close()

    text = export.read_text()
    assert "timeline.2025.county_town.budget = 250.0" in text
    assert 'timeline.2025.service_funding_base = "registered"' in text
    assert "world.households_per_agent = 40000.0" in text
    assert hashlib.sha256(csv.read_bytes()).hexdigest() == digest

    check = _urbsim("check", str(export))
    assert check.returncode == 0, check.stderr
    out = tmp_path / "run"
    run = _urbsim("run", str(export), "--out", str(out))
    assert run.returncode == 0, run.stderr
    national = pd.read_parquet(out / "national.parquet")
    assert national_digest(national) == digest
    assert national_csv(national) == csv.read_text()
