#!/usr/bin/python3
"""Generate a Spikformer-4-384 (CIFAR-10 shaped) model with random weights for
benchmarks (not committed: ~37 MB).

  input [1,3,32,32], T=4; SPS 3->48->96->192->384 with MaxPool(3,2,1) after
  stages 2 and 3 (8x8 = 64 tokens) + RPE; 4 blocks, dim 384, 12 heads, MLP
  ratio 4, Conv1d(k=1)+BN1d q/k/v/proj/MLP (CIFAR repo), CIFAR attention form;
  head Linear(384, 10).  ~9.3 M parameters.
  BatchNorm statistics are recalibrated on smooth noise images and BN biases
  shifted so that each BN-fed LIF fires at ~5 % (rates are printed).

Usage: gen_spikformer_4_384.py OUT.pt [--script] [--seed N]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from stc_snn import Spikformer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--script", action="store_true", help="torch.jit.script instead of trace")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target-rate", type=float, default=0.05)
    args = ap.parse_args()
    common.setup(args.seed)
    model = Spikformer(in_channels=3, num_classes=10, embed_dims=384, num_heads=12, mlp_ratios=4.0,
                       depths=4, T=4, attn_forms=["cifar"] * 4, pool_stages=(2, 3), linear=False)
    common.generate_random_model(model, args.out, (1, 3, 32, 32), args.target_rate,
                                 n_calib=8, seed=args.seed, script=args.script)


if __name__ == "__main__":
    main()
