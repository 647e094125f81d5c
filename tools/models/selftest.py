#!/usr/bin/python3
"""Self-test of tools/models/stc_snn.py (fast, CPU, a few seconds):

* neuron forward == straight-from-the-spec reference loops, bit-exact
  (SpikingJelly LIF/IF all charge/reset variants, snnTorch Leaky), including
  inputs constructed to hit the threshold exactly;
* eager == torch.jit.trace == torch.jit.script (after save/load), bit-exact;
* the fused training path gives the same spikes and the same gradients as
  plain autograd through the step-by-step graph;
* spike_matmul's grouped-conv training path == a @ b (values and grads).
"""
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402,F401  (sets GOMP_SPINCOUNT before torch is used)
import torch  # noqa: E402

from stc_snn import (Leaky, MultiStepIFNode, MultiStepLIFNode, StatefulLIFNode,  # noqa: E402
                     _SigmoidSpike, spike_matmul)


def ref_lif(x_seq, tau=2.0, v_th=1.0, v_reset=0.0, decay_input=True, if_node=False):
    v = torch.full_like(x_seq[0], 0.0 if v_reset is None else v_reset)
    out = []
    for x in x_seq:
        if if_node:
            v = v + x
        elif decay_input:
            v = v + (x - v) / tau if v_reset in (None, 0.0) else v + (x - (v - v_reset)) / tau
        else:
            v = v * (1.0 - 1.0 / tau) + x if v_reset in (None, 0.0) else v - (v - v_reset) / tau + x
        s = (v - v_th >= 0).float()
        v = v - s * v_th if v_reset is None else (1.0 - s) * v + s * v_reset
        out.append(s)
    return torch.stack(out)


def ref_leaky(x_seq, beta, thr=1.0):
    mem = torch.zeros_like(x_seq[0])
    spk_out, mem_out = [], []
    for x in x_seq:
        reset = (mem - thr > 0).float()
        mem = beta * mem + x - reset * thr
        spk_out.append((mem - thr > 0).float())
        mem_out.append(mem)
    return torch.stack(spk_out), torch.stack(mem_out)


def roundtrip(m):
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    return torch.jit.load(buf)


class LeakySeq(torch.nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.lif = Leaky(beta=beta)

    def forward(self, x_seq):
        mem = self.lif.init_leaky()
        spk_rec = []
        mem_rec = []
        for t in range(x_seq.shape[0]):
            spk, mem = self.lif(x_seq[t], mem)
            spk_rec.append(spk)
            mem_rec.append(mem)
        return torch.stack(spk_rec), torch.stack(mem_rec)


def check(name, ok):
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not ok:
        check.failed += 1


check.failed = 0


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x = torch.randn(6, 3, 40) * 1.5
    ties = torch.tensor([2.0, 1.0, 0.5, 0.25, 4.0, 1.5]).reshape(6, 1, 1).expand(6, 3, 1)
    x = torch.cat([x, ties], -1)  # tau=2: v hits 1.0 exactly
    variants = [
        ("LIF default", dict(), {}),
        ("LIF soft", dict(v_reset=None), dict(v_reset=None)),
        ("LIF no-decay", dict(decay_input=False), dict(decay_input=False)),
        ("LIF no-decay vr=-0.5", dict(decay_input=False, v_reset=-0.5), dict(decay_input=False, v_reset=-0.5)),
        ("LIF tau=3 vth=0.3", dict(tau=3.0, v_threshold=0.3), dict(tau=3.0, v_th=0.3)),
        ("LIF tau=1.5 soft no-decay", dict(tau=1.5, v_reset=None, decay_input=False),
         dict(tau=1.5, v_reset=None, decay_input=False)),
        ("LIF vr=-0.5 detach", dict(v_reset=-0.5, detach_reset=True), dict(v_reset=-0.5)),
    ]
    for name, kw, rkw in variants:
        node = MultiStepLIFNode(**kw).eval()
        want = ref_lif(x, **rkw)
        if name == "LIF default":
            check("LIF: v == v_th occurs and spikes",
                  bool(((node.charged_membrane_seq(x) == 1.0) & (want == 1)).any()))
        check(f"{name}: eager == spec", torch.equal(node(x), want))
        check(f"{name}: traced == eager", torch.equal(roundtrip(torch.jit.trace(node, x))(x), want))
        check(f"{name}: scripted == eager", torch.equal(roundtrip(torch.jit.script(node))(x), want))
        # fused training path vs plain autograd
        node.train()
        xg = x.clone().requires_grad_()
        g = torch.randn_like(x)
        y1 = node(xg)
        (y1 * g).sum().backward()
        g1 = xg.grad.clone()
        xg.grad = None
        v = torch.full_like(x[0], node.v_init())
        ys = []
        for t in range(x.shape[0]):
            v = node.neuronal_charge(xg[t], v)
            s = _SigmoidSpike.apply(v - node.v_threshold, 4.0)
            v = node.neuronal_reset(s, v)
            ys.append(s)
        (torch.stack(ys) * g).sum().backward()
        check(f"{name}: fused training spikes/grads == autograd",
              torch.equal(y1, torch.stack(ys)) and torch.allclose(g1, xg.grad, atol=1e-6))
    for name, kw, rkw in [("IF hard", dict(), dict(if_node=True)),
                          ("IF soft vth=0.5", dict(v_reset=None, v_threshold=0.5),
                           dict(if_node=True, v_reset=None, v_th=0.5))]:
        node = MultiStepIFNode(**kw).eval()
        want = ref_lif(x, **rkw)
        check(f"{name}: eager/traced/scripted == spec",
              torch.equal(node(x), want) and torch.equal(roundtrip(torch.jit.trace(node, x))(x), want)
              and torch.equal(roundtrip(torch.jit.script(node))(x), want))
    tie_in = torch.tensor([1.0, 0.5, 0.5, 0.5, 0.5, 0.5]).reshape(6, 1, 1).expand(6, 3, 1)
    xl = torch.cat([torch.randn(6, 3, 40), tie_in], -1)  # beta .5: mem == 1.0 at every step
    for beta in (0.9, 0.5):
        m = LeakySeq(beta).eval()
        ws, wm = ref_leaky(xl, beta)
        s, mem = m(xl)
        st, mt = roundtrip(torch.jit.trace(m, xl))(xl)
        ss, ms = roundtrip(torch.jit.script(m))(xl)
        check(f"Leaky beta={beta}: eager/traced/scripted == spec",
              all(torch.equal(a, ws) for a in (s, st, ss)) and all(torch.equal(b, wm) for b in (mem, mt, ms)))
        if beta == 0.5:
            check("Leaky: mem == threshold occurs and does not spike",
                  bool(((wm == 1.0) & (ws == 0)).any()))
    st = StatefulLIFNode([2, 5]).eval()
    sc = roundtrip(torch.jit.script(st))
    xs = torch.randn(4, 2, 5) * 2
    outs_e = [st(xs[t]) for t in range(4)]
    outs_s = [sc(xs[t]) for t in range(4)]
    check("StatefulLIFNode: scripted == eager over 4 calls == spec",
          all(torch.equal(a, b) for a, b in zip(outs_e, outs_s)) and
          torch.equal(torch.stack(outs_e), ref_lif(xs)))
    sc.reset()
    check("StatefulLIFNode: exported reset()", torch.equal(sc(xs[0]), outs_e[0]))
    a = (torch.rand(2, 3, 5, 7) > 0.5).float().requires_grad_()
    b = (torch.rand(2, 3, 7, 4) > 0.5).float().requires_grad_()
    y = spike_matmul(a, b)
    y.sum().backward()
    ga, gb = a.grad.clone(), b.grad.clone()
    a.grad = b.grad = None
    (a @ b).sum().backward()
    check("spike_matmul training path == a @ b (values, grads)",
          torch.equal(y, a @ b) and torch.allclose(ga, a.grad) and torch.allclose(gb, b.grad))
    print("selftest:", "PASSED" if not check.failed else f"{check.failed} FAILED")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
