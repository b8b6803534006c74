"""Scoring several images at once: results in order, failures where a serial loop meets them, same records."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tfbench.engine import RunOptions, run_suite
from tfbench.engine.overlap import OrderedPool
from tfbench.scorers import Scorers, scoring_plan
from tfbench.registry import create_adapter
from tests.small_suites import mini_subset


def test_results_come_back_in_submission_order_when_a_later_item_finishes_first():
    first_may_finish = threading.Event()

    def work(i: int) -> int:
        if i == 0:
            assert first_may_finish.wait(10)
        if i == 1:
            first_may_finish.set()  # item 1 is done while item 0 still waits
        return i * 10

    got = []
    with OrderedPool(2, ahead=4) as pool:
        for i in range(6):
            got += pool.submit(work, i)
        got += list(pool.drain())
    assert got == [(i, i * 10) for i in range(6)]


def test_a_failure_is_raised_after_every_earlier_result_and_nothing_later_is_handed_back():
    def work(i: int) -> int:
        if i == 3:
            raise ValueError("item 3")
        return i

    got = []
    with pytest.raises(ValueError, match="item 3"), OrderedPool(2, ahead=2) as pool:
        for i in range(8):
            got += pool.submit(work, i)
        got += list(pool.drain())
    assert got == [(0, 0), (1, 1), (2, 2)]


def test_one_worker_runs_in_the_callers_thread():
    pool = OrderedPool(1)
    assert pool.submit(lambda _: threading.current_thread().name, 0) == [(0, threading.current_thread().name)]
    pool.close()


def test_the_default_backends_score_two_images_at_once_with_one_thread_per_model_call():
    assert scoring_plan("rapidocr", "sface", 2) == (2, 1)
    assert scoring_plan("rapidocr", "sface", 1) == (1, 1)
    assert scoring_plan("rapidocr", "dlib", 2) == (1, 2)  # dlib does not declare concurrent calls


@pytest.fixture(scope="module")
def six(mini_v1, tmp_path_factory):
    return mini_subset(mini_v1, tmp_path_factory.mktemp("six"), ("text_00", "text_01", "text_02", "face_00",
                                                                 "face_01", "face_02"), "six")


def test_two_scoring_workers_write_exactly_the_records_of_one(six, tmp_path):
    """Same lines, same order, same floats: each model call is single-threaded either way."""
    adapters = [create_adapter("identity"), create_adapter("jpeg:quality=30")]
    one, two = Scorers.create(threads=1), Scorers.create(threads=2)
    assert (one.workers, two.workers) == (1, 2)
    a = run_suite(six, adapters, ["256"], one, tmp_path / "one", RunOptions())
    b = run_suite(six, adapters, ["256"], two, tmp_path / "two", RunOptions())
    for ra, rb in zip(a, b):
        assert ra["metrics"] == rb["metrics"]
        assert Path(ra["_path"]).with_name("records.jsonl").read_bytes() == \
            Path(rb["_path"]).with_name("records.jsonl").read_bytes()
