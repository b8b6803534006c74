"""Helpers for the headless-Chromium tests: a served leaderboard (`tfbench leaderboard`) and a Chrome driver.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them) and selenium; the tests skip
without them. Screenshots go to test-artifacts/ (git-ignored).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                                   reason="headless browser tests need Debian's `chromium` and `chromium-driver` "
                                          "(apt-get install chromium chromium-driver)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, server: subprocess.Popen, timeout_s: float = 120) -> None:
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


class Server:
    """`tfbench leaderboard --store STORE` on a free loopback port, stopped by :meth:`stop`."""

    def __init__(self, store: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "tfbench.cli", "leaderboard", "--store", str(store),
                                         "--port", str(self.port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env={**os.environ, **(env or {})})
        wait_healthy(f"{self.url}/_stcore/health", self.process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(20)


def chrome(user_dir: Path):
    """A headless Chromium driven by selenium (skips when selenium is missing)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1600,1200",
                 f"--user-data-dir={tempfile.mkdtemp(dir=user_dir)}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


class Page:
    """A Chromium tab on the served app, with the few Streamlit interactions the tests need."""

    def __init__(self, driver, base: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.base, self.By, self.Wait = driver, base, By, WebDriverWait

    def open(self, path: str, title: str) -> None:
        self.driver.get(f"{self.base}/{path}")
        self.wait(lambda: any(h.text == title for h in self.all('[data-testid="stMainBlockContainer"] h1')),
                  f"page {title!r}")
        self.settle()

    def all(self, css: str) -> list:
        return self.driver.find_elements(self.By.CSS_SELECTOR, css)

    def wait(self, condition: Callable[[], object], what: str, timeout_s: float = 90) -> object:
        return self.Wait(self.driver, timeout_s, poll_frequency=0.25).until(lambda d: condition(), f"waiting for {what}")

    def settle(self) -> None:
        """Wait until the script run is over (Streamlit shows a running indicator while it runs)."""
        time.sleep(0.3)
        self.wait(lambda: not self.all('[data-testid="stStatusWidget"]'), "the script run to finish")

    def text(self) -> str:
        return self.driver.find_element(self.By.CSS_SELECTOR, "body").text

    def alerts(self) -> list[str]:
        return [a.text for a in self.all('[data-testid="stAlert"]')]

    def wait_alert(self, start: str, timeout_s: float = 120) -> str:
        found = self.wait(lambda: next((a for a in self.alerts() if a.startswith(start)), None), f"alert {start!r}",
                          timeout_s)
        return str(found)

    def upload(self, index: int, path: Path) -> None:
        css = '[data-testid="stFileUploaderDropzoneInput"]'
        self.wait(lambda: len(self.all(css)) > index, f"file uploader {index}")
        self.all(css)[index].send_keys(str(path))
        self.settle()

    def click(self, key: str) -> None:
        self.wait(lambda: self.all(f".st-key-{key} button"), f"button {key!r}")
        self.all(f".st-key-{key} button")[0].click()
        self.settle()

    def type(self, key: str, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        self.wait(lambda: self.all(f".st-key-{key} input"), f"input {key!r}")
        box = self.all(f".st-key-{key} input")[0]
        box.clear()
        box.send_keys(text + Keys.ENTER)
        self.settle()

    def tick(self, key: str) -> None:
        self.all(f".st-key-{key} label")[0].click()
        self.settle()

    def grid(self, index: int = 0) -> list[list[str]]:
        """Rows of a dataframe on the page (the first by default), as rendered cell texts."""
        css = '[data-testid="stDataFrame"]'
        self.wait(lambda: len(self.all(css)) > index and self.all(css)[index].find_elements(
            self.By.CSS_SELECTOR, '[role="gridcell"]'), "the table's cells")
        cells = self.all(css)[index].find_elements(self.By.CSS_SELECTOR, '[role="gridcell"]')
        rows: dict[str, list[str]] = {}
        for c in cells:
            rows.setdefault(c.find_element(self.By.XPATH, "..").get_attribute("aria-rowindex"), []).append(
                c.get_attribute("textContent"))
        return [rows[k] for k in sorted(rows, key=int)]

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path
