r"""A GPT-2-style decoder-only transformer.

    h0 = U·We + Wp                       token embeddings + learned positions
    h_l = h_{l-1} + attn(LN(h_{l-1}))    pre-LN blocks (GPT-2 moved LayerNorm to the block input)
    h_l = h_l + mlp(LN(h_l))             MLP: Linear(C, 4C) → GELU → Linear(4C, C)
    P(u) = softmax(LN(h_n) · Weᵀ)        output head tied to the token embedding

Sources: Radford et al. 2018 (GPT-1: h0 = U We + Wp, P(u) = softmax(h_n Weᵀ)),
Radford et al. 2019 (GPT-2: pre-LN, final LayerNorm, residual projections
initialised with std 0.02/√(2·n_layer)).

LLaMA-style options (Touvron et al. 2023), each on its own so they can be compared:
norm="rmsnorm" (RMSNorm for every LayerNorm), mlp="swiglu" (W₂(silu(W₁x) ⊙ W₃x)
with hidden width ≈ 8C/3, so the MLP keeps ≈ 8C² weights), pos="rope" (no Wp:
queries and keys are rotated by their absolute position inside attention).

    python -c "from minigpt.nn.gpt import GPT, GPTConfig; print(GPT(GPTConfig(vocab_size=65)).num_parameters())"
"""
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from minigpt import ops
from minigpt.autograd import Tensor, no_grad
from minigpt.backend import get_xp
from minigpt.config import Config, ConfigError, fraction, positive
from minigpt.ops.attention import merge_heads, split_heads
from minigpt.ops.rope import rope_tables
from minigpt.nn.layers import Dropout, Embedding, LayerNorm, Linear, RMSNorm
from minigpt.nn.module import Module


@dataclass
class GPTConfig(Config):
    vocab_size: int = 256  # number of token ids (tokenizer.vocab_size)
    block_size: int = 64  # context length: the most tokens the model sees at once
    n_layer: int = 4  # transformer blocks
    n_head: int = 4  # attention heads per block
    n_embd: int = 128  # residual stream width C (head size = C / n_head)
    dropout: float = 0.0  # dropout on embeddings, attention output and MLP output
    bias: bool = True  # biases in Linear layers and LayerNorms (GPT-2: True)
    attn_impl: Literal["naive", "flash"] = "naive"  # "naive" (materialise T×T) or "flash" (tiled, online softmax)
    flash_tile: int = 32  # tile size for attn_impl="flash"
    ln_position: Literal["pre", "post"] = "pre"  # "pre": x + f(LN(x)) (GPT-2); "post": LN(x + f(x)) (original Transformer, GPT-1)
    causal: bool = True  # False: bidirectional attention, every token sees every token (BERT's masked LM)
    norm: Literal["layernorm", "rmsnorm"] = "layernorm"  # "layernorm" (GPT-2) or "rmsnorm" (LLaMA)
    mlp: Literal["gelu", "swiglu"] = "gelu"  # "gelu": Linear(C, 4C) → GELU → Linear(4C, C); "swiglu": LLaMA's gated MLP
    pos: Literal["learned", "rope"] = "learned"  # "learned" absolute embeddings Wp (GPT-2) or "rope" rotary embeddings (LLaMA)
    rope_base: float = 10000.0  # RoPE: θ_i = rope_base^(-2i/hs)

    def validate(self):
        positive(self, "vocab_size", "block_size", "n_layer", "n_head", "n_embd", "flash_tile", "rope_base")
        fraction(self, "dropout")
        if self.n_embd % self.n_head:
            raise ConfigError("n_embd", f"({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not self.causal and self.attn_impl != "naive":
            raise ConfigError("causal", "must be True with attn_impl='flash' (bidirectional attention is naive only)")
        if self.pos == "rope" and (self.n_embd // self.n_head) % 2:
            raise ConfigError("pos", f"'rope' needs an even head size, got n_embd/n_head = {self.n_embd // self.n_head}")


# -----------------------------------------------------------------------------
# parameter counting (no model needed: works for GPT-3 175B)

def mlp_hidden(cfg) -> int:
    """Hidden width of the MLP: 4C for GELU; for SwiGLU 2/3 of that (three matrices instead of two),
    rounded up to a multiple of 8 as LLaMA does (C=128 → 344)."""
    if cfg.mlp == "gelu":
        return 4 * cfg.n_embd
    return math.ceil(8 * cfg.n_embd / 3 / 8) * 8


def count_params(cfg, include_positions=True) -> int:
    r"""Parameters of a GPT with this config, by formula.

    Per block: QKV C·3C + 3C, attention projection C² + C, MLP 4C² + 4C + 4C² + C,
    two LayerNorms 4C  →  12C² + 13C. Plus token embeddings V·C (shared with the
    head), positions T·C and the final LayerNorm 2C. With bias=False only the
    LayerNorm gains remain: 12C² + 2C per block and C for the final LayerNorm.

    Options: an RMSNorm has C parameters (gain only); a SwiGLU MLP with hidden
    width H has 3·C·H weights (+ 2H + C biases); pos="rope" has no position table.
    """
    C, L, V, T = cfg.n_embd, cfg.n_layer, cfg.vocab_size, cfg.block_size
    H = mlp_hidden(cfg)
    attn = 4 * C * C + (4 * C if cfg.bias else 0)
    mlp = 2 * C * H + (H + C if cfg.bias else 0) if cfg.mlp == "gelu" else 3 * C * H + (2 * H + C if cfg.bias else 0)
    norm = 2 * C if (cfg.norm == "layernorm" and cfg.bias) else C
    positions = T * C if (include_positions and cfg.pos == "learned") else 0
    return L * (attn + mlp + 2 * norm) + V * C + positions + norm


# -----------------------------------------------------------------------------
# the blocks

class CausalSelfAttention(Module):
    def __init__(self, cfg, rng):
        C = cfg.n_embd
        self.n_head = cfg.n_head
        self.impl, self.tile, self.causal = cfg.attn_impl, cfg.flash_tile, cfg.causal
        self.qkv = Linear(C, 3 * C, bias=cfg.bias, rng=rng)
        self.proj = Linear(C, C, bias=cfg.bias, rng=rng, std=0.02 / math.sqrt(2 * cfg.n_layer))
        self.drop = Dropout(cfg.dropout, rng=rng)

    def forward(self, x, cache=None, rope=None, mask=None):
        qkv = self.qkv(x)  # (B, T, 3C)
        if cache is None:
            y = ops.packed_attention(qkv, self.n_head, impl=self.impl, tile=self.tile, rope=rope,
                                     causal=self.causal)  # (B, T, C)
        else:
            y = Tensor(self._cached(qkv.data, cache, rope, mask))
        return self.drop(self.proj(y))

    def _cached(self, qkv, cache, rope=None, mask=None):
        """Inference with a KV cache: append this step's keys/values, attend over all of them.

        With RoPE the new q, k are rotated at their absolute positions before k is cached,
        so cached keys never need rotating again. `mask` (B, 1, T, S), True where a query may
        look at a key, replaces the causal one for a left-padded batch (see `GPT.hidden`).
        """
        q, k, v = split_heads(qkv, self.n_head, rope)  # each (B, nh, T, hs), q and k rotated
        k, v = _kv_append(cache, k, v)  # (B, nh, S, hs): all keys and values so far
        with no_grad():
            y = ops.attention(Tensor(q), Tensor(k), Tensor(v), mask=mask).data  # (B, nh, T, hs)
        return merge_heads(y)  # (B, T, C)


def _kv_append(cache, k, v):
    """Store this step's keys and values after the cached ones; returns views of all S of them.

    The buffers are allocated once with room to spare (and doubled if that runs out), so a step
    writes only its own T columns instead of copying the whole cache as concatenation would."""
    B, nh, T, hs = k.shape
    n = cache.get("len", 0)  # columns already cached
    if cache.get("k") is None or cache["k"].shape[2] < n + T:
        xp, room = get_xp(k), max(2 * n, n + T + 64)
        for name in ("k", "v"):
            buf = xp.empty((B, nh, room, hs), dtype=k.dtype)
            if n:
                buf[:, :, :n] = cache[name][:, :, :n]
            cache[name] = buf
    cache["k"][:, :, n:n + T], cache["v"][:, :, n:n + T] = k, v
    cache["len"] = n + T
    return cache["k"][:, :, :n + T], cache["v"][:, :, :n + T]


class MLP(Module):
    def __init__(self, cfg, rng):
        C = cfg.n_embd
        self.fc = Linear(C, 4 * C, bias=cfg.bias, rng=rng)
        self.proj = Linear(4 * C, C, bias=cfg.bias, rng=rng, std=0.02 / math.sqrt(2 * cfg.n_layer))
        self.drop = Dropout(cfg.dropout, rng=rng)

    def forward(self, x):
        return self.drop(self.proj(ops.gelu(self.fc(x))))


class SwiGLUMLP(Module):
    r"""LLaMA's MLP: proj(silu(gate(x)) ⊙ up(x)), hidden width H = mlp_hidden(cfg) ≈ 8C/3."""

    def __init__(self, cfg, rng):
        C, H = cfg.n_embd, mlp_hidden(cfg)
        self.gate = Linear(C, H, bias=cfg.bias, rng=rng)
        self.up = Linear(C, H, bias=cfg.bias, rng=rng)
        self.proj = Linear(H, C, bias=cfg.bias, rng=rng, std=0.02 / math.sqrt(2 * cfg.n_layer))
        self.drop = Dropout(cfg.dropout, rng=rng)

    def forward(self, x):
        return self.drop(self.proj(ops.swiglu(self.gate(x), self.up(x))))  # (B, T, H) → (B, T, C)


def make_norm(cfg):
    return RMSNorm(cfg.n_embd) if cfg.norm == "rmsnorm" else LayerNorm(cfg.n_embd, bias=cfg.bias)


class Block(Module):
    r"""Transformer block. Pre-LN (default): x + attn(LN(x)), then x + mlp(LN(x)).

    Post-LN (ln_position="post", for comparison): LN(x + attn(x)), then LN(x + mlp(x)). The
    residual stream is renormalised after every sublayer, so no path skips a LayerNorm; Xiong et
    al. 2020 show this makes gradients near the output large at init (hence the need for warmup).
    The number of parameters is the same either way.
    """

    def __init__(self, cfg, rng):
        self.post_ln = cfg.ln_position == "post"
        self.ln1 = make_norm(cfg)
        self.attn = CausalSelfAttention(cfg, rng)
        self.ln2 = make_norm(cfg)
        self.mlp = SwiGLUMLP(cfg, rng) if cfg.mlp == "swiglu" else MLP(cfg, rng)

    def forward(self, x, cache=None, rope=None, mask=None):
        if self.post_ln:
            x = self.ln1(x + self.attn(x, cache=cache, rope=rope, mask=mask))
            return self.ln2(x + self.mlp(x))
        x = x + self.attn(self.ln1(x), cache=cache, rope=rope, mask=mask)
        return x + self.mlp(self.ln2(x))


# -----------------------------------------------------------------------------
# the model

class GPT(Module):
    def __init__(self, cfg: GPTConfig, seed: int = 0):
        self.config = cfg
        rng = np.random.default_rng(seed)
        self.wte = Embedding(cfg.vocab_size, cfg.n_embd, rng=rng)
        if cfg.pos == "learned":
            self.wpe = Embedding(cfg.block_size, cfg.n_embd, rng=rng)
        self.drop = Dropout(cfg.dropout, rng=rng)
        self.blocks = [Block(cfg, rng) for _ in range(cfg.n_layer)]
        self.ln_f = make_norm(cfg)

    def reseed(self, seed):
        """Give every Dropout a fresh generator derived from `seed` (called once per step)."""
        for i, m in enumerate(self.modules()):
            if isinstance(m, Dropout):
                m.reseed([seed, i])

    def hidden(self, idx, cache=None):
        """Final hidden states LN(h_n): (B, T) token ids → (B, T, C).

        `cache`: a dict the model fills for KV-cached inference ("pos": the next column; layer i:
        its keys and values). To run prompts of different lengths as one batch, left-pad them
        and set cache["pad"] = (B,) pad lengths before the first call: row b's tokens start at
        column pad[b], its positions count from there, and no query ever looks at a pad column.
        """
        idx = get_xp(self.wte.weight.data).asarray(idx.data if isinstance(idx, Tensor) else idx)  # ids on the weights' device
        if idx.ndim != 2:
            raise ValueError(f"GPT expects token ids of shape (B, T), got {idx.shape}")
        B, T = idx.shape
        if cache is not None and not self.config.causal:
            raise ValueError("a bidirectional model (causal=False) has no KV cache: a new token changes "
                             "every earlier position's output, so each step must rerun the whole sequence")
        start = 0 if cache is None else cache.get("pos", 0)
        pad = None if cache is None else cache.get("pad")
        longest = start + T - (0 if pad is None else int(pad.min()))  # the longest row's length so far
        if longest > self.config.block_size:
            raise ValueError(f"sequence of {longest} tokens exceeds the context window "
                             f"block_size={self.config.block_size}; crop it to the last {self.config.block_size}")
        xp = get_xp(idx)
        pos, mask = xp.arange(start, start + T), None
        if pad is not None:  # per-row positions (B, T) and the keys each query may see (B, 1, T, S)
            pad = xp.asarray(pad)[:, None]
            col, key = pos[None, :, None], xp.arange(start + T)[None, None, :]
            mask = ((key >= pad[:, :, None]) | (key == col)) & (key <= col)  # a pad query sees itself: no all -∞ row
            mask = mask[:, None]
            pos = xp.maximum(pos[None, :] - pad, 0)
        rope = None
        if self.config.pos == "rope":  # rotate q, k inside attention instead of adding Wp
            cfg, w = self.config, self.wte.weight.data
            cos, sin = rope_tables(pos, cfg.n_embd // cfg.n_head, cfg.rope_base,
                                   xp=get_xp(w), dtype=w.dtype)  # each (T, hs/2), or (B, T, hs/2) when padded
            rope = (cos, sin) if pad is None else (cos[:, None], sin[:, None])  # (B, 1, T, hs/2): per row, all heads
            x = self.drop(self.wte(idx))  # (B, T, C)
        else:
            x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C) + (T, C) or (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, cache=None if cache is None else cache.setdefault(i, {}), rope=rope, mask=mask)
        if cache is not None:
            cache["pos"] = start + T
        return self.ln_f(x)

    def logits(self, h):
        """The tied output head: hidden states h (B, T, C) → logits h · Weᵀ (B, T, V)."""
        return ops.linear(h, self.wte.weight)

    def forward(self, idx, targets=None, cache=None, ignore_index=ops.IGNORE_INDEX):
        """Logits (B, T, V) and, if `targets` (B, T) are given, the mean cross-entropy."""
        logits = self.logits(self.hidden(idx, cache=cache))  # (B, T, V)
        if targets is None:
            return logits, None
        return logits, ops.cross_entropy(logits, targets, ignore_index=ignore_index)
