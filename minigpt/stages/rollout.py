r"""Batched sampling for the alignment stages: many prompts at once, with a KV cache.

`generate()` samples one sequence. RLHF samples thousands (K responses per prompt for the
reward model, a rollout batch per PPO iteration, the evaluation sets), so this module samples
a batch at a time. The KV cache keeps one position counter for the whole batch, so prompts are
grouped by length: every group shares its positions, needs no padding and no attention mask.
Each step samples the next token of every unfinished row; a row finishes at the stop token
(<|end|>, the EOS) or after `max_new_tokens`.

Also here: `response_positions`, which finds each response token's logit/value inside a
right-padded batch of prompt+response sequences.

    python -m minigpt.stages.rollout      # samples from a random model, just to show shapes
"""
from collections import defaultdict

import numpy as np

from minigpt.autograd import no_grad
from minigpt.backend import to_numpy, xp
from minigpt.generate import filter_logits

# -----------------------------------------------------------------------------
# sampling


def sample_tokens(logits, rng, temperature=1.0, top_k=None):
    r"""One id per row of a (b, V) logits array: p = softmax(z / τ) (τ = 0: argmax), top-k optional."""
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return z.argmax(axis=-1)
    z = filter_logits(z / temperature, top_k=top_k)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(len(z))[:, None] * cdf[:, -1:]  # inverse-CDF sampling, one uniform per row
    return np.minimum((cdf < u).sum(axis=-1), z.shape[-1] - 1)


def sample_batch(model, prompts, max_new_tokens, stop_ids, temperature=1.0, top_k=None, seed=0, batch_size=128):
    """Sample one response per prompt (a list of id lists) → list of response id lists.

    `stop_ids`: one id or several (e.g. <|end|> and <|endoftext|>). A response ends with a stop id
    if the model emitted it within `max_new_tokens` (or before the
    context window filled up); otherwise it was truncated. Deterministic in `seed`.
    """
    block = model.config.block_size
    stop_ids = np.atleast_1d(np.asarray(stop_ids, dtype=np.int64))
    for i, p in enumerate(prompts):
        if len(p) == 0:
            raise ValueError(f"prompt {i} is empty")
        if len(p) >= block:
            raise ValueError(f"prompt {i} has {len(p)} tokens but the context window is block_size={block}: "
                             f"no room to generate; shorten the prompt or use a model with a larger block_size")
    groups = defaultdict(list)
    for i, p in enumerate(prompts):
        groups[len(p)].append(i)
    rng = np.random.default_rng(seed)
    out = [None] * len(prompts)
    was = model.training
    model.eval()
    with no_grad():
        for length in sorted(groups):
            idx = groups[length]
            for start in range(0, len(idx), batch_size):
                rows = idx[start:start + batch_size]
                new = _sample_group(model, np.array([prompts[i] for i in rows]), min(max_new_tokens, block - length),
                                    stop_ids, temperature, top_k, rng)
                for i, r in zip(rows, new):
                    out[i] = r
    model.train(was)
    return out


def _sample_group(model, ids, max_new, stop_ids, temperature, top_k, rng):
    """Sample continuations of equal-length prompts ids (b, L) with a KV cache."""
    b = len(ids)
    cache = {}
    logits, _ = model(xp.asarray(ids), cache=cache)  # prefill: (b, L, V)
    last = to_numpy(logits.data[:, -1])
    tokens = np.zeros((b, max_new), dtype=np.int64)
    done = np.zeros(b, dtype=bool)
    n = np.zeros(b, dtype=np.int64)  # tokens kept per row
    for t in range(max_new):
        nxt = sample_tokens(last, rng, temperature, top_k)
        tokens[:, t] = nxt
        n += ~done
        done |= np.isin(nxt, stop_ids)
        if done.all() or t == max_new - 1:
            break
        logits, _ = model(xp.asarray(nxt[:, None]), cache=cache)  # (b, 1, V)
        last = to_numpy(logits.data[:, -1])
    return [tokens[i, :n[i]].tolist() for i in range(b)]


# -----------------------------------------------------------------------------
# where the responses sit in a padded batch

def response_positions(prompt_lens, resp_lens):
    r"""Index arrays (rows, cols, mask), each (B, R), R = max response length.

    Response token j of row i sits at position P_i + j of the full sequence; the logits (and the
    value) that *predict* it sit one earlier, at P_i + j - 1. Pads point at position 0, mask 0.
    Example: prompt_lens [2, 3], resp_lens [2, 1] → cols [[1, 2], [2, 0]], mask [[1, 1], [1, 0]].
    """
    prompt_lens, resp_lens = np.asarray(prompt_lens), np.asarray(resp_lens)
    R = int(resp_lens.max())
    j = np.arange(R)[None, :]
    mask = (j < resp_lens[:, None]).astype(np.float32)  # (B, R)
    cols = np.where(mask > 0, prompt_lens[:, None] + j - 1, 0)
    rows = np.broadcast_to(np.arange(len(prompt_lens))[:, None], cols.shape)
    return rows, cols, mask


if __name__ == "__main__":
    from minigpt.nn.gpt import GPT, GPTConfig
    m = GPT(GPTConfig(vocab_size=20, block_size=16, n_layer=1, n_head=2, n_embd=16))
    print(sample_batch(m, [[1, 2, 3], [4, 5], [6, 7, 8]], max_new_tokens=5, stop_ids=0, seed=0))
