r"""GPT-1: fine-tune a pretrained GPT to classify, with the language-modelling loss as an auxiliary.

Radford et al. 2018 (§3.2). On a labelled dataset C of token sequences x¹..xᵐ with labels y:

    L2(C) = Σ_(x,y) log P(y | x¹..xᵐ)                          the supervised objective
    L1(C) = Σ_x Σ_i log P(xⁱ | x¹..xⁱ⁻¹)                       language modelling on the same inputs
    L3(C) = L2(C) + λ · L1(C)                                  (GPT-1 used λ = 0.5)

(written here as losses to minimise: L2 = mean class cross-entropy, L1 = mean next-token
cross-entropy over the real input tokens). The paper reports that the auxiliary objective helps
larger datasets and improves generalisation; it also keeps the pretrained knowledge from being
overwritten by a small labelled set.

Also here, for the BERT comparison: a *linear probe*, a logistic-regression classifier trained on
frozen features of a model (no fine-tuning), which measures what its representations already know.

    python -m minigpt.experiments.classify      # fine-tune a random tiny GPT on a toy majority task
"""
import numpy as np

from minigpt import ops
from minigpt.autograd import no_grad
from minigpt.backend import to_numpy, xp
from minigpt.loop import fit
from minigpt.ops import IGNORE_INDEX


# -----------------------------------------------------------------------------
# data


def encode_texts(tok, texts, bos_id=None, extract_id=None, max_len=None):
    """Right-padded ids (B, T) and real lengths (B,): [bos] text [extract] per row (pads are 0).

    GPT-1 wrapped each input in a start token and an "extract" token whose final activation feeds
    the classifier; pass their ids to do the same (the classifier reads the last real token).
    Texts longer than `max_len` tokens in all are cut at the end (the extract token is kept).
    """
    head = [bos_id] if bos_id is not None else []
    tail = [extract_id] if extract_id is not None else []
    room = None if max_len is None else max_len - len(head) - len(tail)
    if room is not None and room < 1:
        raise ValueError(f"max_len={max_len} leaves no room for text between the bos/extract tokens")
    rows = [head + tok.encode_ordinary(t)[:room] + tail for t in texts]
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    if lengths.min() < 1:
        raise ValueError("an empty text with no bos/extract token gives a sequence of length 0")
    ids = np.zeros((len(rows), int(lengths.max())), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
    return ids, lengths


def lm_targets(ids, lengths, skip_ids=()):
    """Next-token targets (B, T) for L1: ids[t+1] while t+1 is a real token, IGNORE_INDEX elsewhere.

    Tokens in `skip_ids` (e.g. the extract token, which is not text) are not predicted.
    """
    B, T = ids.shape
    y = np.full((B, T), IGNORE_INDEX, dtype=np.int64)
    y[:, :-1] = ids[:, 1:]
    real_next = np.arange(T)[None, :] + 1 < lengths[:, None]
    y[~real_next] = IGNORE_INDEX
    y[np.isin(y, np.asarray(skip_ids, dtype=np.int64))] = IGNORE_INDEX
    return y


# -----------------------------------------------------------------------------
# the objective


def classify_losses(model, ids, lengths, labels, aux_lm_coef=0.0, lm_skip_ids=()):
    r"""(L3, L2, L1) for one batch: L3 = L2 + λ·L1 (L1 is None when λ = 0 and not needed)."""
    class_logits, lm_logits = model(xp.asarray(ids), lengths)  # (B, K), (B, T, V)
    l2 = ops.cross_entropy(class_logits, xp.asarray(np.asarray(labels, dtype=np.int64)))
    if aux_lm_coef == 0:
        return l2, l2, None
    l1 = ops.cross_entropy(lm_logits, xp.asarray(lm_targets(ids, lengths, lm_skip_ids)), ignore_index=IGNORE_INDEX)
    return l2 + aux_lm_coef * l1, l2, l1


def finetune(model, ids, lengths, labels, aux_lm_coef=0.0, steps=100, batch_size=32, lr=1e-3, seed=0,
             lm_skip_ids=(), progress=False):
    """GPT-1 fine-tuning on (ids, lengths, labels) with L3 = L2 + λ·L1; returns fit()'s history (l2, l1 too)."""
    labels = np.asarray(labels, dtype=np.int64)

    def loss_fn(step, rng):
        b = rng.choice(len(ids), size=min(batch_size, len(ids)), replace=False)
        l3, l2, l1 = classify_losses(model, ids[b], lengths[b], labels[b], aux_lm_coef, lm_skip_ids)
        return l3, {"l2": l2.item(), **({} if l1 is None else {"l1": l1.item()})}

    return fit(model, loss_fn, steps=steps, lr=lr, seed=seed, progress=progress, desc=f"finetune λ={aux_lm_coef}")


def accuracy(model, ids, lengths, labels, batch_size=256):
    """Fraction of rows whose argmax class equals the label."""
    preds = []
    with no_grad():
        for i in range(0, len(ids), batch_size):
            logits, _ = model(xp.asarray(ids[i:i + batch_size]), lengths[i:i + batch_size])
            preds.append(to_numpy(logits.data).argmax(-1))
    return float((np.concatenate(preds) == np.asarray(labels)).mean())


# -----------------------------------------------------------------------------
# linear probe on frozen features


def features(gpt, ids, lengths, pool="last"):
    """Frozen features (B, C) of a GPT trunk: hidden state at the last real token, or the mean over real tokens."""
    if pool not in ("last", "mean"):
        raise ValueError(f"pool must be 'last' or 'mean', got {pool!r}")
    with no_grad():
        h = to_numpy(gpt.hidden(xp.asarray(ids)).data).astype(np.float64)  # (B, T, C)
    if pool == "last":
        return h[np.arange(len(ids)), np.asarray(lengths) - 1]
    real = (np.arange(ids.shape[1])[None, :] < np.asarray(lengths)[:, None])[..., None]  # (B, T, 1)
    return (h * real).sum(1) / real.sum(1)


def linear_probe(x_train, y_train, x_test, y_test, l2=1e-2, steps=500, lr=0.5):
    r"""Multinomial logistic regression on standardised features by full-batch gradient descent.

    Minimises mean CE(softmax(x W + b), y) + l2·|W|²; returns test accuracy.
    """
    mu, sd = x_train.mean(0), x_train.std(0) + 1e-8
    xa, xb = (x_train - mu) / sd, (x_test - mu) / sd
    K = int(max(y_train.max(), y_test.max())) + 1
    W, b = np.zeros((xa.shape[1], K)), np.zeros(K)
    onehot = np.eye(K)[y_train]
    for _ in range(steps):
        z = xa @ W + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / len(xa)  # dCE/dz
        W -= lr * (xa.T @ g + 2 * l2 * W)
        b -= lr * g.sum(0)
    return float(((xb @ W + b).argmax(1) == y_test).mean())


if __name__ == "__main__":
    from minigpt.nn.classifier import SequenceClassifier
    from minigpt.nn.gpt import GPTConfig
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 3, size=(256, 7))  # label: are there more 2s than 1s?
    labels = ((ids == 2).sum(1) > 3).astype(np.int64)
    lengths = np.full(256, 7)
    m = SequenceClassifier(GPTConfig(vocab_size=3, block_size=7, n_layer=2, n_head=2, n_embd=32), 2)
    h = finetune(m, ids[:200], lengths[:200], labels[:200], aux_lm_coef=0.5, steps=300, lr=3e-3)
    acc = accuracy(m, ids[200:], lengths[200:], labels[200:])
    print(f"L2 {h['l2'][0]:.3f} -> {h['l2'][-1]:.3f}; held-out accuracy {acc:.2f}")
