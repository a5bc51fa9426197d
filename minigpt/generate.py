r"""Sampling text from a GPT: temperature, top-k, top-p (nucleus), stop tokens, KV cache.

At each step the model gives logits z over the vocabulary for the next token:

    p = softmax(z / τ)          τ = temperature (τ → 0: greedy argmax; τ > 1: flatter)
    top-k:  keep the k largest logits, drop the rest (-∞)
    top-p:  keep the smallest set of tokens whose probability adds up to ≥ p

With a KV cache, each new token runs through the model alone, attending over the
keys/values kept from earlier steps: O(T) work per token instead of O(T²).

`generate()` samples one sequence. RLHF samples thousands (K responses per prompt for the
reward model, a rollout batch per PPO iteration, the evaluation sets), so `sample_batch` samples
a batch at a time. Prompts of different lengths share one batch: they are left-padded so that
they all end in the same column, each row counts its positions from its own first token, and a
mask keeps every query off the pad columns (`GPT.hidden`). One forward call then serves the
whole batch. At these model sizes a call's cost is mostly fixed Python and NumPy overhead, so
this matters: 64 PPO prompts of 14-29 tokens sampled in 0.15 s instead of 0.33 s as 13
equal-length groups (2-core AMD EPYC). Each step samples the next token of every unfinished row;
a row finishes at the stop token (<|end|>, the EOS) or after `max_new_tokens`. With one seed per
prompt, each row draws its uniforms from its own generator (`RowStreams`), so a response depends
on its prompt and seed only, not on which other prompts share its batch (up to float rounding:
pad columns can change the order of a sum), and data parallelism can split a rollout across
ranks and still sample what one process would.

    minigpt sample --ckpt runs/pretrain/ckpt --prompt "The " --temperature 0.8 --top-k 20
"""
from collections import defaultdict

import numpy as np

from minigpt.autograd import no_grad
from minigpt.backend import to_numpy, xp


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


def sample_tokens(logits, rng, temperature=1.0, top_k=None, top_p=None):
    r"""The sampler: one id per row of a (b, V) logits array, p = softmax(filter(z) / τ) (τ = 0: argmax).

    Inverse-CDF sampling with one uniform u per row: the id is the first j with Σ_{i≤j} p_i > u.
    `generate` (one row) and `sample_batch` (many) both draw through here, so a seed gives the
    same tokens on either path. Example: p = [0.7, 0.2, 0.1], u = 0.8 → id 1.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0 (0 = greedy), got {temperature}")
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return z.argmax(axis=-1)
    z = filter_logits(z / temperature, top_k=top_k, top_p=top_p)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(len(z))[:, None] * cdf[:, -1:]  # inverse-CDF sampling, one uniform per row
    return np.minimum((cdf <= u).sum(axis=-1), z.shape[-1] - 1)


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
            nxt = int(sample_tokens(to_numpy(logits.data[:, -1]), rng, temperature, top_k, top_p)[0])
            ids.append(nxt)
            out.append(nxt)
            pending = [nxt]
            if nxt in stop:
                break
    model.train(was_training)
    return out


# -----------------------------------------------------------------------------
# batched sampling (the alignment stages, evaluation, chat)

class RowStreams:
    """One generator per row of a batch, drawn from like one: `random(n)` gives row i's next uniform from
    generator i. Example: RowStreams([default_rng([7, 0]), default_rng([7, 1])]).random(2) is the same
    pair of numbers whether the two rows are sampled together or each in a batch of its own."""

    def __init__(self, generators):
        self.generators = list(generators)

    def random(self, n):
        if n != len(self.generators):
            raise ValueError(f"{len(self.generators)} row generators asked for {n} numbers")
        return np.array([g.random() for g in self.generators])


def sample_batch(model, prompts, max_new_tokens, stop_ids, temperature=1.0, top_k=None, seed=0, batch_size=128):
    """Sample one response per prompt (a list of id lists) → list of response id lists.

    `stop_ids`: one id or several (e.g. <|end|> and <|endoftext|>). A response ends with a stop id
    if the model emitted it within `max_new_tokens` (or before the
    context window filled up); otherwise it was truncated. Deterministic in `seed`: an int (or tuple)
    seeds one generator for the whole batch; a *list* of one seed per prompt (ints or tuples) gives each
    response its own generator, so it is the same whatever batch it is sampled in.
    Example: seed=[(5, 0), (5, 1)] samples row 1 like seed=[(5, 1)] on prompts[1:] alone.
    """
    block_size = model.config.block_size
    stop_ids = np.atleast_1d(np.asarray(stop_ids, dtype=np.int64))
    for i, p in enumerate(prompts):
        if len(p) == 0:
            raise ValueError(f"prompt {i} is empty")
        if len(p) >= block_size:
            raise ValueError(f"prompt {i} has {len(p)} tokens but the context window is block_size={block_size}: "
                             f"no room to generate; shorten the prompt or use a model with a larger block_size")
    groups = defaultdict(list)  # rows with the same room to generate step together
    for i, p in enumerate(prompts):
        groups[min(max_new_tokens, block_size - len(p))].append(i)  # new tokens that still fit the window
    per_row = isinstance(seed, list)  # one seed per prompt (a tuple stays one seed for the batch)
    if per_row and len(seed) != len(prompts):
        raise ValueError(f"seed: one per prompt, got {len(seed)} seeds for {len(prompts)} prompts")
    rng = None if per_row else np.random.default_rng(seed)
    out = [None] * len(prompts)
    was = model.training
    model.eval()
    with no_grad():
        for room in sorted(groups):
            idx = sorted(groups[room], key=lambda i: len(prompts[i]))  # similar lengths together: less padding
            for start in range(0, len(idx), batch_size):
                rows = idx[start:start + batch_size]
                streams = RowStreams(np.random.default_rng(seed[i]) for i in rows) if per_row else rng
                new = _sample_group(model, [prompts[i] for i in rows], room, stop_ids, temperature, top_k, streams)
                for i, r in zip(rows, new):
                    out[i] = r
    model.train(was)
    return out


def _sample_group(model, prompts, max_new, stop_ids, temperature, top_k, rng):
    """Sample continuations of `prompts` (id lists) as one left-padded batch with a KV cache."""
    b, L = len(prompts), max(len(p) for p in prompts)
    pad = np.array([L - len(p) for p in prompts])
    ids = np.zeros((b, L), dtype=np.int64)  # pad id 0: masked, never seen
    for row, p in enumerate(prompts):
        ids[row, pad[row]:] = p
    cache = {"pad": pad} if pad.any() else {}  # equal lengths need no mask
    logits, _ = model(xp.asarray(ids), cache=cache)  # prefill: (b, L, V)
    last = to_numpy(logits.data[:, -1])
    tokens = np.zeros((b, max_new), dtype=np.int64)
    done = np.zeros(b, dtype=bool)
    n = np.zeros(b, dtype=np.int64)  # tokens kept per row
    for t in range(max_new):
        nxt = sample_tokens(last, rng, temperature, top_k)
        tokens[:, t] = nxt
        n += ~done
        done |= (nxt[:, None] == stop_ids).any(axis=1)     # stop_ids: (k,) int64
        if done.all() or t == max_new - 1:
            break
        logits, _ = model(xp.asarray(nxt[:, None]), cache=cache)  # (b, 1, V)
        last = to_numpy(logits.data[:, -1])
    return [tokens[i, :n[i]].tolist() for i in range(b)]
