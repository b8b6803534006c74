"""Headless Chromium on the real served app (`tfbench leaderboard`, one server and one browser for the module).

The store starts with `mini-lb` registered, three verified runs and the paper rows; the server has a
maintainer secret configured (its page is locked until it is entered). Each test submits through the
Submit page and decides on the Maintainer page as a person would. Screenshots: test-artifacts/*.png.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.leaderboard.browser import ARTIFACTS, Page, Server, chrome, needs_browser
from tests.leaderboard.conftest import improved_copy, registered_store, rewrite_run, run_folder, zip_run
from tests.leaderboard.test_verification import _forge_readings
from tfbench.leaderboard.importing import import_run
from tfbench.leaderboard.reference import PAPER_GROUP, import_reference
from tfbench.leaderboard.schema import row_key
from tfbench.leaderboard.store import Store

pytestmark = needs_browser
SECRET = "browser-test-secret"
NOTE = "private note 555-0199 for the maintainer"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, run_root: Path) -> Path:
    """Everything the tests upload: results.json files and zips (real, edited, forged, improved, oversized)."""
    root = tmp_path_factory.mktemp("uploads")
    for name, (spec, res) in {"webp": ("webp:quality=30", "256"), "q5": ("jpeg:quality=5", "256")}.items():
        folder = run_folder(run_root, spec, res)
        shutil.copy(folder / "results.json", root / f"{name}.json")
        (root / f"{name}.zip").write_bytes(zip_run(folder))
    edited = json.loads((root / "q5.json").read_text())
    edited["metrics"]["text"]["t_acc"]["mean"] = 1.0
    (root / "edited.json").write_text(json.dumps(edited))
    forged = rewrite_run(run_folder(run_root, "jpeg:quality=5", "512"), root / "forged-run", _forge_readings)
    shutil.copy(forged / "results.json", root / "forged.json")
    (root / "forged.zip").write_bytes(zip_run(forged))
    better = improved_copy(run_folder(run_root, "jpeg:quality=5", "256"), root / "better-run")
    shutil.copy(better / "results.json", root / "better.json")
    (root / "better.zip").write_bytes(zip_run(better))
    with open(root / "big.zip", "wb") as f:  # one byte over the 64 MB limit
        f.truncate(64 * 2**20 + 1)
    return root


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory, lb_suite, run_root: Path) -> Path:
    path = registered_store(tmp_path_factory.mktemp("browser-store") / "board.sqlite", lb_suite)
    with Store(path) as store:
        for spec, res in (("identity", "256"), ("jpeg:quality=5", "256"), ("jpeg:quality=5", "512")):
            import_run(store, run_folder(run_root, spec, res) / "results.json")
        import_reference(store)
    return path


@pytest.fixture(scope="module")
def page(board: Path, tmp_path_factory: pytest.TempPathFactory):
    server = Server(board, {"TFBENCH_LEADERBOARD_MAINTAINER_SECRET": SECRET})
    driver = None
    try:
        driver = chrome(tmp_path_factory.mktemp("chrome"))
        yield Page(driver, server.url)
    finally:
        if driver is not None:
            driver.quit()
        server.stop()


def submit(page: Page, results: Path, bundle: Path | None, note: str = "") -> str:
    page.open("submit", "Submit results")
    page.upload(0, results)
    if bundle is not None:
        page.upload(1, bundle)
    else:
        page.tick("results_only")
    if note:
        page.type("note", note)
    page.click("submit")
    return page.wait_alert("")


def pending_id(board: Path, **suite_or_spec: str) -> int:
    """The id of the one pending submission whose results match (spec=..., resolution=...)."""
    with Store(board) as store:
        rows = [(r["id"], json.loads(r["results"])) for r in
                store.db.execute("SELECT id, results FROM submissions WHERE status = 'pending'")]
    [sid] = [i for i, data in rows if all(str({**data["suite"], "spec": data["adapter"]["spec"]}[k]) == v
                                          for k, v in suite_or_spec.items())]
    return sid


def unlock(page: Page) -> None:
    page.open("maintainer", "Maintainer")
    page.type("maintainer_entry", SECRET)
    page.click("unlock")
    # the unlocked page replaces the Unlock button; until the rerun is drawn, stale elements of both can show
    page.wait(lambda: "Pending submissions" in page.text() and not page.all(".st-key-unlock button"),
              "the unlocked queue")
    page.settle()


def decide(page: Page, sid: int, outcome: str, unlocked: bool = False) -> str:
    """Unlock the Maintainer page, press Approve on submission ``sid``; the alert starting with ``outcome``."""
    if not unlocked:
        unlock(page)
    page.click(f"approve_{sid}")
    return page.wait_alert(f"{outcome} #{sid}", timeout_s=180)


def ranked_rows(page: Page) -> list[list[str]]:
    page.open("", "tfbench leaderboard")
    return page.grid()


def test_a_verified_submission_is_accepted_then_ranked(page: Page, board: Path, files: Path) -> None:
    assert submit(page, files / "webp.json", files / "webp.zip", NOTE) == (
        "Accepted as submission #1; it is pending a maintainer's approval.")
    page.shot("browser-submit-accepted")
    assert NOTE not in page.text()
    unlock(page)
    page.wait(lambda: NOTE in page.text(), "the note, which the maintainer sees")
    message = decide(page, pending_id(board, spec="webp:quality=30"), "Approved", unlocked=True)
    assert message.startswith("Approved #1: added row #") and message.endswith("(version 1, verified)")
    page.shot("browser-maintainer-approved")
    rows = ranked_rows(page)
    assert [r[:2] for r in rows] == [["1", "identity"], ["1", "webp:quality=30"], ["3", "jpeg:quality=5"]]
    page.shot("browser-leaderboard")


def test_an_edited_number_is_refused_at_approval(page: Page, board: Path, files: Path) -> None:
    assert submit(page, files / "edited.json", files / "q5.zip").startswith("Accepted as submission #")
    sid = pending_id(board, spec="jpeg:quality=5", resolution="256")
    with Store(board) as store:
        before = store.fingerprint()
    message = decide(page, sid, "Refused")
    assert "metrics.text.t_acc.mean: results.json says 1.0, but its records give 0.2777777777777778 " in message
    page.shot("browser-refused-edited-number")
    with Store(board) as store:
        assert store.fingerprint() == before  # refused: nothing changed, the submission still waits
    page.type(f"reason_{sid}", "T-ACC edited by hand")
    page.click(f"reject_{sid}")
    page.wait_alert(f"Rejected #{sid}")


def test_forged_crop_readings_are_refused(page: Page, board: Path, files: Path) -> None:
    assert submit(page, files / "forged.json", files / "forged.zip").startswith("Accepted as submission #")
    with Store(board) as store:
        before = store.fingerprint()
    message = decide(page, pending_id(board, spec="jpeg:quality=5", resolution="512"), "Refused")
    assert "but rapidocr reads the submitted reconstruction crop as" in message
    page.shot("browser-refused-forged-readings")
    with Store(board) as store:
        assert store.fingerprint() == before


def test_a_resubmission_becomes_version_2_and_version_1_keeps_its_crops(page: Page, board: Path, files: Path) -> None:
    assert submit(page, files / "better.json", files / "better.zip").startswith("Accepted as submission #")
    sid = pending_id(board, spec="jpeg:quality=5", resolution="256")
    unlock(page)
    assert "-> version 2, verified row" in page.text() and "T-ACC: 0.2778 -> 1.0000 (+0.7222)" in page.text()
    page.click(f"approve_{sid}")
    assert page.wait_alert(f"Approved #{sid}", timeout_s=180).endswith("(version 2, verified)")
    with Store(board) as store:
        [v2] = [r for r in store.results(latest=True) if r["adapter"]["spec"] == "jpeg:quality=5"
                and r["suite"]["resolution"] == "256"]
        v1, again = store.history(row_key(v2))
        assert (v1["_row"]["version"], again["_row"]["id"]) == (1, v2["_row"]["id"])
        v1_crops = store.instances(v1["_row"]["id"], with_crops=True)
        assert len(v1_crops) == v1["_row"]["n_crops"] > 0
    page.open(f"model?id={v2['_row']['id']}", "Model")
    page.wait(lambda: "History (2 versions)" in page.text(), "the history")
    assert "T-ACC: 0.2778 -> 1.0000 (+0.7222)" in page.text()
    page.shot("browser-model-history")
    page.open("crops", "Crops viewer")  # opens on the row with the most misreads: version 1 and its crops
    page.wait(lambda: f"v1 verified) #{v1['_row']['id']}" in page.text(), "version 1 in the crops viewer")
    # the viewer shows up to 12 pairs, worst first; the row has 11 scored words, so all 11 pairs
    page.wait(lambda: len(page.all('[data-testid="stImage"] img')) >= 22, "11 crop pairs")
    assert len(page.all('[data-testid="stImage"] img')) == 22
    page.shot("browser-crops-version-1")


def test_a_double_click_gives_one_pending_entry(page: Page, board: Path, files: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    page.open("submit", "Submit results")
    page.upload(0, files / "q5.json")
    page.tick("results_only")
    button = page.all(".st-key-submit button")[0]
    ActionChains(page.driver).double_click(button).perform()
    page.settle()
    page.wait_alert("")
    with Store(board) as store:
        rows = store.db.execute("SELECT COUNT(*) FROM submissions WHERE results = ? AND bundle IS NULL",
                                (json.dumps(json.loads((files / "q5.json").read_text()), ensure_ascii=False),)
                                ).fetchone()[0]
    assert rows == 1


def test_an_oversized_zip_refuses_the_submission_with_a_visible_message(page: Page, board: Path, files: Path) -> None:
    with Store(board) as store:
        before = store.fingerprint()
    page.open("submit", "Submit results")
    limits = [e.text for e in page.all('[data-testid="stFileUploaderDropzoneInstructions"]')]
    assert [x.split("\n")[-1] for x in limits] == ["2MB per file • JSON", "64MB per file • ZIP"]
    assert "(at most 2 MB (2,097,152 bytes))" in page.text() and "(at most 64 MB (67,108,864 bytes))" in page.text()
    page.upload(0, files / "webp.json")
    page.upload(1, files / "big.zip")
    page.wait(lambda: "File must be 64.0MB or smaller." in page.text(), "the widget's size error")
    page.click("submit")
    message = page.wait_alert("Refused")
    assert message.startswith("Refused: no records zip was received (none attached, or it is larger than the 64 MB "
                              "(67,108,864 bytes) limit and the browser refused it)")
    page.shot("browser-oversized-zip")
    with Store(board) as store:
        assert store.fingerprint() == before


def test_public_pages_show_no_queue_notes_or_server_paths(page: Page, board: Path) -> None:
    for path, title in (("", "tfbench leaderboard"), ("model", "Model"), ("compression", "Compression"),
                        ("crops", "Crops viewer"), ("submit", "Submit results"), ("about", "About this leaderboard"),
                        ("maintainer", "Maintainer")):
        page.open(path, title)
        source = page.driver.page_source
        assert NOTE not in source and str(board) not in source and str(board.parent) not in source, path
        assert "Pending submissions" not in page.text(), path
    assert page.all('input[type="password"]')  # the maintainer page asks for the secret first
    page.shot("browser-maintainer-locked")


def test_paper_rows_are_their_own_group(page: Page) -> None:
    page.open("", "tfbench leaderboard")
    page.wait(lambda: f"Published: {PAPER_GROUP}" in page.text(), "the published group")
    grids = page.all('[data-testid="stDataFrame"]')
    assert len(grids) == 2
    published = grids[1].get_attribute("textContent")
    assert "Resize" in published and "FLUX.1-dev f8 (cont)" in published
    assert "Resize" not in grids[0].get_attribute("textContent")  # never ranked with the measured rows
    page.driver.execute_script("arguments[0].scrollIntoView();", grids[1])
    page.shot("browser-paper-rows")
    assert (ARTIFACTS / "browser-paper-rows.png").stat().st_size > 10_000
