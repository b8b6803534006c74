"""Video suites: clip I/O (PyAV), the TokBench video resize protocol, video manifests, the `mini-video`
builder and the video stage of the run engine (chunks of frames through an adapter, scored per frame)."""
