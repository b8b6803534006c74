"""Texts of the About page (kept out of the page so they can be tested and reused by the README)."""
from __future__ import annotations

from tfbench.leaderboard.columns import metric_columns, value_range

PROTOCOL = """\
tfbench follows the TokBench protocol (Wu et al. 2025): every image of a suite is resized to the protocol
resolution (256, 512 or 1024 pixels on its long side, padded to a square; video 256 or 480), encoded and
decoded by the tokenizer, VAE or codec under test, and mapped back to the original size. Each ground-truth
word is cropped from the reconstruction and read by an OCR model; each ground-truth face is aligned with
its landmarks in the original and in the reconstruction and embedded by a face-recognition model.
Instances are grouped by scale into small, medium and large buckets (edges per resolution below);
each metric is averaged per bucket, and the headline number is the mean of the three bucket means. As in
TokBench, that mean is undefined when a bucket holds no instance of the suite at that resolution: it reads
— with the reason (which bucket, the counts, the mean over all instances), and a row whose ranking mean
is undefined gets no rank and is listed after the ranked rows.

**Ranks are comparable by construction**: the table shows one suite (name, version, manifest checksum),
one resolution and one backend set at a time. A row is ranked only when it is *verified*: every bucket and
mean was recomputed from its per-instance records with tfbench's own aggregation (the code of
`tfbench score`), its records cover the whole suite with the suite's ground truth, and (for submissions)
a random sample of its reconstruction crops was read again by the declared OCR and face models. Rows are
never overwritten: a new result for the same adapter, suite, resolution and backends becomes a new version,
and the model page keeps every version and its crops.
"""

SUBMIT = """\
1. Run the suite with crops kept: `tfbench run --suite SUITE -a YOUR_ADAPTER -r 256 --keep-crops --out runs/`.
2. Zip the run folder's `records.jsonl` and `crops/`: `cd runs/SUITE/ADAPTER@256 && zip -r ../run.zip records.jsonl crops`.
3. Upload `results.json` (at most {results_limit}) and the zip (at most {zip_limit}) on the Submit page, or from
   a script or CI: `tfbench leaderboard submit results.json --bundle run.zip --store STORE` (the same checks).
4. A maintainer approves it: its numbers are recomputed from the records and at least {sample} crops are read
   again. A submission without the zip can only be listed as unverified (never ranked).
"""

BIBTEX = """\
@article{{wu2025tokbench,
  title   = {{TokBench: Evaluating Your Visual Tokenizer before Visual Generation}},
  author  = {{Wu, Junfeng and Luo, Dongliang and Zhao, Weizhi and Xie, Zhihao and Wang, Yuanhao and
             Li, Junyi and Xie, Xudong and Liu, Yuliang and Bai, Xiang}},
  journal = {{arXiv preprint arXiv:2505.18142}},
  year    = {{2025}}
}}

@software{{tfbench,
  title   = {{tfbench: text and face fidelity benchmark for visual tokenizers, VAEs and codecs}},
  author  = {{{{The tfbench developers}}}},
  version = {{{version}}},
  note    = {{Implements the TokBench protocol (Wu et al. 2025)}}
}}
"""


def metric_rows() -> list[dict[str, str]]:
    """One row per board metric: column, what it measures, range, direction (read from the metric registry)."""
    return [{"column": c.label, "measures": c.info.description, "range": value_range(c.info),
             "better": "lower" if c.info.lower_better else "higher"} for c in metric_columns()]
