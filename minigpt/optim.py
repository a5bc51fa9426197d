r"""Optimisation: AdamW, a warmup + cosine learning-rate schedule, gradient clipping, and their settings.

AdamW (Loshchilov & Hutter, 2019), as in torch.optim.AdamW. At step t, for each
parameter p with gradient g:

    p ← p - lr·λ·p                         (decoupled weight decay, not added to g)
    m ← β1 m + (1-β1) g,     v ← β2 v + (1-β2) g²
    m̂ = m / (1-β1ᵗ),         v̂ = v / (1-β2ᵗ)
    p ← p - lr · m̂ / (√v̂ + ε)

Weight decay applies to matrices only: biases, LayerNorm gains and embeddings
(Parameters with no_decay=True) are left alone unless `decay_all=True`.

Every stage config holds its optimizer settings as one `optim` field, an `OptimConfig` (AdamW at a
constant learning rate: PPO, GRPO) or a `CosineOptimConfig` (warmup + cosine: the other stages),
each stage with its own defaults: `minigpt sft --optim.lr 3e-3`, `minigpt pipeline --ppo.optim.lr 1e-4`.

    python -c "from minigpt.optim import cosine_lr; print([round(cosine_lr(s, 1.0, 2, 10), 3) for s in range(11)])"
"""
import math
from dataclasses import dataclass

from minigpt.backend import get_xp
from minigpt.config import Config, fraction, nonnegative, positive
from minigpt.ops.dispatch import kernels


class AdamW:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, decay_all=False):
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("AdamW got no parameters that require grad")
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.decay = [decay_all or (p.ndim >= 2 and not getattr(p, "no_decay", False)) for p in self.params]
        self.m = [None] * len(self.params)
        self.v = [None] * len(self.params)
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        lr = self.lr
        c1 = 1.0 - b1 ** self.t  # bias corrections (Python floats: no float64 upcast)
        c2 = 1.0 - b2 ** self.t
        # m̂ / (√v̂ + ε) = (m / c1) / (√v / √c2 + ε) = (√c2 / c1) · m / (√v + ε√c2): one pass fewer
        step_size = lr * math.sqrt(c2) / c1
        eps_hat = self.eps * math.sqrt(c2)
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            xp = get_xp(p.data)
            if self.m[i] is None:
                self.m[i] = xp.zeros_like(p.data)
                self.v[i] = xp.zeros_like(p.data)
            m, v = self.m[i], self.v[i]
            wd = self.weight_decay if self.decay[i] else 0.0
            in_place = p.data.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous  # reshape(-1): views
            k = kernels(p.data, g) if in_place else None
            if k:  # one fused pass: CUDA (kernels/adamw.cu) or numba (kernels/cpu.py)
                k.adamw_step(p.data.reshape(-1), xp.ascontiguousarray(g).reshape(-1), m.reshape(-1), v.reshape(-1),
                             lr=lr, beta1=b1, beta2=b2, eps=self.eps, weight_decay=wd, step=self.t)
                continue
            if self.decay[i] and self.weight_decay:
                p.data *= 1.0 - lr * self.weight_decay
            # in place, no temporaries but one: AdamW is memory-bound, every pass over the parameters costs
            m -= g
            m *= b1
            m += g  # m = b1 m + (1 - b1) g, as g + b1 (m - g)
            u = g * g  # the one scratch array
            v -= u
            v *= b2
            v += u  # v = b2 v + (1 - b2) g²
            xp.sqrt(v, out=u)
            u += eps_hat
            xp.divide(m, u, out=u)
            u *= step_size
            p.data -= u

    # --- for checkpoints (resume must reproduce the run exactly)
    def state_dict(self):
        out = {"t": self.t}
        for i, (m, v) in enumerate(zip(self.m, self.v)):
            if m is not None:
                out[f"m.{i}"], out[f"v.{i}"] = m, v
        return out

    def load_state_dict(self, state):
        self.t = int(state["t"])
        for i, p in enumerate(self.params):
            if f"m.{i}" in state:
                xp = get_xp(p.data)
                m, v = state[f"m.{i}"], state[f"v.{i}"]
                if tuple(m.shape) != p.shape:
                    raise ValueError(f"optimizer state m.{i} has shape {tuple(m.shape)}, parameter has {p.shape}")
                self.m[i], self.v[i] = xp.asarray(m, dtype=p.dtype), xp.asarray(v, dtype=p.dtype)


def cosine_lr(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    r"""Learning rate at `step` (0-based):

        step < warmup:           max_lr · (step + 1) / warmup          (linear warmup)
        warmup ≤ step ≤ total:   min_lr + ½ (max_lr - min_lr)(1 + cos(π·progress)),
                                 progress = (step - warmup) / (total - warmup)
        step > total:            min_lr
    """
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def clip_grad_norm(params, max_norm):
    r"""Scale all gradients by min(1, max_norm / (‖g‖ + 1e-6)), ‖g‖ the global L2 norm.

    Returns ‖g‖ before clipping (a useful number to log).
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    xp = get_xp(grads[0])
    # summed on the device, read back once: one GPU sync per step instead of one per parameter
    total = math.sqrt(float(sum(xp.vdot(g.ravel(), g.ravel()).astype(xp.float64) for g in grads)))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total


# -----------------------------------------------------------------------------
# settings: one home for the optimizer fields of every stage config


@dataclass
class OptimConfig(Config):
    """AdamW at a constant learning rate, with global-norm gradient clipping (loop.adamw, loop.optimizer_step)."""
    lr: float = 1e-3  # AdamW learning rate (constant)
    weight_decay: float = 0.0  # AdamW decoupled decay (matrices only)
    beta1: float = 0.9  # AdamW β1: decay of the gradient's running mean
    beta2: float = 0.99  # AdamW β2: decay of the squared gradient's running mean
    grad_clip: float = 1.0  # max global gradient norm (0 = off)

    def validate(self):
        positive(self, "lr")
        nonnegative(self, "weight_decay", "grad_clip")
        fraction(self, "beta1", "beta2")


@dataclass
class CosineOptimConfig(OptimConfig):
    """OptimConfig with a schedule: linear warmup to lr, then cosine decay to min_lr at the last step (cosine_lr)."""
    lr: float = 1e-3  # peak learning rate
    min_lr: float = 1e-4  # final learning rate of the cosine
    warmup_iters: int = 10  # linear warmup steps

    def validate(self):
        super().validate()
        nonnegative(self, "min_lr", "warmup_iters")

