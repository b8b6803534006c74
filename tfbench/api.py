"""`tfbench.evaluate`: text and face fidelity of a model from Python, on the same engine as `tfbench run`.

    import tfbench
    results = tfbench.evaluate(model, suite="mini", resolutions=[256], value_range=(-1, 1))
    print(results.scores())        # {256: {"t_acc": ..., "t_ned": ..., "f_sim": ...}}

``model`` is a :class:`tfbench.protocol.Adapter`, a ``torch.nn.Module`` with ``encode``/``decode``, or a
callable batch -> batch. The returned :class:`Results` is the list of the results.json objects the CLI
writes (one per resolution). Metric models and suites are loaded once per process, so evaluating every
N training steps costs the evaluation alone.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Sequence

from tfbench.errors import AdapterArgumentError, TfbenchError
from tfbench.protocol import Adapter

_loaded: dict[tuple, Any] = {}  # metric models and suites, loaded once per process


class Results(list):
    """The results.json of each resolution, in the order asked for (what `tfbench run --json` prints)."""

    def at(self, resolution: int | str) -> dict[str, Any]:
        for r in self:
            if r["suite"]["resolution"] == str(resolution):
                return r
        raise KeyError(f"no results at resolution {resolution!r}; have {[r['suite']['resolution'] for r in self]}")

    def scores(self, statistic: str = "mean") -> dict[str, dict[str, float | None]]:
        """The headline metrics (T-ACC, T-NED, F-Sim) per resolution: ``mean`` of bucket means (TokBench's
        number; None when a bucket is empty) or ``instance_mean`` (every scored instance alike; defined on a
        small suite that leaves a bucket empty)."""
        from tfbench.metrics.registry import metrics_for

        headline = metrics_for(headline=True, aggregation="bucket_mean")
        return {r["suite"]["resolution"]: {spec.key: spec.value(r, statistic) for spec in headline} for r in self}

    def table(self) -> str:
        from tfbench.report import text_table

        return text_table(self)


def as_adapter(model: Any, value_range: Any = None, *, name: str | None = None, batch_size: int | None = None,
               **options: Any) -> Adapter:
    """An :class:`Adapter` as is; a torch module with encode/decode or a callable wrapped, its range declared.

    ``options``: for a callable ``tensor`` ("numpy" or "torch"), ``layout`` ("nhwc" or "nchw"), ``device``;
    for a module ``bits_per_element``, ``codebook_size`` (its compression in results).
    """
    if isinstance(model, Adapter):
        if not model.spec:
            model.spec = name or type(model).__name__
        return model
    from tfbench.adapters.python_model import CallableAdapter, ModuleAdapter, is_torch_module

    if value_range is None:
        raise AdapterArgumentError("declare the value range your model takes and returns: value_range=(0, 1) or "
                                   "(-1, 1) (tfbench maps its [0, 1] images to it and checks the output against it)")
    label = name or getattr(model, "__name__", None) or type(model).__name__
    sized = {"batch_size": batch_size} if batch_size else {}
    if is_torch_module(model):
        return ModuleAdapter(model, value_range, name=label, **sized, **options)
    return CallableAdapter(model, value_range, name=label, **sized, **options)


def _once(key: tuple, make) -> Any:
    if key not in _loaded:
        _loaded[key] = make()
    return _loaded[key]


def evaluate(model: Any, suite: Any = "mini", resolutions: Sequence[int | str] = (256,), *, value_range: Any = None,
             name: str | None = None, out: str | Path | None = None, data_root: str | Path | None = None,
             ocr: str = "rapidocr", face: str = "sface", threads: int | None = None, batch_size: int | None = None,
             on_error: str = "stop", progress: bool = False, **options: Any) -> Results:
    """Evaluate ``model`` on ``suite`` at each resolution; returns the results (also written under ``out``).

    Without ``out`` the run goes to a fresh temporary folder (nothing is resumed, nothing is left behind);
    with ``out`` it is a normal run folder: records are kept and the same call resumes. A torch module is
    evaluated in eval mode (its previous mode is restored) without gradients.
    """
    from tfbench.engine import RunOptions, run_suite
    from tfbench.pipeline import Scorers
    from tfbench.suites import load_suite

    adapter = as_adapter(model, value_range, name=name, batch_size=batch_size, **options)
    loaded = suite if hasattr(suite, "modality") else _once(("suite", str(suite), str(data_root)),
                                                            lambda: load_suite(str(suite), data_root))
    scorers = _once(("scorers", ocr, face, threads), lambda: Scorers.create(ocr, face, threads))
    labels = [str(r) for r in resolutions]
    module = getattr(adapter, "module", None)
    training = getattr(module, "training", None)
    if training:
        module.eval()
    run = RunOptions(on_error=on_error, progress=progress, execution={"api": "tfbench.evaluate"})
    try:
        if out is None:
            with tempfile.TemporaryDirectory(prefix="tfbench-evaluate-") as tmp:
                try:
                    results = run_suite(loaded, [adapter], labels, scorers, Path(tmp), run)
                except TfbenchError as exc:  # nothing is kept in a temporary folder: say so, not "rerun to resume"
                    raise type(exc)(str(exc).split(". Records so far are kept")[0] +
                                    " (evaluated in a temporary folder: pass out=DIR to keep records and resume)") from exc
            for r in results:
                r.pop("_path", None)
        else:
            results = run_suite(loaded, [adapter], labels, scorers, Path(out), run)
    finally:
        if training:
            module.train(True)
    return Results(results)
