r"""A GPT-2-style decoder-only transformer.

    h0 = U·We + Wp                       token embeddings + learned positions
    h_l = h_{l-1} + attn(LN(h_{l-1}))    pre-LN blocks (GPT-2 moved LayerNorm to the block input)
    h_l = h_l + mlp(LN(h_l))             MLP: Linear(C, 4C) → GELU → Linear(4C, C)
    P(u) = softmax(LN(h_n) · Weᵀ)        output head tied to the token embedding

Sources: Radford et al. 2018 (GPT-1: h0 = U We + Wp, P(u) = softmax(h_n Weᵀ)),
Radford et al. 2019 (GPT-2: pre-LN, final LayerNorm, residual projections
initialised with std 0.02/√(2·n_layer)).

    python -c "from minigpt.nn.gpt import GPT, GPTConfig; print(GPT(GPTConfig(vocab_size=65)).num_parameters())"
"""
import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from minigpt import ops
from minigpt.autograd import Tensor, no_grad
from minigpt.backend import get_xp
from minigpt.nn.layers import Dropout, Embedding, LayerNorm, Linear
from minigpt.nn.module import Module


@dataclass
class GPTConfig:
    vocab_size: int = 256  # number of token ids (tokenizer.vocab_size)
    block_size: int = 64  # context length: the most tokens the model sees at once
    n_layer: int = 4  # transformer blocks
    n_head: int = 4  # attention heads per block
    n_embd: int = 128  # residual stream width C (head size = C / n_head)
    dropout: float = 0.0  # dropout on embeddings, attention output and MLP output
    bias: bool = True  # biases in Linear layers and LayerNorms (GPT-2: True)
    attn_impl: str = "naive"  # "naive" (materialise T×T) or "flash" (tiled, online softmax)
    flash_block: int = 32  # tile size for attn_impl="flash"
    ln_position: str = "pre"  # "pre": x + f(LN(x)) (GPT-2); "post": LN(x + f(x)) (original Transformer, GPT-1)

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if self.attn_impl not in ("naive", "flash"):
            raise ValueError(f"attn_impl must be 'naive' or 'flash', got {self.attn_impl!r}")
        if self.ln_position not in ("pre", "post"):
            raise ValueError(f"ln_position must be 'pre' or 'post', got {self.ln_position!r}")
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            if getattr(self, name) < 1:
                raise ValueError(f"GPTConfig.{name} must be ≥ 1, got {getattr(self, name)}")

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown GPTConfig fields {sorted(unknown)}")
        return cls(**d)


# -----------------------------------------------------------------------------
# parameter counting (no model needed: works for GPT-3 175B)

def count_params(cfg, include_positions=True) -> int:
    r"""Parameters of a GPT with this config, by formula.

    Per block: QKV C·3C + 3C, attention projection C² + C, MLP 4C² + 4C + 4C² + C,
    two LayerNorms 4C  →  12C² + 13C. Plus token embeddings V·C (shared with the
    head), positions T·C and the final LayerNorm 2C. With bias=False only the
    LayerNorm gains remain: 12C² + 2C per block and C for the final LayerNorm.
    """
    C, L, V, T = cfg.n_embd, cfg.n_layer, cfg.vocab_size, cfg.block_size
    per_block = 12 * C * C + (13 * C if cfg.bias else 2 * C)
    final_ln = 2 * C if cfg.bias else C
    return L * per_block + V * C + (T * C if include_positions else 0) + final_ln


# -----------------------------------------------------------------------------
# the blocks

class CausalSelfAttention(Module):
    def __init__(self, cfg, rng):
        C = cfg.n_embd
        self.n_head = cfg.n_head
        self.impl, self.block = cfg.attn_impl, cfg.flash_block
        self.qkv = Linear(C, 3 * C, bias=cfg.bias, rng=rng)
        self.proj = Linear(C, C, bias=cfg.bias, rng=rng, std=0.02 / math.sqrt(2 * cfg.n_layer))
        self.drop = Dropout(cfg.dropout, rng=rng)

    def forward(self, x, cache=None):
        qkv = self.qkv(x)  # (B, T, 3C)
        if cache is None:
            y = ops.packed_attention(qkv, self.n_head, impl=self.impl, block=self.block)  # (B, T, C)
        else:
            y = Tensor(self._cached(qkv.data, cache))
        return self.drop(self.proj(y))

    def _cached(self, qkv, cache):
        """Inference with a KV cache: append this step's keys/values, attend over all of them."""
        xp = get_xp(qkv)
        B, T, C3 = qkv.shape
        nh, hs = self.n_head, C3 // (3 * self.n_head)
        q, k, v = qkv.reshape(B, T, 3, nh, hs).transpose(2, 0, 3, 1, 4)  # each (B, nh, T, hs)
        if cache.get("k") is not None:
            k = xp.concatenate([cache["k"], k], axis=2)  # (B, nh, S, hs)
            v = xp.concatenate([cache["v"], v], axis=2)
        cache["k"], cache["v"] = k, v
        with no_grad():
            y = ops.attention(Tensor(q), Tensor(k), Tensor(v)).data  # (B, nh, T, hs)
        return y.transpose(0, 2, 1, 3).reshape(B, T, nh * hs)


class MLP(Module):
    def __init__(self, cfg, rng):
        C = cfg.n_embd
        self.fc = Linear(C, 4 * C, bias=cfg.bias, rng=rng)
        self.proj = Linear(4 * C, C, bias=cfg.bias, rng=rng, std=0.02 / math.sqrt(2 * cfg.n_layer))
        self.drop = Dropout(cfg.dropout, rng=rng)

    def forward(self, x):
        return self.drop(self.proj(ops.gelu(self.fc(x))))


class Block(Module):
    r"""Transformer block. Pre-LN (default): x + attn(LN(x)), then x + mlp(LN(x)).

    Post-LN (ln_position="post", for comparison): LN(x + attn(x)), then LN(x + mlp(x)). The
    residual stream is renormalised after every sublayer, so no path skips a LayerNorm; Xiong et
    al. 2020 show this makes gradients near the output large at init (hence the need for warmup).
    The number of parameters is the same either way.
    """

    def __init__(self, cfg, rng):
        self.post_ln = cfg.ln_position == "post"
        self.ln1 = LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg, rng)
        self.ln2 = LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg, rng)

    def forward(self, x, cache=None):
        if self.post_ln:
            x = self.ln1(x + self.attn(x, cache=cache))
            return self.ln2(x + self.mlp(x))
        x = x + self.attn(self.ln1(x), cache=cache)
        return x + self.mlp(self.ln2(x))


# -----------------------------------------------------------------------------
# the model

class GPT(Module):
    def __init__(self, cfg: GPTConfig, seed: int = 0):
        self.config = cfg
        rng = np.random.default_rng(seed)
        self.wte = Embedding(cfg.vocab_size, cfg.n_embd, rng=rng)
        self.wpe = Embedding(cfg.block_size, cfg.n_embd, rng=rng)
        self.drop = Dropout(cfg.dropout, rng=rng)
        self.blocks = [Block(cfg, rng) for _ in range(cfg.n_layer)]
        self.ln_f = LayerNorm(cfg.n_embd, bias=cfg.bias)

    def reseed(self, seed):
        """Give every Dropout a fresh generator derived from `seed` (called once per step)."""
        for i, m in enumerate(self.modules()):
            if isinstance(m, Dropout):
                m.rng = np.random.default_rng([seed, i])

    def hidden(self, idx, cache=None):
        """Final hidden states LN(h_n): (B, T) token ids → (B, T, C)."""
        idx = get_xp(self.wte.weight.data).asarray(idx.data if isinstance(idx, Tensor) else idx)  # ids on the weights' device
        if idx.ndim != 2:
            raise ValueError(f"GPT expects token ids of shape (B, T), got {idx.shape}")
        B, T = idx.shape
        start = 0 if cache is None else cache.get("pos", 0)
        if start + T > self.config.block_size:
            raise ValueError(f"sequence of {start + T} tokens exceeds the context window "
                             f"block_size={self.config.block_size}; crop it to the last {self.config.block_size}")
        pos = get_xp(idx).arange(start, start + T)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C) + (T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, cache=None if cache is None else cache.setdefault(i, {}))
        if cache is not None:
            cache["pos"] = start + T
        return self.ln_f(x)

    def forward(self, idx, targets=None, cache=None, ignore_index=-100):
        """Logits (B, T, V) and, if `targets` (B, T) are given, the mean cross-entropy."""
        h = self.hidden(idx, cache=cache)
        logits = ops.linear(h, self.wte.weight)  # tied head: h · Weᵀ, (B, T, V)
        if targets is None:
            return logits, None
        return logits, ops.cross_entropy(logits, targets, ignore_index=ignore_index)
