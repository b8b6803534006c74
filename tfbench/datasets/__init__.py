"""Dataset importers: turn a dataset's own layout into tfbench suite manifests (``tfbench.suite/1``).

One module per source (``tokbench`` for the TokBench image sets, ``folder`` for a user's folder of
images with a simple JSON); a video importer sits beside them. Each importer validates its input
with errors naming the source file, the record and the field, records a sha256 per image, counts
everything it drops, and writes manifests that :func:`tfbench.manifest.load_suite_file` reads.
"""
