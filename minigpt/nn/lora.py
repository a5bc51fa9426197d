r"""LoRA: low-rank adapters for Linear layers (Hu et al. 2021).

Fine-tuning changes a pretrained weight W (out × in) by some ΔW. LoRA bets that
ΔW has low rank and learns it as a product of two thin matrices:

    y = x (W + (α/r) · B A)ᵀ + b          A: (r, in),  B: (out, r),  r ≪ min(in, out)

W and b stay frozen; only A and B train: r·(in + out) numbers instead of in·out.
A starts random (N(0, 1/in)) and B starts at zero, so at step 0 the adapted
model is exactly the pretrained one, and the gradient still reaches B
(dL/dB = (α/r) · gᵀ (x Aᵀ)). α/r scales the update so that changing r does not
change how far a given learning rate moves the output.

After training, `merge()` folds the adapter into the weight (W ← W + (α/r) B A):
inference costs nothing extra. `unmerge()` takes it out again.

    python -c "from minigpt.nn import GPT, GPTConfig; from minigpt.nn.lora import add_lora, count_trainable; m = GPT(GPTConfig()); add_lora(m, r=4); print(count_trainable(m), m.num_parameters())"
"""
import numpy as np

from minigpt import ops
from minigpt.nn.layers import Linear
from minigpt.nn.module import Module, Parameter


class LoRALinear(Module):
    """A frozen Linear (same weight/bias Parameters) plus a trainable rank-r update (α/r)·B·A."""

    def __init__(self, linear: Linear, r=4, alpha=8.0, rng=None):
        if not isinstance(linear, Linear):
            raise TypeError(f"LoRALinear wraps a minigpt.nn.Linear, got {type(linear).__name__}")
        if r < 1:
            raise ValueError(f"LoRA rank r must be ≥ 1, got {r}")
        out_f, in_f = linear.weight.shape
        rng = rng if rng is not None else np.random.default_rng(0)
        dtype = linear.weight.dtype
        self.weight, self.bias = linear.weight, linear.bias  # the pretrained layer, frozen
        for p in (self.weight, self.bias):
            if p is not None:
                p.requires_grad = False
        self.lora_A = Parameter((rng.standard_normal((r, in_f)) / np.sqrt(in_f)).astype(dtype))  # (r, in)
        self.lora_B = Parameter(np.zeros((out_f, r), dtype=dtype))  # (out, r): zero, so ΔW = 0 at the start
        self.r, self.alpha, self.scale = r, alpha, alpha / r
        self.merged = False

    def delta(self):
        """ΔW = (α/r) · B A, shape (out, in), as a raw array."""
        return (self.lora_B.data @ self.lora_A.data) * self.scale

    def forward(self, x):
        y = ops.linear(x, self.weight, self.bias)  # (..., out)
        if self.merged:
            return y
        low = ops.linear(ops.linear(x, self.lora_A), self.lora_B)  # (..., in) → (..., r) → (..., out)
        return y + low * self.scale

    def merge(self):
        """W ← W + ΔW; forward is then a plain Linear (no extra cost)."""
        if not self.merged:
            self.weight.data = self.weight.data + self.delta()
            self.merged = True
        return self

    def unmerge(self):
        """W ← W − ΔW (undo merge, e.g. to keep training the adapter)."""
        if self.merged:
            self.weight.data = self.weight.data - self.delta()
            self.merged = False
        return self

    def to_linear(self) -> Linear:
        """A plain, trainable Linear holding W + ΔW."""
        lin = Linear.__new__(Linear)
        w = self.weight.data if self.merged else self.weight.data + self.delta()
        lin.weight = Parameter(w)
        lin.bias = None if self.bias is None else Parameter(self.bias.data)
        return lin


# -----------------------------------------------------------------------------
# adding adapters to a model

def _linear_slots(module, prefix=""):
    """(dotted name, parent module, attribute) for every Linear or LoRALinear in the tree."""
    for attr, v in vars(module).items():
        if isinstance(v, (Linear, LoRALinear)):
            yield prefix + attr, module, attr
        if isinstance(v, Module) and not isinstance(v, LoRALinear):
            yield from _linear_slots(v, f"{prefix}{attr}.")
        elif isinstance(v, (list, tuple)):
            for i, m in enumerate(v):
                if isinstance(m, Module):
                    yield from _linear_slots(m, f"{prefix}{attr}.{i}.")


def add_lora(model, r=4, alpha=8.0, targets=("attn.qkv", "attn.proj"), seed=0):
    """Freeze every parameter of `model`, then wrap each Linear whose dotted name ends with one of
    `targets` in a LoRALinear. Returns the wrapped names.

    Example: targets=("attn.qkv",) on a 4-layer GPT → ['blocks.0.attn.qkv', ..., 'blocks.3.attn.qkv'].
    """
    for p in model.parameters():
        p.requires_grad = False
    rng = np.random.default_rng(seed)
    names = []
    for name, parent, attr in list(_linear_slots(model)):
        if any(name == t or name.endswith("." + t) for t in targets) and isinstance(getattr(parent, attr), Linear):
            setattr(parent, attr, LoRALinear(getattr(parent, attr), r=r, alpha=alpha, rng=rng))
            names.append(name)
    if not names:
        linears = [n for n, _, _ in _linear_slots(model)]
        raise ValueError(f"add_lora: no Linear layer matches targets {targets}; the model's Linear layers are "
                         f"{linears[:6]}{' ...' if len(linears) > 6 else ''}")
    return names


def lora_layers(model):
    return [getattr(parent, attr) for _, parent, attr in _linear_slots(model)
            if isinstance(getattr(parent, attr), LoRALinear)]


def merge_lora(model):
    """Fold every adapter into its weight and put plain Linears back; unfreeze everything.

    The model then has the original parameter names (its state_dict loads into a plain GPT).
    """
    for _, parent, attr in list(_linear_slots(model)):
        layer = getattr(parent, attr)
        if isinstance(layer, LoRALinear):
            setattr(parent, attr, layer.to_linear())
    for p in model.parameters():
        p.requires_grad = True
    return model


def count_trainable(model) -> int:
    return sum(p.size for p in model.parameters() if p.requires_grad)


def training_memory(model, optimizer_slots=2) -> dict:
    """Bytes to fine-tune: weights (all) + gradients and AdamW moments (`optimizer_slots` each) for trainable ones.

    Example: 1M float32 parameters, all trainable → 4 MB weights + 4 MB grads + 8 MB Adam = 16 MB.
    """
    weights = sum(p.data.nbytes for p in model.parameters())
    train = sum(p.data.nbytes for p in model.parameters() if p.requires_grad)
    return {"weights": weights, "grads": train, "optimizer": optimizer_slots * train,
            "total": weights + (1 + optimizer_slots) * train}
