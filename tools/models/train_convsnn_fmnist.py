#!/usr/bin/python3
"""convsnn_fmnist: small convolutional SNN for 28x28 Fashion-MNIST, T=4
(SpikingJelly multi-step style with SeqToANNContainer).

  input [B,1,28,28] (pixels/255), repeated over T inside the model
  Conv 1->16 3x3-BN-LIF -> MaxPool2d(2)        (16x14x14)
  Conv 16->32 3x3-BN-LIF -> AvgPool2d(2)       (32x7x7, averaged spikes)
  Flatten -> Linear 1568->10 (non-spiking readout) -> mean over T
  LIF: tau=2, v_th=1, hard reset to 0, detach_reset=True, shared Sigmoid surrogate.

Usage: train_convsnn_fmnist.py [--epochs N] [--out-dir DIR]
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from stc_snn import MultiStepLIFNode, SeqToANNContainer  # noqa: E402

NAME = "convsnn_fmnist"
T = 4
ARCH = dict(channels=[16, 32], T=T)
DEFAULTS = dict(epochs=2, batch_size=64, lr=3e-3, weight_decay=0.0)


class ConvSNN(nn.Module):
    def __init__(self, channels=(16, 32), T=4, num_classes=10):
        super().__init__()
        self.T = T
        c1, c2 = channels
        self.conv_fc = nn.Sequential(
            SeqToANNContainer(nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1)),
            MultiStepLIFNode(tau=2.0, detach_reset=True),
            SeqToANNContainer(nn.MaxPool2d(2, 2)),
            SeqToANNContainer(nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2)),
            MultiStepLIFNode(tau=2.0, detach_reset=True),
            SeqToANNContainer(nn.AvgPool2d(2, 2)),
            nn.Flatten(2),
            SeqToANNContainer(nn.Linear(c2 * 7 * 7, num_classes)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_seq = x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)  # [T, B, 1, 28, 28]
        return self.conv_fc(x_seq).mean(0)


def build_model() -> ConvSNN:
    return ConvSNN(**ARCH)


if __name__ == "__main__":
    common.bundled_main(NAME, build_model, __doc__, T, DEFAULTS, ARCH, os.path.basename(__file__))
