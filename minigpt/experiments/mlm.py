r"""BERT's masked language model (Devlin et al. 2018), on the same engine as GPT.

GPT reads left to right: position t attends to positions ≤ t and predicts token t+1. BERT's
encoder is *bidirectional* (GPTConfig(causal=False): every position attends to every position),
so it cannot be trained to predict the next token (it would just look at it). Instead it hides
some tokens and predicts them from both sides. BERT's recipe:

    choose 15% of the positions;  of those, replace 80% by [MASK], 10% by a random token, keep 10%
    L_MLM = -1/|M| Σ_{i ∈ M} log P(u_i | the corrupted sequence)          M = chosen positions

(Random and unchanged tokens make the model keep a good representation of *every* input token,
since it can never be sure which ones are corrupted; [MASK] never appears at fine-tuning time.)

What each model is good at:
  - fill in a blank with text on both sides: BERT sees both sides, GPT only the left one;
  - generate left to right: GPT's objective *is* this; BERT's output at position i predicts token i
    itself, and asking it "what comes next" means appending a [MASK] with nothing to its right,
    which is not what it was trained on (`left_to_right_loss` measures it).

    python -m minigpt.experiments.mlm      # masking statistics on a random batch
"""
import numpy as np

from minigpt import ops
from minigpt.autograd import no_grad
from minigpt.backend import to_numpy, xp
from minigpt.ops import IGNORE_INDEX

MASK = "<|mask|>"


# -----------------------------------------------------------------------------
# masking


def mask_tokens(ids, mask_id, n_random, rng, mask_prob=0.15, mask_frac=0.8, random_frac=0.1, protect_ids=()):
    r"""BERT corruption of a batch of token ids (B, T) → (inputs, targets), both (B, T) int64.

    In each row, round(mask_prob · n) of its n eligible positions (ids not in `protect_ids`, at
    least one chosen when n > 0) are chosen uniformly at random; a chosen position becomes
    `mask_id` with probability mask_frac, a random id in [0, n_random) with probability
    random_frac, and stays as it is otherwise. targets = the original id at chosen positions,
    IGNORE_INDEX (-100) elsewhere. Example with T=20, mask_prob=0.15: 3 positions per row are chosen.
    """
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"mask_tokens expects ids of shape (B, T), got {ids.shape}")
    if not (0 < mask_prob <= 1 and 0 <= mask_frac and 0 <= random_frac and mask_frac + random_frac <= 1):
        raise ValueError(f"need 0 < mask_prob ≤ 1 and mask_frac + random_frac ≤ 1, got {mask_prob}, "
                         f"{mask_frac}, {random_frac}")
    eligible = ~np.isin(ids, np.asarray(protect_ids, dtype=ids.dtype))
    n_eligible = eligible.sum(axis=1)
    k = np.where(n_eligible > 0, np.maximum(1, np.rint(mask_prob * n_eligible)), 0).astype(np.int64)  # (B,)
    keys = np.where(eligible, rng.random(ids.shape), np.inf)  # protected positions sort last
    ranks = np.argsort(np.argsort(keys, axis=1), axis=1)  # rank of each position's key in its row
    chosen = ranks < k[:, None]  # (B, T)
    u = rng.random(ids.shape)
    inputs = ids.astype(np.int64).copy()
    inputs[chosen & (u < mask_frac)] = mask_id
    swap = chosen & (u >= mask_frac) & (u < mask_frac + random_frac)
    inputs[swap] = rng.integers(0, n_random, size=int(swap.sum()))
    targets = np.where(chosen, ids, IGNORE_INDEX).astype(np.int64)
    return inputs, targets


def mlm_batch(stream, batch_size, block_size, rng, mask_id, n_random, protect_ids=(), **kw):
    """Random windows of a 1-D token stream, corrupted by `mask_tokens` → (inputs, targets) (B, T)."""
    starts = rng.integers(0, len(stream) - block_size + 1, size=batch_size)
    windows = np.stack([np.asarray(stream[s:s + block_size], dtype=np.int64) for s in starts])  # (B, T)
    return mask_tokens(windows, mask_id, n_random, rng, protect_ids=protect_ids, **kw)


def mlm_loss(model, inputs, targets):
    """Mean cross-entropy over the chosen positions only: the model's output at i predicts token i."""
    logits, _ = model(xp.asarray(inputs))  # (B, T, V)
    return ops.cross_entropy(logits, xp.asarray(targets), ignore_index=IGNORE_INDEX)


# -----------------------------------------------------------------------------
# what the two kinds of model can do


def fill_blanks(model, ids, blank, mask_id=None):
    r"""Predict the tokens at `blank` positions (bool (B, T)) of `ids` (B, T) → predicted ids (B, T).

    Masked LM (config.causal False): put `mask_id` in the blanks, read argmax at the blank itself.
    Causal LM: the prediction for position i is at i-1, from the left context only (the text to
    the right of the blank is invisible to it). Non-blank positions are returned unchanged.
    """
    ids, blank = np.asarray(ids, dtype=np.int64), np.asarray(blank, dtype=bool)
    if blank[:, 0].any() and model.config.causal:
        raise ValueError("a causal LM cannot predict position 0 (nothing to its left): keep blanks at t ≥ 1")
    with no_grad():
        if model.config.causal:
            logits = to_numpy(model(xp.asarray(ids))[0].data)  # (B, T, V), row t predicts t+1
            guess = np.concatenate([ids[:, :1], logits[:, :-1].argmax(-1)], axis=1)
        else:
            if mask_id is None:
                raise ValueError("fill_blanks on a masked LM needs mask_id")
            logits = to_numpy(model(xp.asarray(np.where(blank, mask_id, ids)))[0].data)
            guess = logits.argmax(-1)
    return np.where(blank, guess, ids)


def left_to_right_loss(model, windows, mask_id=None, start=1):
    r"""Mean -log P(u_t | u_<t) over t = start..T-1 of each window (B, T): next-token prediction.

    Causal LM: one forward pass. Masked LM: for each t, feed u_<t followed by one [MASK] and read
    the prediction at the mask (T-start forward passes): the best a bidirectional model can do
    without seeing the future.
    """
    windows = np.asarray(windows, dtype=np.int64)
    B, T = windows.shape
    with no_grad():
        if model.config.causal:
            logits = model(xp.asarray(windows[:, :-1]))[0]  # (B, T-1, V)
            y = np.full((B, T - 1), IGNORE_INDEX, dtype=np.int64)
            y[:, start - 1:] = windows[:, start:]
            return ops.cross_entropy(logits, xp.asarray(y), ignore_index=IGNORE_INDEX).item()
        if mask_id is None:
            raise ValueError("left_to_right_loss on a masked LM needs mask_id")
        total = 0.0
        for t in range(start, T):
            x = np.concatenate([windows[:, :t], np.full((B, 1), mask_id)], axis=1)  # (B, t+1)
            y = np.full((B, t + 1), IGNORE_INDEX, dtype=np.int64)
            y[:, t] = windows[:, t]
            total += ops.cross_entropy(model(xp.asarray(x))[0], xp.asarray(y), ignore_index=IGNORE_INDEX).item()
        return total / (T - start)


def mlm_generate(model, ids, n_new, mask_id):
    r"""Greedy left-to-right "generation" with a masked LM: append [MASK], fill it, repeat n_new times.

    The context is cropped to the last block_size - 1 tokens. Returns the new ids (list).
    """
    ids = [int(i) for i in ids]
    out = []
    with no_grad():
        for _ in range(n_new):
            x = np.array([ids[-(model.config.block_size - 1):] + [mask_id]])
            nxt = int(to_numpy(model(xp.asarray(x))[0].data)[0, -1].argmax())
            ids.append(nxt)
            out.append(nxt)
    return out


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 50, size=(64, 40))
    inp, tgt = mask_tokens(ids, mask_id=50, n_random=50, rng=rng)
    chosen = tgt != IGNORE_INDEX
    print(f"chosen {chosen.mean():.3f} of positions; of those [MASK] {(inp[chosen] == 50).mean():.3f}, "
          f"kept {(inp[chosen] == ids[chosen]).mean():.3f}, random {((inp != 50) & (inp != ids))[chosen].mean():.3f}")
