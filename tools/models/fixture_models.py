"""Small model definitions used only for the TorchScript importer test
fixtures (see make_fixtures.py).  All take ``[B, 1, 28, 28]`` images."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from stc_snn import (SDSA, SPS, BaseNode, Block, Leaky, MultiStepIFNode, MultiStepLIFNode,
                     SeqToANNContainer, Sigmoid, StatefulLIFNode)


class TinyConvSNN(nn.Module):
    """Conv(s2)-BN-neuron1 -> MaxPool -> Conv-BN-neuron2 -> Linear -> mean T."""

    def __init__(self, T: int, node1: nn.Module, node2: nn.Module, c1: int = 4, c2: int = 8):
        super().__init__()
        self.T = T
        self.c1 = c1
        self.c2 = c2
        self.conv1 = nn.Conv2d(1, c1, 3, stride=2, padding=1, bias=False)  # 14x14
        self.bn1 = nn.BatchNorm2d(c1)
        self.lif1 = node1
        self.pool = nn.MaxPool2d(2, 2)  # 7x7
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.lif2 = node2
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x: Tensor) -> Tensor:
        T = self.T
        B = x.shape[0]
        x = x.unsqueeze(0).repeat(T, 1, 1, 1, 1)
        x = self.bn1(self.conv1(x.flatten(0, 1)))
        x = self.lif1(x.reshape(T, B, self.c1, 14, 14))
        x = self.pool(x.flatten(0, 1))
        x = self.bn2(self.conv2(x))
        x = self.lif2(x.reshape(T, B, self.c2, 7, 7))
        x = self.fc(x.flatten(2))  # [T, B, 10]
        return x.mean(0)


class PowerOfTwoTieNet(nn.Module):
    """No BN; every weight/bias a (signed) power of two, inputs multiples of
    1/4 and tau=2, so membranes are exact binary fractions and hit v_th == 1.0
    exactly.  Conv -> LIF -> Linear -> IF -> Linear(readout) -> mean T."""

    def __init__(self, T: int = 4):
        super().__init__()
        self.T = T
        self.conv = nn.Conv2d(1, 4, 4, stride=4, bias=True)  # 7x7
        self.lif = MultiStepLIFNode(tau=2.0, v_threshold=1.0)
        self.fc1 = nn.Linear(4 * 7 * 7, 16)
        self.if_node = MultiStepIFNode(v_threshold=1.0, v_reset=None)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x: Tensor) -> Tensor:
        T = self.T
        B = x.shape[0]
        x = self.conv(x)  # static input: conv once, repeat the current over T
        x = x.unsqueeze(0).repeat(T, 1, 1, 1, 1)
        x = self.lif(x)
        x = self.fc1(x.flatten(2))
        x = self.if_node(x)
        return self.fc2(x).mean(0).reshape(B, 10)


class LeakyTieNet(nn.Module):
    """snnTorch Leaky (strict ``>``) with beta=0.5 and power-of-two weights:
    membranes equal to the threshold occur but must NOT spike."""

    def __init__(self, num_steps: int = 4):
        super().__init__()
        self.num_steps = num_steps
        self.fc1 = nn.Linear(784, 32)
        self.lif1 = Leaky(beta=0.5, threshold=1.0)
        self.fc2 = nn.Linear(32, 10)
        self.lif2 = Leaky(beta=0.5, threshold=1.0)

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)
        mem1: Optional[Tensor] = None
        mem2: Optional[Tensor] = None
        cur1 = self.fc1(x)
        mem_rec: List[Tensor] = []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif1(cur1, mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            mem_rec.append(mem2)
        return torch.stack(mem_rec).mean(0)


class LeakyMLP(nn.Module):
    """snnTorch tutorial-style MLP, 784 -> hidden -> 10, Leaky neurons,
    direct (current) input: ``cur1 = fc1(x)`` every step; output = mean over
    steps of the output-layer membrane."""

    def __init__(self, hidden: int = 32, beta: float = 0.9, num_steps: int = 8):
        super().__init__()
        self.num_steps = num_steps
        self.fc1 = nn.Linear(784, hidden)
        self.lif1 = Leaky(beta=beta)
        self.fc2 = nn.Linear(hidden, 10)
        self.lif2 = Leaky(beta=beta)

    def forward(self, x: Tensor) -> Tensor:
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        cur1 = self.fc1(x.flatten(1))
        mem2_rec: List[Tensor] = []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif1(cur1, mem1)
            cur2 = self.fc2(spk1)
            spk2, mem2 = self.lif2(cur2, mem2)
            mem2_rec.append(mem2)
        return torch.stack(mem2_rec, dim=0).mean(0)


class StatefulNet(nn.Module):
    """One time step per forward call; both LIF membranes are registered
    buffers that persist across calls (call ``reset()`` to clear)."""

    def __init__(self, batch: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.lif1 = StatefulLIFNode([batch, 4, 14, 14], tau=2.0)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(4 * 7 * 7, 10)
        self.lif2 = StatefulLIFNode([batch, 10], tau=4.0, v_threshold=0.5)

    @torch.jit.export
    def reset(self):
        self.lif1.reset()
        self.lif2.reset()

    def forward(self, x: Tensor) -> Tensor:
        s = self.lif1(self.bn(self.conv(x)))
        s = self.pool(s).flatten(1)
        cur = self.fc(s)
        return cur + self.lif2(cur)


class Stage(nn.Module):
    def __init__(self, cin: int, cout: int, pool: nn.Module):
        super().__init__()
        self.block = nn.Sequential(
            SeqToANNContainer(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)),
            MultiStepLIFNode(tau=2.0, detach_reset=True))
        self.pool = SeqToANNContainer(pool)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.block(x))


class Body(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(Stage(1, 4, nn.MaxPool2d(2)), nn.Identity()),
            nn.Sequential(Stage(4, 8, nn.AvgPool2d(2)), nn.Dropout(0.2)),
        ])
        self.norm = nn.LayerNorm(8)  # registered, never called

    def forward(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage(x)
        return x


class NestedWrapper(nn.Module):
    """Neurons at deep paths (``model.body.stages.1.0.block.1`` ...), Sequential
    inside ModuleList inside wrappers, SeqToANNContainer, Identity, Dropout
    (eval), an unused LayerNorm and an unused neuron."""

    def __init__(self, T: int = 3):
        super().__init__()
        self.T = T
        self.model = nn.ModuleDict({"body": Body()})
        self.head = nn.Sequential(nn.Flatten(2), nn.Dropout(0.5),
                                  SeqToANNContainer(nn.Linear(8 * 7 * 7, 10)))
        self.unused_lif = MultiStepLIFNode(tau=2.0)  # never called
        self.extra_norm = nn.LayerNorm(10)  # never called

    def forward(self, x: Tensor) -> Tensor:
        x = x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)
        x = self.model["body"](x)
        return self.head(x).mean(0)


class TinySpikformer(nn.Module):
    """Spikformer with the library blocks, tiny dims.  ``linear`` selects the
    Linear+BN1d (original repo) or Conv1d(k=1)+BN1d (CIFAR repo) blocks."""

    def __init__(self, T: int = 2, dim: int = 32, heads: int = 2, linear: bool = False,
                 forms: Optional[List[str]] = None):
        super().__init__()
        forms = forms or ["cifar", "imagenet"]
        self.T = T
        self.linear = linear
        self.patch_embed = SPS(1, dim, pool_stages=(0, 1), linear=linear)
        self.blocks = nn.ModuleList([Block(dim, heads, 2.0, linear=linear, kv_first=(f == "imagenet"))
                                     for f in forms])
        self.head = nn.Linear(dim, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)
        x = self.patch_embed(x)
        for blk in self.blocks:
            x = blk(x)
        x = x.mean(2) if self.linear else x.mean(3)
        return self.head(x).mean(0)


class SpikeDrivenNet(nn.Module):
    """Spike-driven Transformer flavour: conv stem -> membrane tokens
    [T,B,C,7,7] -> SDSA (mask-and-add attention, membrane shortcut) ->
    MLP with membrane shortcut -> head LIF -> Linear -> mean T."""

    def __init__(self, T: int = 2, dim: int = 16, heads: int = 2):
        super().__init__()
        self.T = T
        self.dim = dim
        self.stem_conv = nn.Conv2d(1, dim, 3, stride=2, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(dim)
        self.stem_lif = MultiStepLIFNode(tau=2.0, detach_reset=True)
        self.stem_pool = nn.MaxPool2d(3, 2, 1)
        self.stem_conv2 = nn.Conv2d(dim, dim, 3, padding=1, bias=False)
        self.stem_bn2 = nn.BatchNorm2d(dim)
        self.attn = SDSA(dim, heads)
        self.mlp_lif1 = MultiStepLIFNode(tau=2.0, detach_reset=True)
        self.mlp_conv1 = nn.Conv2d(dim, 2 * dim, 1)
        self.mlp_bn1 = nn.BatchNorm2d(2 * dim)
        self.mlp_lif2 = MultiStepLIFNode(tau=2.0, detach_reset=True)
        self.mlp_conv2 = nn.Conv2d(2 * dim, dim, 1)
        self.mlp_bn2 = nn.BatchNorm2d(dim)
        self.head_lif = MultiStepLIFNode(tau=2.0, detach_reset=True)
        self.head = nn.Linear(dim, 10)

    def forward(self, x: Tensor) -> Tensor:
        T = self.T
        B = x.shape[0]
        C = self.dim
        x = x.unsqueeze(0).repeat(T, 1, 1, 1, 1)
        x = self.stem_bn(self.stem_conv(x.flatten(0, 1))).reshape(T, B, C, 14, 14)
        x = self.stem_pool(self.stem_lif(x).flatten(0, 1))
        x = self.stem_bn2(self.stem_conv2(x)).reshape(T, B, C, 7, 7)  # membrane tokens
        x = self.attn(x)
        y = self.mlp_lif1(x).flatten(0, 1)
        y = self.mlp_bn1(self.mlp_conv1(y)).reshape(T, B, 2 * C, 7, 7)
        y = self.mlp_lif2(y).flatten(0, 1)
        y = self.mlp_bn2(self.mlp_conv2(y)).reshape(T, B, C, 7, 7)
        x = x + y
        x = self.head_lif(x.flatten(3).mean(3))
        return self.head(x).mean(0)


class ShapeOpsNet(nn.Module):
    """Pooling / shape / matmul zoo on spike tensors: MaxPool2d(3,2,1),
    F.max_pool2d(2), nn.AvgPool2d(2), F.avg_pool2d(3,1,1,count_include_pad=False),
    adaptive_avg_pool2d, flatten/view/permute/transpose/contiguous, matmul,
    bmm, mul by scalar."""

    def __init__(self, T: int = 3):
        super().__init__()
        self.T = T
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(6)
        self.lif1 = MultiStepLIFNode(tau=2.0)
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)  # 28 -> 14
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.lif2 = MultiStepLIFNode(tau=2.0, v_threshold=0.5)
        self.avg = nn.AvgPool2d(2)  # 14 -> 7
        self.gap = nn.AdaptiveAvgPool2d((1, 1))
        self.lif3 = MultiStepLIFNode(tau=2.0, v_threshold=1.0)
        self.fc = nn.Linear(8 * 16, 10)

    def forward(self, x: Tensor) -> Tensor:
        T = self.T
        B = x.shape[0]
        x = x.unsqueeze(0).repeat(T, 1, 1, 1, 1)
        y = self.bn1(self.conv1(x.view(T * B, 1, 28, 28)))
        s1 = self.lif1(y.view(T, B, 6, 28, 28))
        y = self.pool1(s1.flatten(0, 1))  # 14x14
        y = self.bn2(self.conv2(y))
        s2 = self.lif2(y.view(T, B, 8, 14, 14)).flatten(0, 1)
        a = F.max_pool2d(s2, kernel_size=2, stride=2)  # 7x7
        a = F.avg_pool2d(a, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        b = self.avg(s2)  # 7x7, multiples of 1/4
        g = self.gap(s2)  # [TB, 8, 1, 1]
        z = F.adaptive_avg_pool2d(a + b, (4, 4))  # [TB, 8, 4, 4]
        tok = z.flatten(2).permute(0, 2, 1).contiguous()  # [TB, 16, 8]
        attn = torch.bmm(tok, tok.transpose(1, 2)) * 0.125  # [TB, 16, 16]
        mixed = torch.matmul(attn, tok)  # [TB, 16, 8]
        mixed = mixed.transpose(1, 2).contiguous() * 0.5 + g.view(T * B, 8, 1)  # [TB, 8, 16]
        s3 = self.lif3(mixed.view(T, B, 8, 16))
        out = self.fc(s3.reshape(T, B, 8 * 16))
        return out.permute(1, 0, 2).mean(1)


class SharedSurrogateNet(nn.Module):
    """SpikingJelly-style: neurons built with the default
    ``surrogate_function=Sigmoid()`` share the class's default-argument module
    instance (lif1, lif2), ``lif_out`` (IF) has the IF default instance and
    ``lif_own`` its own Sigmoid(alpha=2).  torch.jit.trace then passes the
    shared surrogate as an extra method argument into the neurons' forward."""

    def __init__(self, T: int = 3):
        super().__init__()
        self.T = T
        self.conv1 = SeqToANNContainer(nn.Conv2d(1, 4, 3, 2, 1, bias=False), nn.BatchNorm2d(4))
        self.lif1 = MultiStepLIFNode(tau=2.0)
        self.conv2 = SeqToANNContainer(nn.Conv2d(4, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8))
        self.lif2 = MultiStepLIFNode(tau=2.0, detach_reset=True)
        self.fc1 = SeqToANNContainer(nn.Flatten(1), nn.Linear(8 * 7 * 7, 32))
        self.lif_own = MultiStepLIFNode(tau=2.0, surrogate_function=Sigmoid(alpha=2.0))
        self.fc2 = SeqToANNContainer(nn.Linear(32, 10))
        self.lif_out = MultiStepIFNode()

    def forward(self, x: Tensor) -> Tensor:
        x = x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)
        x = self.lif2(self.conv2(self.lif1(self.conv1(x))))
        x = self.fc2(self.lif_own(self.fc1(x)))
        return x.mean(0) + self.lif_out(x).mean(0)


class UnsupportedOpsNet(nn.Module):
    """NEGATIVE fixture: spiking stem, then softmax attention, LayerNorm and
    GELU (ops a spike-only compiler must reject with a diagnostic)."""

    def __init__(self, T: int = 2, dim: int = 16):
        super().__init__()
        self.T = T
        self.dim = dim
        self.conv = nn.Conv2d(1, dim, 4, stride=4, bias=False)  # 7x7 tokens
        self.bn = nn.BatchNorm2d(dim)
        self.lif = MultiStepLIFNode(tau=2.0, detach_reset=True)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(2 * dim, dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x: Tensor) -> Tensor:
        T = self.T
        B = x.shape[0]
        C = self.dim
        x = x.unsqueeze(0).repeat(T, 1, 1, 1, 1)
        x = self.bn(self.conv(x.flatten(0, 1))).reshape(T, B, C, 49)
        x = self.lif(x).transpose(-1, -2)  # T, B, N, C
        first = torch.zeros_like(x)
        first[0] = x[0]  # writes one time step of a buffer, then reads it
        x = x + first
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        attn = (q @ k.transpose(-2, -1) * C ** -0.5).softmax(dim=-1)
        x = x + attn @ v
        x = x + self.fc2(self.act(self.fc1(self.norm(x))))
        return self.head(x.mean(2)).mean(0)


class CatStepsLIFNode(BaseNode):
    """Multi-step LIF written like older SpikingJelly releases
    (clock_driven.MultiStepLIFNode, torch backend): one single step per time
    step, each spike unsqueezed and the list concatenated,
    ``torch.cat([spike.unsqueeze(0) for each t], 0)``."""

    def __init__(self, tau: float = 2.0, v_threshold: float = 1.0, v_reset: Optional[float] = 0.0,
                 detach_reset: bool = True):
        super().__init__(v_threshold, v_reset, detach_reset=detach_reset)
        self.tau = float(tau)

    def neuronal_charge(self, x: Tensor, v: Tensor) -> Tensor:
        return v + (x - (v - self.v_init())) / self.tau

    def forward(self, x_seq: Tensor) -> Tensor:
        v = torch.full_like(x_seq[0], self.v_init())
        spikes: List[Tensor] = []
        for t in range(x_seq.shape[0]):
            v = self.neuronal_charge(x_seq[t], v)
            spike = self.neuronal_fire(v)
            v = self.neuronal_reset(spike, v)
            spikes.append(spike.unsqueeze(0))
        return torch.cat(spikes, 0)


class TimeAxisInputNet(nn.Module):
    """NEGATIVE fixture: event-style input [B, T, 1, 28, 28] that already
    carries the time axis (forward transposes it to [T, B, ...])."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 4, stride=4, bias=False)  # 7x7
        self.bn = nn.BatchNorm2d(4)
        self.lif = MultiStepLIFNode(tau=2.0)
        self.fc = nn.Linear(4 * 7 * 7, 10)

    def forward(self, x: Tensor) -> Tensor:
        B = x.shape[0]
        T = x.shape[1]
        x = x.transpose(0, 1)  # [T, B, 1, 28, 28]
        x = self.bn(self.conv(x.flatten(0, 1))).reshape(T, B, 4 * 7 * 7)
        return self.fc(self.lif(x)).mean(0)


class VotingNet(nn.Module):
    """Conv-BN-LIF -> Linear(100)-LIF -> voting readout on the merged T*B
    axis: ``F.avg_pool1d(x.unsqueeze(1), 10, 10).squeeze(1)`` (a channel axis
    inserted between batch and features) -> mean T."""

    def __init__(self, T: int = 3):
        super().__init__()
        self.T = T
        self.conv = nn.Conv2d(1, 8, 4, stride=4, bias=False)  # 7x7
        self.bn = nn.BatchNorm2d(8)
        self.lif1 = MultiStepLIFNode(tau=2.0, detach_reset=True)
        self.fc = nn.Linear(8 * 7 * 7, 100)
        self.bn_fc = nn.BatchNorm1d(100)
        self.lif2 = CatStepsLIFNode(tau=2.0)

    def forward(self, x: Tensor) -> Tensor:
        T = self.T
        B = x.shape[0]
        x = x.unsqueeze(0).repeat(T, 1, 1, 1, 1)
        x = self.bn(self.conv(x.flatten(0, 1))).reshape(T, B, 8, 7, 7)
        x = self.lif1(x).flatten(0, 1).flatten(1)
        x = self.lif2(self.bn_fc(self.fc(x)).reshape(T, B, 100))
        x = F.avg_pool1d(x.flatten(0, 1).unsqueeze(1), 10, 10).squeeze(1)
        return x.reshape(T, B, 10).mean(0)


@torch.jit.script
def _buffered_lif_steps(x_seq: Tensor, v: Tensor, v_threshold: float, v_reset: float,
                        tau: float) -> Tuple[Tensor, Tensor]:
    out = torch.zeros_like(x_seq)
    for t in range(x_seq.shape[0]):
        v = v + (x_seq[t] - (v - v_reset)) / tau
        spike = (v >= v_threshold).to(x_seq)  # x_seq only gives the dtype
        v = v_reset * spike + (1. - spike) * v
        out[t] = spike  # select + copy_ into the buffer
    return out, v


@torch.jit.script
def _buffered_if_soft_steps(x_seq: Tensor, v: Tensor, v_threshold: float) -> Tuple[Tensor, Tensor]:
    out = torch.zeros_like(x_seq)
    for t in range(x_seq.shape[0]):
        v = v + x_seq[t]
        spike = (v >= v_threshold).type_as(x_seq)
        v = v - spike * v_threshold
        out[t] = spike
    return out, v


class BufferedNode(BaseNode):
    """A multi-step neuron written like a fast inference path: a scripted
    function fills a ``zeros_like`` buffer one time step at a time
    (``out[t] = spike``), spikes are ``(v >= v_th).to(x_seq)`` (the whole
    sequence only as dtype reference), and the final membrane is kept in
    ``self.v`` (a plain attribute, so tracing does not record it).  LIF with
    hard reset, or IF with soft reset when ``v_reset`` is None."""

    def __init__(self, tau: float = 2.0, v_threshold: float = 1.0, v_reset: Optional[float] = 0.0):
        super().__init__(v_threshold, v_reset)
        self.tau = float(tau)

    def neuronal_charge(self, x: Tensor, v: Tensor) -> Tensor:  # eager tie counting only
        if self.v_reset is None:
            return v + x
        return v + (x - (v - self.v_reset)) / self.tau

    def forward(self, x_seq: Tensor) -> Tensor:
        v = torch.full_like(x_seq[0], self.v_init())
        v_reset = self.v_reset
        if v_reset is None:
            out, v = _buffered_if_soft_steps(x_seq, v, self.v_threshold)
        else:
            out, v = _buffered_lif_steps(x_seq, v, self.v_threshold, v_reset, self.tau)
        return out


class BufferedNeuronNet(nn.Module):
    """Conv-BN-BufferedNode(LIF) -> MaxPool -> Linear -> BufferedNode(IF, soft)
    -> Linear -> mean T."""

    def __init__(self, T: int = 3):
        super().__init__()
        self.T = T
        self.conv = nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False)  # 14x14
        self.bn = nn.BatchNorm2d(8)
        self.lif = BufferedNode(tau=2.0)
        self.pool = nn.MaxPool2d(2, 2)  # 7x7
        self.fc1 = nn.Linear(8 * 7 * 7, 32)
        self.if_node = BufferedNode(v_threshold=0.5, v_reset=None)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: Tensor) -> Tensor:
        T = self.T
        B = x.shape[0]
        x = x.unsqueeze(0).repeat(T, 1, 1, 1, 1)
        x = self.bn(self.conv(x.flatten(0, 1))).reshape(T, B, 8, 14, 14)
        x = self.pool(self.lif(x).flatten(0, 1)).reshape(T, B, 8 * 7 * 7)
        x = self.if_node(self.fc1(x))
        return self.fc2(x).mean(0)
