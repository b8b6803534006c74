"""Video I/O (PyAV) and the TokBench video protocol helpers, on real encoded clips."""
import numpy as np
import pytest

from tfbench.errors import TfbenchError
from tfbench.video.io import VideoLoadError, iter_frames, probe, write_video
from tfbench.video.resize import (canvas_to_frame, chunk_length, frame_to_canvas, frames_for_rule, pad_frames,
                                  parse_frame_rule, parse_video_resolution, plan_video)


def _ramp(t: int, h: int = 48, w: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([np.stack([(xx * 4 + 10 * k) % 256, (yy * 5) % 256, np.full_like(xx, 20 * k)], -1)
                     for k in range(t)]).astype(np.uint8)


def test_write_probe_and_stream_frames(tmp_path):
    frames = _ramp(7)
    path = tmp_path / "c.mp4"
    assert write_video(path, iter(frames), fps=25, options={"crf": "0", "preset": "ultrafast"}) == 7
    info = probe(path)
    assert (info.width, info.height, info.frames, info.fps, info.codec) == (64, 48, 7, 25.0, "h264")
    got = list(iter_frames(path))
    assert len(got) == 7 and got[0].dtype == np.uint8 and got[0].shape == (48, 64, 3)
    # crf 0 is lossless in YUV; the RGB->YUV420->RGB round trip stays within a few levels
    assert max(np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(got, frames)) < 6
    sub = list(iter_frames(path, 2, 5))
    assert len(sub) == 3 and np.array_equal(sub[0], got[2]) and np.array_equal(sub[2], got[4])


def test_unreadable_and_missing_clips_raise_one_clear_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 500)
    with pytest.raises(VideoLoadError, match="broken.mp4.*corrupt or not a video"):
        probe(bad)
    with pytest.raises(VideoLoadError, match="video not found"):
        list(iter_frames(tmp_path / "nope.mp4"))
    with pytest.raises(TfbenchError, match="even width and height"):
        write_video(tmp_path / "odd.mp4", iter(_ramp(2, 47, 64)))


def test_frame_rules_and_chunks():
    assert parse_frame_rule("4n+1") == (4, 1) and parse_frame_rule(None) == (1, 0) and parse_frame_rule("8n") == (8, 0)
    assert [frames_for_rule(n, "4n+1") for n in (1, 2, 5, 6, 9, 10)] == [1, 5, 5, 9, 9, 13]
    assert [frames_for_rule(n, "8n+1") for n in (1, 2, 9, 16, 17)] == [1, 9, 9, 17, 17]
    assert frames_for_rule(7, None) == 7
    assert chunk_length("4n+1", 33) == 33 and chunk_length("8n+1", 20) == 17 and chunk_length(None, 32) == 32
    with pytest.raises(TfbenchError, match="kn\\+r"):
        parse_frame_rule("4k+1")
    clip = np.arange(3 * 2 * 2 * 3, dtype=np.float32).reshape(3, 2, 2, 3)
    padded = pad_frames(clip, 5)
    assert padded.shape[0] == 5 and np.array_equal(padded[3], clip[2]) and np.array_equal(padded[4], clip[2])


def test_video_protocol_short_side_and_padding():
    p = plan_video(1920, 1080, 256)
    assert (p.new_w, p.new_h, p.canvas_w, p.canvas_h) == (455, 256, 480, 256)
    p = plan_video(1920, 1080, 480)
    assert (p.new_w, p.new_h, p.canvas_w, p.canvas_h) == (853, 480, 864, 480)
    p = plan_video(720, 1280, 256)  # portrait: short side is the width
    assert (p.new_w, p.new_h, p.canvas_w, p.canvas_h) == (256, 455, 256, 480)
    frame = _ramp(1, 270, 480)[0]
    p = plan_video(480, 270, 256)
    canvas = frame_to_canvas(frame, p)
    assert canvas.shape == (256, 480, 3) and p.new_h == 256 and canvas[:, p.new_w:].sum() == 0 and canvas[:, :p.new_w].mean() > 50
    back = canvas_to_frame(canvas, p)
    assert back.shape == frame.shape and np.abs(back.astype(int) - frame.astype(int)).mean() < 8
    with pytest.raises(TfbenchError, match="256 or 480"):
        parse_video_resolution("512")
