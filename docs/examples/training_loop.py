"""Text and face fidelity every N training steps, with `tfbench.evaluate` (runs on a CPU in minutes).

    python docs/examples/training_loop.py --steps 40 --every 20

A tiny convolutional autoencoder learns to reconstruct crops of the `mini` suite's own images (a toy
training set); every `--every` steps it is evaluated on the `mini` suite at 256 (T-ACC, T-NED, F-Sim)
and the scores are printed next to the loss. In your own loop, replace the model, the data and the
optimiser; keep the callback.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import tfbench


class TinyAutoencoder(torch.nn.Module):
    """Images in [-1, 1] -> 16-channel latent at 1/4 size -> images in [-1, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(),
                                           torch.nn.Conv2d(32, 16, 4, stride=4))
        self.decoder = torch.nn.Sequential(torch.nn.ConvTranspose2d(16, 32, 4, stride=4), torch.nn.ReLU(),
                                           torch.nn.Conv2d(32, 3, 3, padding=1), torch.nn.Tanh())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


def training_crops(suite: str, data_root: str | None = None, n: int = 256, size: int = 64, seed: int = 0) -> torch.Tensor:
    """Random crops of the suite's images, as a (n, 3, size, size) tensor in [-1, 1]."""
    from tfbench.images import load_rgb
    from tfbench.suites import load_suite

    loaded = load_suite(suite, data_root)
    rng = np.random.default_rng(seed)
    images = [load_rgb(loaded.path_of(r)) for r in loaded.images]
    crops = []
    for _ in range(n):
        img = images[rng.integers(len(images))]
        y, x = rng.integers(img.shape[0] - size), rng.integers(img.shape[1] - size)
        crops.append(img[y:y + size, x:x + size])
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 127.5 - 1


def evaluation_callback(model: torch.nn.Module, step: int, suite: str, data_root: str | None = None) -> dict:
    """What to call every N steps: tfbench puts the model in eval mode and restores training mode."""
    results = tfbench.evaluate(model, suite=suite, data_root=data_root, resolutions=[256], value_range=(-1, 1),
                               name=f"tiny-ae-step{step}")
    return results.scores("instance_mean")["256"]  # defined on any suite (a bucket mean needs every bucket filled)


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--suite", default="mini", help="suite name or manifest path to evaluate on")
    p.add_argument("--data-root", default=None, help="folder the suite's image paths are relative to")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    model = TinyAutoencoder()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    data = training_crops(args.suite, args.data_root)
    history = []
    for step in range(1, args.steps + 1):
        batch = data[torch.randint(len(data), (16,))]
        loss = torch.nn.functional.mse_loss(model.decode(model.encode(batch)), batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % args.every == 0:
            scores = evaluation_callback(model, step, args.suite, args.data_root)
            history.append({"step": step, "loss": loss.item(), **scores})
            print(f"step {step}: loss {loss.item():.4f}  T-ACC {scores['t_acc']:.3f}  T-NED {scores['t_ned']:.3f}  "
                  f"F-Sim {scores['f_sim']:.3f}", flush=True)
    return history


if __name__ == "__main__":
    main()
