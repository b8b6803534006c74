import math

import pytest

from tfbench.buckets import TEXT_EDGES, BucketMean, bucket_of, face_ratio, text_ratio


def test_half_open_edges_and_drop_below_first():
    e = TEXT_EDGES["256"]  # 0.02, 0.03, 0.04, 1
    assert bucket_of(0.0199, e) is None
    assert bucket_of(0.02, e) == 0 and bucket_of(0.0299, e) == 0
    assert bucket_of(0.03, e) == 1 and bucket_of(0.04, e) == 2
    assert bucket_of(0.999, e) == 2 and bucket_of(1.0, e) is None and bucket_of(1.5, e) is None  # as TokBench
    assert bucket_of(float("nan"), e) is None and bucket_of(float("inf"), e) is None and bucket_of(None, e) is None
    assert bucket_of(-0.5, e) is None


def test_edges_per_resolution_are_tokbenchs():
    from tfbench.buckets import FACE_EDGES, NATIVE_EDGES_FROM

    assert TEXT_EDGES == {"256": (0.02, 0.03, 0.04, 1.0), "512": (0.01, 0.02, 0.03, 1.0), "1024": (0.005, 0.01, 0.02, 1.0)}
    assert FACE_EDGES == {"256": (0.1, 0.2, 0.3, 1.0), "512": (0.05, 0.1, 0.2, 1.0), "1024": (0.02, 0.05, 0.1, 1.0)}
    assert NATIVE_EDGES_FROM == "1024"


def test_ratios_follow_tokbench_definitions():
    # a 5-character word whose box is 100 x 20 in a 1000-wide image: 100 / 5 / 1000
    assert text_ratio(100, 20, 5, 1000) == pytest.approx(0.02)
    assert text_ratio(20, 100, 2, 1000) == pytest.approx(0.05)  # vertical text: the longer side
    assert face_ratio(80, 120, 400) == pytest.approx(0.3)
    assert face_ratio(120, 80, 400) == pytest.approx(0.3)


def test_one_character_words_use_their_own_size():
    assert text_ratio(30, 20, 1, 1000) == 0.03  # "A": one character of 30 px in a 1000-wide image
    assert text_ratio(20, 30, 1, 1000) == 0.03
    assert text_ratio(30, 20, 0, 1000) == 0.03  # an empty transcription counts as one character, never / 0
    assert bucket_of(text_ratio(30, 20, 1, 1000), TEXT_EDGES["256"]) == 1


def test_mean_of_bucket_means_not_instance_mean():
    m = BucketMean(TEXT_EDGES["256"])
    for v in (1, 1, 1, 0):  # small: 0.75
        m.update(v, 0.025)
    m.update(0, 0.035)  # medium: 0.0
    assert m.update(1, 0.5)  # large: 1.0
    assert not m.update(1, 0.001)  # below the first edge: dropped
    out = m.compute()
    assert out == {"small": 0.75, "medium": 0.0, "large": 1.0, "mean": 1.75 / 3, "instance_mean": 4 / 6}
    assert m.count_dict() == {"small": 4, "medium": 1, "large": 1}


def test_merge_equals_single_pass_and_an_empty_bucket_leaves_the_mean_undefined():
    a, b, whole = BucketMean((0, 1, 2, 3)), BucketMean((0, 1, 2, 3)), BucketMean((0, 1, 2, 3))
    for i, (v, r) in enumerate([(1, 0.5), (0, 0.7), (1, 2.5), (0.5, 2.9)]):
        (a if i % 2 else b).update(v, r)
        whole.update(v, r)
    merged = a.merge(b)
    assert merged.compute() == whole.compute() and merged.edges == (0, 1, 2, 3)
    assert merged.update(1.0, 1.5) and merged.count_dict() == {"small": 2, "medium": 1, "large": 2}
    # TokBench's rule: no medium instance -> no medium mean -> no mean of bucket means; the instance mean stays
    assert whole.compute() == {"small": 0.5, "medium": None, "large": 0.75, "mean": None, "instance_mean": 2.5 / 4}
    assert BucketMean((0, 1, 2, 3)).compute() == dict.fromkeys(("small", "medium", "large", "mean", "instance_mean"))
    with pytest.raises(ValueError, match="cannot merge"):
        a.merge(BucketMean((0, 1, 2, 4)))
    many = BucketMean((0, 1, 2, 3))
    many.update_many([(1.0, 0.5), (0.0, 1.5), (0.5, 3.0)])
    assert many.count_dict() == {"small": 1, "medium": 1, "large": 0} and many.counts == [1, 1, 0]


def test_sums_are_exactly_rounded_so_order_never_changes_a_digit():
    values = [0.1, 0.7, 1 / 3, 0.2, 2 / 7, 0.9, 1 / 9, 0.3, 0.6, 0.05] * 5
    fwd, rev = BucketMean((0, 1, 2, 3)), BucketMean((0, 1, 2, 3))
    for v in values:
        fwd.update(v, 0.5)
    for v in reversed(values):
        rev.update(v, 0.5)
    assert fwd.compute() == rev.compute()
    assert fwd.compute()["small"] == math.fsum(values) / len(values)
    assert sum(values) != sum(reversed(values))  # plain float sums would differ in the last digit
