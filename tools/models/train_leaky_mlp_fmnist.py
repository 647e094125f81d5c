#!/usr/bin/python3
"""leaky_mlp_fmnist: snnTorch-style Leaky MLP for Fashion-MNIST, 8 steps.

  input [B,1,28,28] (pixels/255) -> flatten(784); direct (current) input:
  cur1 = fc1(x) is fed to the first Leaky layer at every step
  784 -> Linear -> Leaky(beta=0.9) 256 -> Linear -> Leaky(beta=0.9) 10
  Leaky = snnTorch >= 0.7 semantics: threshold 1.0, subtract reset computed
  from the previous membrane, spike = (mem - threshold > 0), mem starts at 0.
  Output (logits) = mean over the 8 steps of the output-layer membrane.

Usage: train_leaky_mlp_fmnist.py [--epochs N] [--out-dir DIR]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from fixture_models import LeakyMLP  # noqa: E402

NAME = "leaky_mlp_fmnist"
T = 8
ARCH = dict(hidden=256, beta=0.9, num_steps=T)
DEFAULTS = dict(epochs=5, batch_size=128, lr=2e-3, weight_decay=0.0)


def build_model() -> LeakyMLP:
    return LeakyMLP(**ARCH)


if __name__ == "__main__":
    common.bundled_main(NAME, build_model, __doc__, T, DEFAULTS, ARCH, os.path.basename(__file__))
