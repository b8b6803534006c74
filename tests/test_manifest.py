import json

import pytest

from tfbench.errors import ManifestError
from tfbench.manifest import SCHEMA, load_suite_file


def _write(tmp_path, images, **top):
    data = {"schema": SCHEMA, "name": "t", "version": "1", "images": images, **top}
    p = tmp_path / "manifest.json"
    p.write_text(json.dumps(data))
    return p


GOOD = {"id": "a", "file": "a.png", "width": 100, "height": 50,
        "words": [{"text": "Hi", "box": [10, 10, 30, 20]}],
        "faces": [{"box": [40, 5, 80, 45], "landmarks": [[50, 20], [70, 20], [60, 30], [52, 38], [68, 38]]}]}


def test_valid_manifest_computes_tokbench_ratios(tmp_path):
    s = load_suite_file(_write(tmp_path, [GOOD]))
    w, f = s.images[0].words[0], s.images[0].faces[0]
    assert w.ratio == pytest.approx(20 / 2 / 100) and f.ratio == pytest.approx(40 / 100)
    assert s.root == tmp_path


@pytest.mark.parametrize("patch,where", [
    ({"words": [{"text": "", "box": [1, 1, 5, 5]}]}, r"images\[0\].words\[0\].text: empty or missing transcription"),
    ({"words": [{"text": "x", "box": [1, 1, 500, 5]}]}, r"images\[0\].words\[0\].box: box .* lies outside the 100x50 image"),
    ({"words": [{"text": "x", "box": [1, 1, 5]}]}, r"images\[0\].words\[0\].box: expected a list of 4 numbers"),
    ({"faces": [{"box": [1, 1, 5, 5]}]}, r"images\[0\].faces\[0\].landmarks: missing 5-point landmarks"),
    ({"width": 0}, r"images\[0\].width: expected a positive integer"),
    ({"file": "../x.png"}, r"images\[0\].file: .* must be relative"),
    ({"sha256": "abc"}, r"images\[0\].sha256: expected 64 hex"),
])
def test_errors_name_file_record_and_field(tmp_path, patch, where):
    p = _write(tmp_path, [{**GOOD, **patch}])
    with pytest.raises(ManifestError, match=where) as e:
        load_suite_file(p)
    assert str(p) in str(e.value)


def test_malformed_json_and_duplicates(tmp_path):
    p = tmp_path / "m.json"
    p.write_text('{"schema": "tfbench.suite/1", "images": [')
    with pytest.raises(ManifestError, match="malformed JSON at line 1"):
        load_suite_file(p)
    with pytest.raises(ManifestError, match=r"images\[1\].id: duplicate id 'a'"):
        load_suite_file(_write(tmp_path, [GOOD, GOOD]))
    with pytest.raises(ManifestError, match="manifest not found"):
        load_suite_file(tmp_path / "nope.json")
