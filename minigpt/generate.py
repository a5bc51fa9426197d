r"""Sampling text from a GPT: temperature, top-k, top-p (nucleus), stop tokens, KV cache.

At each step the model gives logits z over the vocabulary for the next token:

    p = softmax(z / τ)          τ = temperature (τ → 0: greedy argmax; τ > 1: flatter)
    top-k:  keep the k largest logits, drop the rest (-∞)
    top-p:  keep the smallest set of tokens whose probability adds up to ≥ p

With a KV cache, each new token runs through the model alone, attending over the
keys/values kept from earlier steps: O(T) work per token instead of O(T²).

    minigpt sample --ckpt runs/pretrain/ckpt --prompt "The " --temperature 0.8 --top-k 20
"""
import numpy as np

from minigpt.autograd import no_grad
from minigpt.backend import to_numpy


def filter_logits(logits, top_k=None, top_p=None):
    r"""Set logits outside the top-k / top-p nucleus to -∞ (1-D or batched along the last axis).

    Example: logits [3, 1, 2, 0], top_k=2 → [3, -∞, 2, -∞].
    """
    z = np.array(logits, dtype=np.float64, copy=True)
    V = z.shape[-1]
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"top_k must be ≥ 1, got {top_k}")
        if top_k < V:
            kth = np.sort(z, axis=-1)[..., V - top_k, None]
            z[z < kth] = -np.inf
    if top_p is not None:
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        order = np.argsort(-z, axis=-1)
        zs = np.take_along_axis(z, order, axis=-1)
        p = np.exp(zs - zs[..., :1])
        p /= p.sum(axis=-1, keepdims=True)
        before = np.cumsum(p, axis=-1) - p  # probability mass strictly before each token
        drop_sorted = before >= top_p  # the top token always stays (before = 0)
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=-1)
        z[drop] = -np.inf
    return z


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    """Pick the next token id from a 1-D logits vector."""
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0 (0 = greedy), got {temperature}")
    if temperature == 0:
        return int(np.argmax(logits))
    z = filter_logits(np.asarray(logits, dtype=np.float64) / temperature, top_k, top_p)
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(rng.choice(len(p), p=p))


def generate(model, prompt_ids, max_new_tokens=64, temperature=1.0, top_k=None, top_p=None,
             stop_ids=(), seed=0, use_cache=True):
    """Continue `prompt_ids` (list of ints) with up to `max_new_tokens` sampled ids.

    Stops early after emitting any id in `stop_ids` (which is included in the output).
    Returns only the new ids. Same seed → same ids; cached == uncached.
    """
    cfg = model.config
    ids = [int(i) for i in prompt_ids]
    if not ids:
        raise ValueError("empty prompt: give at least one token (e.g. the <|endoftext|> id)")
    if len(ids) > cfg.block_size:
        raise ValueError(f"prompt has {len(ids)} tokens but the context window is block_size={cfg.block_size}; "
                         f"shorten it or keep its last {cfg.block_size} tokens")
    bad = [i for i in ids if not 0 <= i < cfg.vocab_size]
    if bad:
        raise ValueError(f"prompt token id {bad[0]} out of range for vocab_size={cfg.vocab_size}")
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0 (0 = greedy), got {temperature}")
    rng = np.random.default_rng(seed)
    stop = set(int(s) for s in stop_ids)
    was_training = model.training
    model.eval()
    out = []
    cache = {} if use_cache else None
    with no_grad():
        pending = ids  # tokens not yet fed to the model
        for _ in range(max_new_tokens):
            if cache is not None and cache.get("pos", 0) + len(pending) <= cfg.block_size:
                logits, _ = model(np.asarray([pending]), cache=cache)
            else:  # no cache, or the window is full: recompute over the last block_size tokens
                cache = None
                logits, _ = model(np.asarray([ids[-cfg.block_size:]]))
            nxt = sample_next(to_numpy(logits.data[0, -1]), temperature, top_k, top_p, rng)
            ids.append(nxt)
            out.append(nxt)
            pending = [nxt]
            if nxt in stop:
                break
    model.train(was_training)
    return out
