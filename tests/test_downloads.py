"""Downloads through a real HTTP server on the loopback interface: pinned checksums refuse corrupted files,
transient failures are retried, a stalled server times out per request, offline mode never connects, and no
process-wide socket timeout is set."""
from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
import time
import zipfile

import pytest

from tfbench.downloads import Pin, cached_download, download, file_sha256, git_blob_id
from tfbench.errors import MissingWeightsError

PAYLOAD = b"tfbench test weights\n" * 1000  # made-up bytes served by the test server


class Server:
    """A loopback HTTP server whose replies the test scripts: a list of (status, body) or "stall" per request."""

    def __init__(self, replies: list) -> None:
        self.replies, self.requests = list(replies), 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = server.replies[min(server.requests, len(server.replies) - 1)]
                server.requests += 1
                if reply == "stall":
                    time.sleep(3)
                    return
                status, body = reply
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/weights/model.pth"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def _online(monkeypatch):
    monkeypatch.delenv("TFBENCH_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("tfbench.downloads.time.sleep", lambda s: None)  # retries without the pauses


def test_checksums_of_a_file_are_what_git_and_sha256sum_say(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"hello\n")
    assert file_sha256(path) == hashlib.sha256(b"hello\n").hexdigest()
    assert git_blob_id(path) == "ce013625030ba8dba906f756967f9e9ca394464a"  # `git hash-object` of "hello\n"


def test_a_pinned_file_is_downloaded_checked_and_reused(tmp_path):
    target = tmp_path / "cache" / "model.pth"
    with Server([(200, PAYLOAD)]) as server:
        pin = Pin(server.url, sha256=hashlib.sha256(PAYLOAD).hexdigest(), size=len(PAYLOAD))
        assert socket.getdefaulttimeout() is None
        assert cached_download(pin, target, what="w", manual="m") == target
        assert cached_download(pin, target, what="w", manual="m") == target  # cached: no second request
        assert socket.getdefaulttimeout() is None
    assert target.read_bytes() == PAYLOAD and server.requests == 1
    assert list(target.parent.iterdir()) == [target]  # no temporary file left


def test_a_corrupted_download_is_refused_by_its_checksum_and_nothing_is_kept(tmp_path):
    corrupted = PAYLOAD[:-1] + b"X"
    target = tmp_path / "model.pth"
    with Server([(200, corrupted)]) as server:
        pin = Pin(server.url, sha256=hashlib.sha256(PAYLOAD).hexdigest())
        with pytest.raises(MissingWeightsError, match=rf"cannot download w from {server.url} \(4 attempts; last: "
                                                      rf"checksum mismatch: its sha256 is {hashlib.sha256(corrupted).hexdigest()}, "
                                                      rf"the pinned file's is {pin.sha256}\); put it there by hand"):
            download(pin, target, what="w", manual="put it there by hand")
    assert server.requests == 4 and not list(tmp_path.iterdir())


def test_a_git_blob_pin_refuses_other_bytes(tmp_path):
    good = tmp_path / "good"
    good.write_bytes(PAYLOAD)
    pin = Pin("http://x/f", git_blob=git_blob_id(good))
    assert pin.mismatch(good) is None
    good.write_bytes(PAYLOAD + b"\n")
    assert pin.mismatch(good).startswith("its git blob id is ")


def test_transient_server_errors_are_retried(tmp_path):
    with Server([(503, b"busy"), (500, b"oops"), (200, PAYLOAD)]) as server:
        pin = Pin(server.url, sha256=hashlib.sha256(PAYLOAD).hexdigest())
        download(pin, tmp_path / "m.pth", what="w", manual="m")
    assert server.requests == 3 and (tmp_path / "m.pth").read_bytes() == PAYLOAD


def test_a_stalled_server_times_out_per_request(tmp_path):
    with Server(["stall"]) as server:
        start = time.monotonic()
        with pytest.raises(MissingWeightsError, match=r"2 attempts; last: (ReadTimeout|ConnectionError)"):
            download(Pin(server.url), tmp_path / "m.pth", what="w", manual="m", retries=1, timeout=0.5)
        assert time.monotonic() - start < 3  # two half-second timeouts, not the server's 3 s stall each
    assert socket.getdefaulttimeout() is None


def test_a_damaged_cached_copy_is_replaced(tmp_path, capsys):
    target = tmp_path / "model.pth"
    target.write_bytes(b"truncated")
    with Server([(200, PAYLOAD)]) as server:
        cached_download(Pin(server.url, sha256=hashlib.sha256(PAYLOAD).hexdigest()), target, what="w", manual="m")
    assert target.read_bytes() == PAYLOAD
    assert "is not the pinned w (its sha256 is" in capsys.readouterr().err


def test_offline_mode_never_connects(tmp_path, monkeypatch):
    monkeypatch.setenv("TFBENCH_OFFLINE", "1")
    with Server([(200, PAYLOAD)]) as server:
        with pytest.raises(MissingWeightsError, match="offline mode .* is set; get it by hand"):
            download(Pin(server.url), tmp_path / "m.pth", what="w", manual="get it by hand")
        target = tmp_path / "bad.pth"
        target.write_bytes(b"x")
        with pytest.raises(MissingWeightsError, match=r"bad.pth is not the pinned w .* offline mode is set; delete it"):
            cached_download(Pin(server.url, sha256="0" * 64), target, what="w", manual="m")
    assert server.requests == 0


def test_tae_weights_come_from_a_pinned_commit_and_match_the_shared_copy(shared):
    from tfbench.adapters.taesd import PINS, SOURCE

    for part in ("encoder", "decoder"):
        pin = PINS[SOURCE.format(variant="taef2", part=part)]
        assert "/raw/main/" not in pin.url and pin.sha256 and pin.git_blob
        assert pin.mismatch(shared / "weights" / f"taef2_{part}.pth") is None
    assert len(PINS) == 12  # six variants, encoder and decoder each


def test_tae_url_download_is_checked_and_a_bad_file_never_reaches_torch(tmp_path, monkeypatch):
    from tfbench.adapters.torch_common import resolve_url_file  # needs no torch

    monkeypatch.setenv("TFBENCH_CACHE", str(tmp_path / "cache"))
    with Server([(200, b"not the weights")]) as server:
        pins = {server.url: Pin(server.url, sha256=hashlib.sha256(PAYLOAD).hexdigest())}
        with pytest.raises(MissingWeightsError, match="checksum mismatch"):
            resolve_url_file(server.url, "taesd", pins)
    assert not (tmp_path / "cache" / "weights" / "taesd" / "model.pth").exists()


def test_arcface_pack_is_downloaded_checked_and_unpacked(tmp_path, monkeypatch):
    """The antelopev2 path end to end with a small made-up pack served on the loopback interface."""
    from tfbench.metrics import face_arcface

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("antelopev2/glintr100.onnx", b"made-up model bytes")
    pack = buf.getvalue()
    monkeypatch.setenv("TFBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TFBENCH_ARCFACE_DIR", raising=False)
    with Server([(200, pack[:-3] + b"xyz"), (200, pack)]) as server:
        found = face_arcface.download_pack(Pin(server.url, sha256=hashlib.sha256(pack).hexdigest()))
    assert server.requests == 2  # the corrupted first reply was refused and fetched again
    assert found.read_bytes() == b"made-up model bytes" and found == face_arcface.find_recognition_model()
    assert not list(found.parents[2].glob("*.zip"))  # the archive is not kept


def test_a_zip_entry_outside_the_folder_is_not_unpacked(tmp_path):
    from tfbench.metrics.face_arcface import unpack

    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../outside.onnx", b"x")
    with pytest.raises(MissingWeightsError, match="points outside"):
        unpack(tmp_path / "evil.zip", tmp_path / "pack")
    assert not (tmp_path / "outside.onnx").exists()


def test_doctr_weights_are_named_and_pinned_as_doctr_checks_them():
    from tfbench.metrics.ocr_parseq import doctr_pin

    name, pin = doctr_pin("https://doctr-static.mindee.com/models?id=v0.6.0/parseq-56125471.pt&src=0")
    assert name == "parseq-56125471.pt" and pin.sha256_prefix == "56125471"
