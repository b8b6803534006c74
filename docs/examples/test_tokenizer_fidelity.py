"""A regression test for your own tokenizer repository: text and face fidelity must not drop.

Copy this file into your tests (pytest), replace `load_my_tokenizer` with your model, and keep the
thresholds a little below what your released model scores (measure them once with the same call).
The metric models run on the CPU; the evaluation of `mini` at 256 takes well under a minute.
"""
import pytest

tfbench = pytest.importorskip("tfbench")
torch = pytest.importorskip("torch")


def load_my_tokenizer() -> "torch.nn.Module":
    """Your model: a torch module with encode(x) and decode(z) on (N, 3, H, W) tensors (here in [-1, 1])."""
    class Passthrough(torch.nn.Module):  # stand-in: replace with your tokenizer
        def encode(self, x):
            return x

        def decode(self, z):
            return z

    return Passthrough()


@pytest.fixture(scope="module")
def scores():
    # a pinned mini version: floors measured on it stay valid when a later tfbench makes a new mini the default
    results = tfbench.evaluate(load_my_tokenizer(), suite="mini-v2", resolutions=[256], value_range=(-1, 1))
    return results.scores()["256"]


# the stand-in passthrough scores T-ACC 0.861, T-NED 0.968, F-Sim 0.958 here (what resizing to 256 loses)
@pytest.mark.parametrize("metric,floor", [("t_acc", 0.85), ("t_ned", 0.96), ("f_sim", 0.95)])
def test_fidelity_does_not_drop(scores, metric, floor):
    assert scores[metric] >= floor, f"{metric} fell to {scores[metric]:.4f} (floor {floor})"
