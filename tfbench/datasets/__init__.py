"""Dataset importers: turn a dataset's own layout into tfbench suite manifests (``tfbench.suite/1``).

One module per source (``tokbench`` for the TokBench image sets, ``folder`` for a user's folder of
images with a simple JSON, ``tokbench_video`` for TokBench's video sets); the user-clip importer sits
beside them (:mod:`tfbench.datasets.clip`). Each importer validates its input with errors naming the
source file, the record and the field, records a sha256 per image or clip (``checksums``), counts
everything it drops, curates what can be scored (``curation``: words the scoring OCR misreads on the
original and faces without landmarks are kept, marked and not scored), and writes manifests that
:func:`tfbench.manifest.load_suite_file` reads.
"""
