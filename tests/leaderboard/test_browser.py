"""End to end: `tfbench leaderboard` serves the app; headless Chromium renders the table with the adapters.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them) and selenium; skips without them.
The screenshot is kept in test-artifacts/leaderboard.png (git-ignored).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
EXPECTED = ["identity", "jpeg:quality=5", "webp:quality=30"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, server: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}: {server.stdout.read() if server.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200 and reply.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout_s} s")


@pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                    reason="headless browser test needs Debian's `chromium` and `chromium-driver` "
                           "(apt-get install chromium chromium-driver)")
def test_served_leaderboard_renders_the_table_in_chromium(store_file: Path, tmp_path: Path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tfbench.cli", "leaderboard", "--store", str(store_file),
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    driver = None
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", server)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1600,1000",
                     f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        driver.get(f"http://127.0.0.1:{port}/")
        cells = '[data-testid="stDataFrame"] [role="gridcell"]'
        WebDriverWait(driver, 90).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, cells)) > 0)
        first_column = [c.get_attribute("textContent") for c in driver.find_elements(By.CSS_SELECTOR, cells)
                        if c.get_attribute("aria-colindex") == "1"]
        header = [h.get_attribute("textContent") for h in
                  driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"] [role="columnheader"]')]
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "leaderboard.png"))
        assert driver.title == "tfbench leaderboard"
        assert sorted(first_column) == sorted(["identity", "jpeg:quality=5", "jpeg:quality=5", "webp:quality=30"])
        assert first_column[0] == "identity"  # sorted by T-ACC: identity reads every word
        assert header[:5] == ["adapter", "res", "bpp", "T-ACC s", "T-ACC m"]
        assert (ARTIFACTS / "leaderboard.png").stat().st_size > 10_000

        # a deep link opens that page inside the app's navigation (titles, not file names)
        driver.get(f"http://127.0.0.1:{port}/compression")
        WebDriverWait(driver, 60).until(lambda d: any(
            h.text == "Compression" for h in d.find_elements(By.CSS_SELECTOR, '[data-testid="stMainBlockContainer"] h1')))
        nav = [a.text for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')]
        assert nav == ["Leaderboard", "Model", "Compression", "Crops viewer", "Submit"]
        driver.save_screenshot(str(ARTIFACTS / "leaderboard-compression.png"))
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
