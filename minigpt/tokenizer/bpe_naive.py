r"""The textbook BPE loop, written for reading (and as the reference the fast trainer is tested against).

One merge step, by hand:

    ids    = [104, 101, 108, 108, 111]        # b"hello"
    counts = pair_counts([ids])               # {(104,101): 1, (101,108): 1, (108,108): 1, (108,111): 1}
    pair   = best_pair(counts)                # all tie at 1 -> smallest ids: (101, 108) = b"el"
    ids    = merge(ids, pair, 256)            # [104, 256, 108, 111]

`train_bpe_naive` repeats this, recounting every pair of every distinct chunk at every merge:
O(merges x total symbols). bpe_train.py gets the same merges far faster by updating counts
incrementally. Same tie-break: highest count, then smallest (first id, second id).

    python -m minigpt.tokenizer.bpe_naive
"""
from collections import Counter

from .bpe_train import count_chunks, merge, n_merges_for  # merge: one pair → one new id, left to right
from .patterns import GPT2_PATTERN


# -----------------------------------------------------------------------------
# one step

def pair_counts(words, freqs=None) -> Counter:
    """Adjacent-pair counts over a list of id lists (each weighted by freqs[i], default 1)."""
    counts = Counter()
    for i, w in enumerate(words):
        f = 1 if freqs is None else freqs[i]
        for p in zip(w, w[1:]):
            counts[p] += f
    return counts


def best_pair(counts: Counter):
    """Most frequent pair; ties go to the smallest (first, second) ids."""
    return min(counts, key=lambda p: (-counts[p], p[0], p[1]))


# -----------------------------------------------------------------------------
# the loop

def train_bpe_naive(text: str, vocab_size: int, special_tokens=(), pattern: str = GPT2_PATTERN,
                    max_merges=None):
    """Same contract as bpe_train.train_bpe, recounting all pairs at every merge.

    max_merges: stop after this many merge steps (used by the benchmark to time a prefix).
    """
    n_merges = n_merges_for(vocab_size, special_tokens)
    chunks = count_chunks(text, pattern, special_tokens)
    words = [list(c.encode("utf-8")) for c in chunks]
    freqs = list(chunks.values())
    vocab = [bytes([i]) for i in range(256)]
    merges = []
    while len(vocab) < 256 + n_merges and (max_merges is None or len(merges) < max_merges):
        counts = pair_counts(words, freqs)                 # the expensive full recount
        if not counts:
            break
        a, b = best_pair(counts)
        new_id = len(vocab)
        vocab.append(vocab[a] + vocab[b])
        merges.append((a, b, new_id))
        words = [merge(w, (a, b), new_id) for w in words]
    return vocab, merges


if __name__ == "__main__":
    vocab, merges = train_bpe_naive(open(__file__, encoding="utf-8").read(), 300)  # trained on this file's text
    print(len(merges), "merges; last five:", [vocab[t] for _, _, t in merges[-5:]])
