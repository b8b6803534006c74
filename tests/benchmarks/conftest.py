"""Real inputs for the benchmarks (mini's word crops and faces). Benchmarks only run with --benchmark-only:

    python -m pytest tests/benchmarks --benchmark-only --benchmark-json bench.json
"""
import pytest

from tfbench.perf import face_inputs, word_crops


@pytest.fixture(scope="session")
def crops(mini):
    """mini's 150 word crops as the OCR sees them at native resolution, with transcriptions."""
    return word_crops(mini, ("native",))


@pytest.fixture(scope="session")
def faces(mini):
    return face_inputs(mini)
