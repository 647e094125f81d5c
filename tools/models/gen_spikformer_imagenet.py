#!/usr/bin/python3
"""Generate an ImageNet-shaped Spikformer-8-384 with random weights for
benchmarks (not committed: ~67 MB).

  input [1,3,128,128], T=4; SPS 3->48->96->192->384 with MaxPool(3,2,1) after
  every stage (8x8 = 64 tokens) + RPE; 8 blocks, dim 384, 12 heads, MLP ratio 4,
  Linear+BN1d q/k/v/proj/MLP (original ImageNet repo), ImageNet attention form
  q @ (k^T @ v) * 0.125; head Linear(384, 1000).  ~16.8 M parameters.
  BatchNorm statistics are recalibrated on smooth noise images and BN biases
  shifted so that each BN-fed LIF fires at ~5 % (2-10 % band; rates printed).

Usage: gen_spikformer_imagenet.py OUT.pt [--depths N] [--dim D] [--script]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from stc_snn import Spikformer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--depths", type=int, default=8)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--img-size", type=int, default=128)
    ap.add_argument("--script", action="store_true", help="torch.jit.script instead of trace")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target-rate", type=float, default=0.05)
    args = ap.parse_args()
    common.setup(args.seed)
    model = Spikformer(in_channels=3, num_classes=1000, embed_dims=args.dim, num_heads=args.heads,
                       mlp_ratios=4.0, depths=args.depths, T=4, attn_forms=["imagenet"] * args.depths,
                       pool_stages=(0, 1, 2, 3), linear=True)
    common.generate_random_model(model, args.out, (1, 3, args.img_size, args.img_size),
                                 args.target_rate, n_calib=4, seed=args.seed, script=args.script)


if __name__ == "__main__":
    main()
