"""stc_snn -- small, dependency-free re-implementations of the spiking modules
that STC Studio has to import from TorchScript.

Everything here mirrors the *forward* semantics of the upstream libraries
(SpikingJelly ``clock_driven.neuron.MultiStepLIFNode`` with the torch backend,
snnTorch >= 0.7 ``Leaky``, Spikformer ``SPS``/``SSA``/``MLP``/``Block``) closely
enough that the traced graphs look like the ones produced in the field, while
staying compatible with ``torch.jit.trace`` *and* ``torch.jit.script``.

Conventions
-----------
* Multi-step neurons take ``x_seq`` of shape ``[T, B, ...]`` and return the
  spike sequence of the same shape.  The membrane starts at ``v_reset`` (0.0
  for soft reset) at the start of every ``forward`` call, i.e. the network is
  implicitly reset between calls (``functional.reset_net``).
* Surrogate-gradient modules run the exact heaviside in eval mode and while
  tracing/scripting, so the exported graphs only contain plain aten ops
  (``torch.jit.trace`` cannot save ``autograd.Function`` calls, which it
  records as ``prim::PythonOp``).
* As in SpikingJelly, the default ``surrogate_function=Sigmoid()`` argument is
  evaluated once, so every neuron built with the default shares ONE surrogate
  module instance.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

try:  # python >= 3.8
    from typing import Final
except ImportError:  # pragma: no cover
    from typing_extensions import Final


# --------------------------------------------------------------------------
# surrogate gradients
# --------------------------------------------------------------------------
def heaviside(x: Tensor) -> Tensor:
    """SpikingJelly heaviside: spike when x >= 0 (ties spike)."""
    return (x >= 0).to(x)


def heaviside_gt(x: Tensor) -> Tensor:
    """snnTorch heaviside: spike when x > 0 (ties do not spike)."""
    return (x > 0).float()


class _SigmoidSpike(torch.autograd.Function):
    """heaviside forward, alpha*sigmoid'(alpha*x) backward (SpikingJelly)."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return heaviside(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sg = torch.sigmoid(x * ctx.alpha)
        return grad_output * (1.0 - sg) * sg * ctx.alpha, None


class _ATanSpike(torch.autograd.Function):
    """snnTorch ``surrogate.atan``: (x > 0) forward, arctan derivative backward."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return heaviside_gt(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        a = ctx.alpha
        grad = a / 2 / (1 + (torch.pi / 2 * a * x).pow(2)) * grad_output
        return grad, None


class Sigmoid(nn.Module):
    """SpikingJelly ``surrogate.Sigmoid(alpha=4.)``."""

    def __init__(self, alpha: float = 4.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        # The training-only branch is dropped by the TorchScript compiler
        # (is_scripting() is a compile-time constant) and never taken while
        # tracing or in eval mode, so exported graphs only see heaviside().
        if not torch.jit.is_scripting():
            if self.training and not torch.jit.is_tracing():
                return _SigmoidSpike.apply(x, self.alpha)
        return heaviside(x)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class ATan(nn.Module):
    """snnTorch ``surrogate.atan(alpha=2.)`` wrapped in a module (strict > 0)."""

    def __init__(self, alpha: float = 2.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        if not torch.jit.is_scripting():
            if self.training and not torch.jit.is_tracing():
                return _ATanSpike.apply(x, self.alpha)
        return heaviside_gt(x)


# --------------------------------------------------------------------------
# SpikingJelly-style multi-step neurons
# --------------------------------------------------------------------------
class BaseNode(nn.Module):
    """Common fire/reset logic of SpikingJelly ``BaseNode``.

    ``v_reset=None`` selects soft reset (``v -= spike * v_threshold``), any
    float selects hard reset (``v = (1 - spike) * v + spike * v_reset``).
    """

    v_reset: Optional[float]

    def __init__(self, v_threshold: float = 1.0, v_reset: Optional[float] = 0.0,
                 surrogate_function: nn.Module = Sigmoid(), detach_reset: bool = False):
        super().__init__()
        self.v_threshold = float(v_threshold)
        self.v_reset = None if v_reset is None else float(v_reset)
        self.surrogate_function = surrogate_function
        self.detach_reset = detach_reset

    def v_init(self) -> float:
        v_reset = self.v_reset
        if v_reset is None:
            return 0.0
        return v_reset

    def neuronal_charge(self, x: Tensor, v: Tensor) -> Tensor:
        raise NotImplementedError

    def neuronal_fire(self, v: Tensor) -> Tensor:
        return self.surrogate_function(v - self.v_threshold)

    def neuronal_reset(self, spike: Tensor, v: Tensor) -> Tensor:
        if self.detach_reset:
            spike_d = spike.detach()
        else:
            spike_d = spike
        v_reset = self.v_reset
        if v_reset is None:
            v = v - spike_d * self.v_threshold
        else:
            v = (1.0 - spike_d) * v + spike_d * v_reset
        return v

    def forward(self, x_seq: Tensor) -> Tensor:
        if not torch.jit.is_scripting():
            # eager training only: same forward values, hand-written BPTT
            if self.training and torch.is_grad_enabled() and not torch.jit.is_tracing() \
                    and isinstance(self.surrogate_function, Sigmoid):
                return _FusedMultiStepFn.apply(x_seq, self)
        v = torch.full_like(x_seq[0], self.v_init())
        spike_seq: List[Tensor] = []
        for t in range(x_seq.shape[0]):
            v = self.neuronal_charge(x_seq[t], v)
            spike = self.neuronal_fire(v)
            v = self.neuronal_reset(spike, v)
            spike_seq.append(spike)
        return torch.stack(spike_seq)

    def charged_membrane_seq(self, x_seq: Tensor) -> Tensor:
        """Eager-only debugging helper: membrane after charge, before fire."""
        with torch.no_grad():
            v = torch.full_like(x_seq[0], self.v_init())
            out = []
            for t in range(x_seq.shape[0]):
                v = self.neuronal_charge(x_seq[t], v)
                out.append(v.clone())
                v = self.neuronal_reset(heaviside(v - self.v_threshold), v)
            return torch.stack(out)

    def extra_repr(self) -> str:
        return (f"v_threshold={self.v_threshold}, v_reset={self.v_reset}, "
                f"detach_reset={self.detach_reset}")


class _FusedMultiStepFn(torch.autograd.Function):
    """Multi-step neuron with a hand-written backward (training speed only).

    The forward runs the node's own charge / heaviside / reset code under
    no_grad, so spikes are bit-identical to the plain path.  The backward is
    BPTT with the Sigmoid surrogate, honouring detach_reset and hard/soft reset.
    """

    @staticmethod
    def forward(ctx, x_seq, node):
        with torch.no_grad():
            v = torch.full_like(x_seq[0], node.v_init())
            h_seq = torch.empty_like(x_seq)
            s_seq = torch.empty_like(x_seq)
            for t in range(x_seq.shape[0]):
                h = node.neuronal_charge(x_seq[t], v)
                s = heaviside(h - node.v_threshold)
                v = node.neuronal_reset(s, h)
                h_seq[t] = h
                s_seq[t] = s
        ctx.save_for_backward(h_seq, s_seq)
        ctx.coeffs = node.charge_coeffs()
        ctx.v_threshold = node.v_threshold
        ctx.v_reset = node.v_reset
        ctx.detach_reset = node.detach_reset
        ctx.alpha = node.surrogate_function.alpha
        return s_seq

    @staticmethod
    def backward(ctx, grad_s_seq):
        h_seq, s_seq = ctx.saved_tensors
        dh_dv, dh_dx = ctx.coeffs
        vth, vr, alpha = ctx.v_threshold, ctx.v_reset, ctx.alpha
        grad_x = torch.empty_like(grad_s_seq)
        grad_v = torch.zeros_like(grad_s_seq[0])
        for t in range(h_seq.shape[0] - 1, -1, -1):
            h, s = h_seq[t], s_seq[t]
            sg = torch.sigmoid((h - vth) * alpha)
            grad_s = grad_s_seq[t]
            if vr is None:  # soft: v = h - s * vth
                dv_dh = 1.0
                if not ctx.detach_reset:
                    grad_s = grad_s - grad_v * vth
            else:  # hard: v = (1 - s) * h + s * vr
                dv_dh = 1.0 - s
                if not ctx.detach_reset:
                    grad_s = grad_s + grad_v * (vr - h)
            grad_h = grad_s * (1.0 - sg) * sg * alpha + grad_v * dv_dh
            grad_x[t] = grad_h * dh_dx
            grad_v = grad_h * dh_dv
        return grad_x, None


def _grouped_conv_bmm(a: Tensor, b: Tensor) -> Tensor:
    """[..., n, k] @ [..., k, m] as one grouped 1x1 conv (oneDNN is ~6x faster
    than the reference BLAS this torch build links against)."""
    lead = a.shape[:-2]
    n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
    a3 = a.reshape(-1, n, k)
    g = a3.shape[0]
    inp = b.reshape(1, g * k, m, 1)
    w = a3.reshape(g * n, k, 1, 1)
    return torch.nn.functional.conv2d(inp, w, groups=g).reshape(*lead, n, m)


def spike_matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b``; eager training takes the (numerically equivalent for 0/1
    spike operands) grouped-conv path.  TorchScript/tracing see ``a @ b``."""
    if not torch.jit.is_scripting():
        if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad) \
                and not torch.jit.is_tracing():
            return _grouped_conv_bmm(a, b)
    return a @ b


class MultiStepLIFNode(BaseNode):
    """SpikingJelly ``MultiStepLIFNode`` (torch backend), exact charge equations:

    decay_input, v_reset in (None, 0): v = v + (x - v) / tau
    decay_input, v_reset != 0:         v = v + (x - (v - v_reset)) / tau
    not decay_input, v_reset in (None, 0): v = v * (1. - 1. / tau) + x
    not decay_input, v_reset != 0:         v = v - (v - v_reset) / tau + x
    """

    def __init__(self, tau: float = 2.0, decay_input: bool = True, v_threshold: float = 1.0,
                 v_reset: Optional[float] = 0.0, surrogate_function: nn.Module = Sigmoid(),
                 detach_reset: bool = False, backend: str = "torch"):
        super().__init__(v_threshold, v_reset, surrogate_function, detach_reset)
        assert tau > 1.0
        self.tau = float(tau)
        self.decay_input = decay_input
        self.backend = backend

    def neuronal_charge(self, x: Tensor, v: Tensor) -> Tensor:
        v_reset = self.v_reset
        if self.decay_input:
            if v_reset is None or v_reset == 0.0:
                v = v + (x - v) / self.tau
            else:
                v = v + (x - (v - v_reset)) / self.tau
        else:
            if v_reset is None or v_reset == 0.0:
                v = v * (1.0 - 1.0 / self.tau) + x
            else:
                v = v - (v - v_reset) / self.tau + x
        return v

    def charge_coeffs(self) -> Tuple[float, float]:
        """(dv_new/dv_old, dv_new/dx) of neuronal_charge (eager helper)."""
        return 1.0 - 1.0 / self.tau, (1.0 / self.tau if self.decay_input else 1.0)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, decay_input={self.decay_input}, " + super().extra_repr()


class MultiStepIFNode(BaseNode):
    """SpikingJelly ``MultiStepIFNode``: v = v + x (no leak)."""

    def __init__(self, v_threshold: float = 1.0, v_reset: Optional[float] = 0.0,
                 surrogate_function: nn.Module = Sigmoid(), detach_reset: bool = False,
                 backend: str = "torch"):
        super().__init__(v_threshold, v_reset, surrogate_function, detach_reset)
        self.backend = backend

    def neuronal_charge(self, x: Tensor, v: Tensor) -> Tensor:
        return v + x

    def charge_coeffs(self) -> Tuple[float, float]:
        return 1.0, 1.0


class StatefulLIFNode(nn.Module):
    """Single-step LIF (SpikingJelly ``LIFNode`` in step_mode 's') whose membrane
    is a registered buffer that persists across ``forward`` calls and is updated
    in place.  Call ``reset()`` to go back to ``v_reset``.  Hard reset,
    decay_input=True only.
    """

    def __init__(self, state_shape: List[int], tau: float = 2.0, v_threshold: float = 1.0,
                 v_reset: float = 0.0, surrogate_function: nn.Module = Sigmoid()):
        super().__init__()
        self.tau = float(tau)
        self.v_threshold = float(v_threshold)
        self.v_reset = float(v_reset)
        self.surrogate_function = surrogate_function
        self.register_buffer("v", torch.full(state_shape, self.v_reset))

    @torch.jit.export
    def reset(self):
        self.v.fill_(self.v_reset)

    def forward(self, x: Tensor) -> Tensor:
        v = self.v + (x - (self.v - self.v_reset)) / self.tau
        spike = self.surrogate_function(v - self.v_threshold)
        v = (1.0 - spike) * v + spike * self.v_reset
        self.v.copy_(v.detach())
        return spike


# --------------------------------------------------------------------------
# snnTorch-style Leaky (single step, explicit membrane)
# --------------------------------------------------------------------------
class Leaky(nn.Module):
    """snnTorch (>= 0.7) ``Leaky`` with ``init_hidden=False``.

    reset  = heaviside_gt(mem_prev - threshold)   (from the PREVIOUS membrane)
    subtract: mem = beta.clamp(0,1) * mem + input - reset * threshold
    zero:     mem = beta.clamp(0,1) * ((1 - reset) * mem) + input
    none:     mem = beta.clamp(0,1) * mem + input
    spk    = heaviside_gt(mem - threshold) * graded_spikes_factor
    Returns ``(spk, mem)``; pass ``mem=None`` on the first step (zeros).
    """

    reset_mechanism_val: Final[int]

    def __init__(self, beta: float, threshold: float = 1.0, spike_grad: Optional[nn.Module] = None,
                 reset_mechanism: str = "subtract", learn_beta: bool = False,
                 learn_threshold: bool = False, graded_spikes_factor: float = 1.0):
        super().__init__()
        beta_t = torch.as_tensor(beta, dtype=torch.float32)
        thr_t = torch.as_tensor(threshold, dtype=torch.float32)
        if learn_beta:
            self.beta = nn.Parameter(beta_t)
        else:
            self.register_buffer("beta", beta_t)
        if learn_threshold:
            self.threshold = nn.Parameter(thr_t)
        else:
            self.register_buffer("threshold", thr_t)
        self.register_buffer("graded_spikes_factor",
                             torch.as_tensor(graded_spikes_factor, dtype=torch.float32))
        self.spike_grad = spike_grad if spike_grad is not None else ATan()
        self.reset_mechanism = reset_mechanism
        self.reset_mechanism_val = {"subtract": 0, "zero": 1, "none": 2}[reset_mechanism]

    def init_leaky(self) -> Tensor:
        return torch.zeros(1)

    def mem_reset(self, mem: Tensor) -> Tensor:
        mem_shift = mem - self.threshold
        return self.spike_grad(mem_shift).clone().detach()

    def fire(self, mem: Tensor) -> Tensor:
        mem_shift = mem - self.threshold
        spk = self.spike_grad(mem_shift)
        return spk * self.graded_spikes_factor

    def forward(self, input_: Tensor, mem: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        if mem is None or mem.shape != input_.shape:
            mem = torch.zeros_like(input_)
        reset = self.mem_reset(mem)
        if self.reset_mechanism_val == 0:
            mem = self.beta.clamp(0, 1) * mem + input_ - reset * self.threshold
        elif self.reset_mechanism_val == 1:
            mem = (1 - reset) * mem
            mem = self.beta.clamp(0, 1) * mem + input_
        else:
            mem = self.beta.clamp(0, 1) * mem + input_
        spk = self.fire(mem)
        return spk, mem

    def charged_membrane_seq(self, x_seq: Tensor) -> Tensor:
        """Eager-only helper (x_seq = per-step inputs stacked on dim 0)."""
        with torch.no_grad():
            mem: Optional[Tensor] = None
            out = []
            for t in range(x_seq.shape[0]):
                _, mem = self.forward(x_seq[t], mem)
                out.append(mem.clone())
            return torch.stack(out)


SPIKING_NEURON_TYPES = (BaseNode, StatefulLIFNode, Leaky)
MULTI_STEP_NEURON_TYPES = (BaseNode,)


class SeqToANNContainer(nn.Module):
    """SpikingJelly ``layer.SeqToANNContainer``: applies stateless modules to a
    ``[T, B, ...]`` sequence by folding T into the batch dimension."""

    def __init__(self, *args: nn.Module):
        super().__init__()
        if len(args) == 1:
            self.module = args[0]
        else:
            self.module = nn.Sequential(*args)

    def forward(self, x_seq: Tensor) -> Tensor:
        y_shape = [x_seq.shape[0], x_seq.shape[1]]
        y_seq = self.module(x_seq.flatten(0, 1).contiguous())
        y_shape.extend(y_seq.shape[1:])
        return y_seq.view(y_shape)


def spiking_neurons(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, SPIKING_NEURON_TYPES)]


# --------------------------------------------------------------------------
# Spikformer (Zhou et al., ICLR 2023) building blocks
# --------------------------------------------------------------------------
def _lif(v_threshold: float = 1.0) -> MultiStepLIFNode:
    # same construction as the Spikformer repo: default (shared) surrogate
    return MultiStepLIFNode(tau=2.0, v_threshold=v_threshold, detach_reset=True, backend="torch")


class SPS(nn.Module):
    """Spiking Patch Splitting: 4 x (Conv2d-BN2d-LIF) + relative position
    embedding (Conv-BN-LIF, residual).  ``pool_stages`` selects after which of
    the 4 stages a MaxPool2d(3, 2, 1) follows (Spikformer CIFAR: stages 2, 3).
    Output ``[T, B, C, N]`` (``linear=False``) or ``[T, B, N, C]`` (``linear=True``).
    """

    linear: Final[bool]

    def __init__(self, in_channels: int = 3, embed_dims: int = 384,
                 pool_stages: Tuple[int, ...] = (2, 3), linear: bool = False,
                 stem_channels: Optional[Tuple[int, int, int]] = None):
        super().__init__()
        self.linear = linear
        d = embed_dims
        # Spikformer's SPS widths are d/8, d/4, d/2, d; ``stem_channels`` overrides the first three
        stem = list(stem_channels) if stem_channels else [d // 8, d // 4, d // 2]
        chans = [in_channels] + stem + [d]
        suffix = ["", "1", "2", "3"]
        for i in range(4):
            s = suffix[i]
            setattr(self, "proj_conv" + s, nn.Conv2d(chans[i], chans[i + 1], 3, 1, 1, bias=False))
            setattr(self, "proj_bn" + s, nn.BatchNorm2d(chans[i + 1]))
            setattr(self, "proj_lif" + s, _lif())
            pool = nn.MaxPool2d(3, 2, 1, dilation=1, ceil_mode=False) if i in pool_stages else nn.Identity()
            setattr(self, "maxpool" + s, pool)
        self.rpe_conv = nn.Conv2d(d, d, 3, 1, 1, bias=False)
        self.rpe_bn = nn.BatchNorm2d(d)
        self.rpe_lif = _lif()

    def forward(self, x: Tensor) -> Tensor:
        T, B, C, H, W = x.shape
        x = self.proj_conv(x.flatten(0, 1))
        x = self.proj_bn(x).reshape(T, B, -1, x.shape[-2], x.shape[-1]).contiguous()
        x = self.proj_lif(x).flatten(0, 1).contiguous()
        x = self.maxpool(x)

        x = self.proj_conv1(x)
        x = self.proj_bn1(x).reshape(T, B, -1, x.shape[-2], x.shape[-1]).contiguous()
        x = self.proj_lif1(x).flatten(0, 1).contiguous()
        x = self.maxpool1(x)

        x = self.proj_conv2(x)
        x = self.proj_bn2(x).reshape(T, B, -1, x.shape[-2], x.shape[-1]).contiguous()
        x = self.proj_lif2(x).flatten(0, 1).contiguous()
        x = self.maxpool2(x)

        x = self.proj_conv3(x)
        x = self.proj_bn3(x).reshape(T, B, -1, x.shape[-2], x.shape[-1]).contiguous()
        x = self.proj_lif3(x).flatten(0, 1).contiguous()
        x = self.maxpool3(x)

        H, W = x.shape[-2], x.shape[-1]
        x_feat = x.reshape(T, B, -1, H, W).contiguous()
        x = self.rpe_conv(x)
        x = self.rpe_bn(x).reshape(T, B, -1, H, W).contiguous()
        x = self.rpe_lif(x)
        x = x + x_feat
        x = x.flatten(-2)  # T, B, C, N
        if self.linear:
            x = x.transpose(-1, -2)  # T, B, N, C
        return x


class SSA(nn.Module):
    """Spiking Self-Attention.  ``kv_first=False``: CIFAR form
    ``attn = (q @ k^T) * scale; x = attn @ v``; ``kv_first=True``: ImageNet form
    ``x = q @ (k^T @ v) * scale``.  q/k/v/proj are Conv1d(k=1) (CIFAR repo) or
    Linear (``linear=True``, original repo) + BN1d + LIF."""

    linear: Final[bool]
    kv_first: Final[bool]

    def __init__(self, dim: int, num_heads: int = 8, qkv_bias: bool = False,
                 linear: bool = False, kv_first: bool = False):
        super().__init__()
        assert dim % num_heads == 0
        self.dim = dim
        self.num_heads = num_heads
        self.scale = 0.125
        self.linear = linear
        self.kv_first = kv_first
        for name in ("q", "k", "v", "proj"):
            bias = True if name == "proj" else qkv_bias
            if linear:
                setattr(self, name + "_linear", nn.Linear(dim, dim, bias=bias))
            else:
                setattr(self, name + "_conv", nn.Conv1d(dim, dim, kernel_size=1, stride=1, bias=bias))
            setattr(self, name + "_bn", nn.BatchNorm1d(dim))
            setattr(self, name + "_lif", _lif())
            if name == "v":
                self.attn_lif = _lif(v_threshold=0.5)

    def _heads(self, x: Tensor, T: int, B: int, N: int, C: int) -> Tensor:
        # [T, B, N, C] -> [T, B, heads, N, C // heads]
        return x.reshape(T, B, N, self.num_heads, C // self.num_heads).permute(0, 1, 3, 2, 4).contiguous()

    def forward(self, x: Tensor) -> Tensor:
        if self.linear:
            T, B, N, C = x.shape
            x_for_qkv = x.flatten(0, 1)  # TB, N, C
            q = self.q_linear(x_for_qkv)
            q = self.q_bn(q.transpose(-1, -2)).transpose(-1, -2).reshape(T, B, N, C).contiguous()
            q = self._heads(self.q_lif(q), T, B, N, C)
            k = self.k_linear(x_for_qkv)
            k = self.k_bn(k.transpose(-1, -2)).transpose(-1, -2).reshape(T, B, N, C).contiguous()
            k = self._heads(self.k_lif(k), T, B, N, C)
            v = self.v_linear(x_for_qkv)
            v = self.v_bn(v.transpose(-1, -2)).transpose(-1, -2).reshape(T, B, N, C).contiguous()
            v = self._heads(self.v_lif(v), T, B, N, C)
        else:
            T, B, C, N = x.shape
            x_for_qkv = x.flatten(0, 1)  # TB, C, N
            q = self.q_bn(self.q_conv(x_for_qkv)).reshape(T, B, C, N).contiguous()
            q = self._heads(self.q_lif(q).transpose(-1, -2), T, B, N, C)
            k = self.k_bn(self.k_conv(x_for_qkv)).reshape(T, B, C, N).contiguous()
            k = self._heads(self.k_lif(k).transpose(-1, -2), T, B, N, C)
            v = self.v_bn(self.v_conv(x_for_qkv)).reshape(T, B, C, N).contiguous()
            v = self._heads(self.v_lif(v).transpose(-1, -2), T, B, N, C)

        if self.kv_first:
            x = spike_matmul(k.transpose(-2, -1), v)
            x = spike_matmul(q, x) * self.scale
        else:
            attn = spike_matmul(q, k.transpose(-2, -1)) * self.scale
            x = spike_matmul(attn, v)

        if self.linear:
            x = x.transpose(2, 3).reshape(T, B, N, C).contiguous()
            x = self.attn_lif(x).flatten(0, 1)
            x = self.proj_bn(self.proj_linear(x).transpose(-1, -2)).transpose(-1, -2)
            x = self.proj_lif(x.reshape(T, B, N, C))
        else:
            x = x.transpose(3, 4).reshape(T, B, C, N).contiguous()
            x = self.attn_lif(x).flatten(0, 1)
            x = self.proj_lif(self.proj_bn(self.proj_conv(x)).reshape(T, B, C, N))
        return x


class MLP(nn.Module):
    """Spikformer MLP: (Conv1d|Linear)-BN1d-LIF twice."""

    linear: Final[bool]

    def __init__(self, in_features: int, hidden_features: Optional[int] = None,
                 out_features: Optional[int] = None, linear: bool = False):
        super().__init__()
        out_features = out_features or in_features
        hidden_features = hidden_features or in_features
        self.linear = linear
        self.c_hidden = hidden_features
        self.c_output = out_features
        if linear:
            self.fc1_linear = nn.Linear(in_features, hidden_features)
        else:
            self.fc1_conv = nn.Conv1d(in_features, hidden_features, kernel_size=1, stride=1)
        self.fc1_bn = nn.BatchNorm1d(hidden_features)
        self.fc1_lif = _lif()
        if linear:
            self.fc2_linear = nn.Linear(hidden_features, out_features)
        else:
            self.fc2_conv = nn.Conv1d(hidden_features, out_features, kernel_size=1, stride=1)
        self.fc2_bn = nn.BatchNorm1d(out_features)
        self.fc2_lif = _lif()

    def forward(self, x: Tensor) -> Tensor:
        if self.linear:
            T, B, N, C = x.shape
            x = self.fc1_linear(x.flatten(0, 1))
            x = self.fc1_bn(x.transpose(-1, -2)).transpose(-1, -2).reshape(T, B, N, self.c_hidden).contiguous()
            x = self.fc1_lif(x)
            x = self.fc2_linear(x.flatten(0, 1))
            x = self.fc2_bn(x.transpose(-1, -2)).transpose(-1, -2).reshape(T, B, N, self.c_output).contiguous()
            x = self.fc2_lif(x)
        else:
            T, B, C, N = x.shape
            x = self.fc1_conv(x.flatten(0, 1))
            x = self.fc1_bn(x).reshape(T, B, self.c_hidden, N).contiguous()
            x = self.fc1_lif(x)
            x = self.fc2_conv(x.flatten(0, 1))
            x = self.fc2_bn(x).reshape(T, B, self.c_output, N).contiguous()
            x = self.fc2_lif(x)
        return x


class Block(nn.Module):
    """Spikformer encoder block.  norm1/norm2 exist but are never called (as in
    the original code)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = False,
                 linear: bool = False, kv_first: bool = False):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SSA(dim, num_heads=num_heads, qkv_bias=qkv_bias, linear=linear, kv_first=kv_first)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, hidden_features=int(dim * mlp_ratio), linear=linear)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(x)
        x = x + self.mlp(x)
        return x


class Spikformer(nn.Module):
    """Spikformer classifier.  Input ``[B, C, H, W]``; repeated over T inside.

    ``attn_forms``: per block "cifar" (q@k^T first) or "imagenet" (k^T@v first).
    Head: mean over tokens -> Linear -> mean over time.
    """

    linear: Final[bool]

    def __init__(self, in_channels: int = 3, num_classes: int = 10, embed_dims: int = 384,
                 num_heads: int = 12, mlp_ratios: float = 4.0, depths: int = 4, T: int = 4,
                 attn_forms: Optional[List[str]] = None, linear: bool = False,
                 pool_stages: Tuple[int, ...] = (2, 3), qkv_bias: bool = False,
                 stem_channels: Optional[Tuple[int, int, int]] = None):
        super().__init__()
        self.T = T
        self.linear = linear
        self.num_classes = num_classes
        attn_forms = attn_forms or ["cifar"] * depths
        assert len(attn_forms) == depths
        self.patch_embed = SPS(in_channels, embed_dims, pool_stages=pool_stages, linear=linear,
                               stem_channels=stem_channels)
        self.blocks = nn.ModuleList([
            Block(embed_dims, num_heads, mlp_ratios, qkv_bias=qkv_bias, linear=linear,
                  kv_first=(form == "imagenet"))
            for form in attn_forms])
        self.head = nn.Linear(embed_dims, num_classes)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def forward_features(self, x: Tensor) -> Tensor:
        x = self.patch_embed(x)
        for blk in self.blocks:
            x = blk(x)
        if self.linear:
            return x.mean(2)  # T, B, C
        return x.mean(3)  # T, B, C

    def forward(self, x: Tensor) -> Tensor:
        x = x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)
        x = self.forward_features(x)
        x = self.head(x).mean(0)
        return x


# --------------------------------------------------------------------------
# Spike-driven Transformer (Yao et al., NeurIPS 2023) attention
# --------------------------------------------------------------------------
class SDSA(nn.Module):
    """Spike-Driven Self-Attention (mask-and-add), on ``[T, B, C, H, W]``:
    membrane shortcut, q/k/v = Conv2d(1x1)-BN2d-LIF, ``kv = (k * v).sum(-2)``,
    talking-heads LIF (v_th 0.5), ``x = q * kv``, proj Conv2d-BN2d, + identity."""

    def __init__(self, dim: int, num_heads: int = 8):
        super().__init__()
        self.dim = dim
        self.num_heads = num_heads
        self.shortcut_lif = _lif()
        for name in ("q", "k", "v"):
            setattr(self, name + "_conv", nn.Conv2d(dim, dim, kernel_size=1, stride=1, bias=False))
            setattr(self, name + "_bn", nn.BatchNorm2d(dim))
            setattr(self, name + "_lif", _lif())
        self.talking_heads_lif = _lif(v_threshold=0.5)
        self.proj_conv = nn.Conv2d(dim, dim, kernel_size=1, stride=1)
        self.proj_bn = nn.BatchNorm2d(dim)

    def forward(self, x: Tensor) -> Tensor:
        T, B, C, H, W = x.shape
        identity = x
        N = H * W
        x = self.shortcut_lif(x)
        x_for_qkv = x.flatten(0, 1)
        q = self.q_lif(self.q_bn(self.q_conv(x_for_qkv)).reshape(T, B, C, H, W).contiguous())
        q = q.flatten(3).transpose(-1, -2).reshape(T, B, N, self.num_heads, C // self.num_heads)
        q = q.permute(0, 1, 3, 2, 4).contiguous()
        k = self.k_lif(self.k_bn(self.k_conv(x_for_qkv)).reshape(T, B, C, H, W).contiguous())
        k = k.flatten(3).transpose(-1, -2).reshape(T, B, N, self.num_heads, C // self.num_heads)
        k = k.permute(0, 1, 3, 2, 4).contiguous()
        v = self.v_lif(self.v_bn(self.v_conv(x_for_qkv)).reshape(T, B, C, H, W).contiguous())
        v = v.flatten(3).transpose(-1, -2).reshape(T, B, N, self.num_heads, C // self.num_heads)
        v = v.permute(0, 1, 3, 2, 4).contiguous()

        kv = k.mul(v)
        kv = kv.sum(dim=-2, keepdim=True)
        kv = self.talking_heads_lif(kv)
        x = q.mul(kv)

        x = x.transpose(3, 4).reshape(T, B, C, H, W).contiguous()
        x = self.proj_bn(self.proj_conv(x.flatten(0, 1))).reshape(T, B, C, H, W)
        return x + identity
