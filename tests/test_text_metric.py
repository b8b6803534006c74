"""The text metric pinned: T-ACC / T-NED of one word, what the OCR recognizer receives (BGR crops, batches of
equal input width) and how readings map back to words (real RapidOCR recognizer, rendered word crops)."""
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tfbench.errors import UnknownNameError
from tfbench.metrics.text import (OCR_BACKENDS, OcrBackend, RapidOcrBackend, TextScorer, create_ocr_backend,
                                  normalized_edit_similarity, word_accuracy)
from tfbench.mini import package_file


def _word(text: str, size: int, colour=(20, 20, 30), background=(240, 235, 225)) -> np.ndarray:
    font = ImageFont.truetype(str(package_file("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf")), size)
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=font)
    img = Image.new("RGB", (x1 - x0 + 12, y1 - y0 + 12), background)
    ImageDraw.Draw(img).text((6 - x0, 6 - y0), text, font=font, fill=colour)
    return np.asarray(img)


def test_exact_match_scores_one_and_anything_else_less():
    assert word_accuracy("Hello", "Hello") == 1.0 and isinstance(word_accuracy("a", "a"), float)
    assert word_accuracy("Hello", "hello") == 0.0 and word_accuracy("Hello", "Hello ") == 0.0
    assert normalized_edit_similarity("Hello", "Hello") == 1.0
    assert normalized_edit_similarity("abc", "abd") == pytest.approx(2 / 3)
    assert normalized_edit_similarity("ab", "abcd") == 0.5 and normalized_edit_similarity("abcd", "ab") == 0.5
    assert normalized_edit_similarity("", "xyz") == 0.0 and normalized_edit_similarity("", "") == 1.0
    assert normalized_edit_similarity("a", "b") == 0.0


class Fixed(OcrBackend):
    """A recognizer that reads what it is told to (stands for any backend: the scorer must not care)."""

    name = "fixed"

    def __init__(self, readings):
        self.readings = readings

    def recognize(self, crops):
        return list(self.readings[:len(crops)])


def test_scorer_maps_each_reading_to_its_word():
    scores = TextScorer(Fixed(["STOP", "hallo", ""])).score([None] * 3, ["STOP", "Hello", "x"])
    assert scores == [{"pred": "STOP", "t_acc": 1.0, "t_ned": 1.0},
                      {"pred": "hallo", "t_acc": 0.0, "t_ned": pytest.approx(0.6)},
                      {"pred": "", "t_acc": 0.0, "t_ned": 0.0}]
    with pytest.raises(ValueError, match="2 crops for 1 transcriptions"):
        TextScorer(Fixed([])).score([None, None], ["a"])
    scorer = TextScorer(Fixed([]))
    assert scorer.describe() == {"backend": "fixed", "version": ""} and scorer.score([], []) == []
    assert [m.name for m in scorer.infos] == ["t_acc", "t_ned"]


class Spy:
    """Wraps the real recognizer stage and records every input it gets."""

    def __init__(self, rec):
        self.rec, self.calls = rec, []

    def __getattr__(self, name):
        return getattr(self.rec, name)

    def __call__(self, crops, batch_size=1):
        self.calls.append([np.array(img) for img in crops])
        return self.rec(crops, batch_size)


@pytest.fixture(scope="module")
def ocr():
    return RapidOcrBackend(threads=1)


def test_the_recognizer_gets_bgr_crops_and_reads_real_words(ocr):
    crops = [_word("Hello", 40, colour=(200, 20, 20), background=(20, 60, 230)), _word("STOP", 32),
             _word("Total amount due today", 24)]
    assert len({ocr.input_width(c) for c in crops}) == 2  # one call all the same: one crop at a time is not grouped
    spy = Spy(ocr._rec)
    ocr._rec = spy
    try:
        assert ocr.recognize(crops)[:2] == ["Hello", "STOP"]
    finally:
        ocr._rec = spy.rec
    sent = spy.calls[0]
    assert len(spy.calls) == 1 and len(sent) == 3  # batch_size 1: all crops in one call, padded one by one
    for got, crop in zip(sent, crops):
        assert np.array_equal(got, crop[..., ::-1]) and got.flags["C_CONTIGUOUS"]  # RGB -> BGR, contiguous
    assert ocr.recognize([]) == []
    assert ocr.version.startswith("rapidocr 3.10.0 PP-OCRv6") and ocr.name == "rapidocr"


def test_the_recognizer_runs_with_the_declared_threads_and_batch(ocr, monkeypatch):
    options = ocr._rec.session.get_session_options()
    assert (ocr.threads, ocr.batch_size, options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1, 1, 1)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    default = RapidOcrBackend()
    assert (default.threads, default.batch_size) == (2, 1)
    assert default._rec.session.get_session_options().intra_op_num_threads == 2
    assert RapidOcrBackend(threads=1, batch_size=5).batch_size == 5
    import sys

    monkeypatch.setitem(sys.modules, "rapidocr", None)  # as if the package were not installed
    from tfbench.errors import TfbenchError

    with pytest.raises(TfbenchError, match=r"^the rapidocr package is missing: pip install rapidocr==3.10.0$"):
        RapidOcrBackend()


def test_input_width_is_the_padded_recognizer_width(ocr):
    from tfbench.metrics.ppocr_rec import INPUT_SHAPE

    assert INPUT_SHAPE == (3, 48, 320)
    assert ocr.input_width(np.zeros((10, 100, 3))) == 480  # 48 * 100 / 10
    assert ocr.input_width(np.zeros((48, 20, 3))) == 320  # never narrower than the default 320
    assert ocr.input_width(np.zeros((24, 300, 3))) == 600
    assert ocr.input_width(np.zeros((0, 20, 3))) == 48 * 20  # an empty crop: its height counts as 1


def test_batches_group_crops_of_equal_input_width_and_keep_word_order(ocr):
    batched = RapidOcrBackend(threads=1, batch_size=3)
    texts = ["Cafe", "Total amount due today", "STOP", "Receipt number 4711 paid", "Total amount due today",
             "tiny", "Hello wide world of words"]
    crops = [_word(t, 24) for t in texts]
    widths = [batched.input_width(c) for c in crops]
    assert sorted(widths.count(w) for w in set(widths)) == [1, 1, 2, 3]  # 320 (short words) x3, a phrase twice
    reference = ocr.recognize(crops)  # one crop at a time
    assert len(set(reference)) == 6 and reference[0] == "Cafe" and reference[2] == "STOP"
    spy = Spy(batched._rec)
    batched._rec = spy
    assert batched.recognize(crops) == reference  # each reading lands on its own word
    assert sorted(len(c) for c in spy.calls) == [1, 1, 2, 3]  # one call per input width
    for call in spy.calls:
        assert len({batched.input_width(img) for img in call}) == 1
    assert sum(len(c) for c in spy.calls) == len(crops)
    two = RapidOcrBackend(threads=1, batch_size=2)  # any batch size above 1 groups
    spy2 = Spy(two._rec)
    two._rec = spy2
    assert two.recognize(crops) == reference and sorted(len(c) for c in spy2.calls) == [1, 1, 2, 3]


def test_the_scorer_builds_its_backend_by_name():
    assert TextScorer().backend.name == "rapidocr"  # the default
    scorer = TextScorer("rapidocr", threads=1, batch_size=4)
    assert isinstance(scorer.backend, RapidOcrBackend) and scorer.backend.batch_size == 4
    assert scorer.describe()["version"].startswith("rapidocr 3.10.0")


def test_backends_are_found_by_name_with_a_did_you_mean():
    assert list(OCR_BACKENDS)[:3] == ["rapidocr", "parseq", "paddleocr"]
    with pytest.raises(UnknownNameError, match="unknown OCR backend 'rapidoc'; did you mean 'rapidocr'"):
        create_ocr_backend("rapidoc")
    assert isinstance(create_ocr_backend(), RapidOcrBackend)  # the default
    assert create_ocr_backend("rapidocr", threads=1, batch_size=3).batch_size == 3
