r"""Training a byte-level BPE vocabulary, fast: pair counts are updated incrementally.

The algorithm (Sennrich et al. 2016, on bytes as in GPT-2):

    1. pre-split the text into chunks (patterns.py) and count each distinct chunk once: a
       1 MB English text has ~1M chunks but only ~30k distinct ones ("words");
    2. every word starts as its UTF-8 bytes, ids 0..255;
    3. repeat until the vocabulary is full: find the most frequent adjacent pair (a, b)
       (counted over words, weighted by word frequency), give it a new id, and replace every
       occurrence of (a, b) by that id.

The naive loop (bpe_naive.py) recounts every pair of every word at each merge. Here we keep
`counts[pair]` and an index `where[pair] -> words containing it`, and after merging (a, b) we touch
only the words in `where[(a, b)]`, subtracting their old pairs and adding their new ones. A heap of
(-count, a, b) entries with lazy deletion (an entry is stale when its count no longer matches)
finds the best pair in O(log n).

Tie-break (deterministic, stated): the highest count wins; among equal counts, the pair with the
smallest first id, then the smallest second id. bpe_naive.py uses the same rule, and tests check
both produce identical merges.

Subtle: every merge creates a byte string that is not yet a token. Could ("a", "ab") be merged
after ("aa", "b") made "aab"? No: if two adjacent tokens spell "aab", nothing ever merged across
the span's two ends, so inside it the earlier merges acted exactly as on the lone word "aab" --
which they had already turned into the single token "aab". tiktoken needs this (one id per byte
string); the trainer asserts it.

    python -m minigpt.tokenizer.bpe_train   # trains 512 tokens on its own source and prints some
"""
import heapq
import warnings
from collections import Counter

import regex

from .patterns import GPT2_PATTERN


# -----------------------------------------------------------------------------
# shared helpers (also used by the naive trainer)

def count_chunks(text: str, pattern: str = GPT2_PATTERN, special_tokens=()) -> Counter:
    """Distinct pre-split chunks of `text` and their counts; special-token spellings are cut out.

    Example: count_chunks("the cat the") -> Counter({"the": 1, " cat": 1, " the": 1})
    """
    pieces = [text]
    if special_tokens:
        names = sorted(special_tokens, key=lambda s: (-len(s), s))
        pieces = regex.split("|".join(regex.escape(s) for s in names), text)
    pat = regex.compile(pattern)
    counts = Counter()
    for piece in pieces:
        counts.update(pat.findall(piece))
    return counts


def n_merges_for(vocab_size: int, special_tokens=()) -> int:
    """vocab_size counts everything: 256 byte tokens + merges + special tokens."""
    n = vocab_size - 256 - len(special_tokens)
    if n < 0:
        raise ValueError(f"vocab_size={vocab_size} is too small: it must hold the 256 byte tokens "
                         f"plus {len(special_tokens)} special tokens (>= {256 + len(special_tokens)})")
    return n


def merge(ids, pair, new_id):
    """Replace each non-overlapping occurrence of `pair`, scanning left to right.

    Example: ids=[1, 2, 3, 1, 2], pair=(1, 2), new_id=4 -> [4, 3, 4]; ids=[5, 5, 5], (5, 5), 6 -> [6, 5]
    """
    a, b = pair
    out, i, n = [], 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


# -----------------------------------------------------------------------------
# the trainer

def train_bpe(text: str, vocab_size: int, special_tokens=(), pattern: str = GPT2_PATTERN,
              progress: bool = False):
    """Learn merges from `text` until there are `vocab_size - len(special_tokens)` ordinary tokens.

    Returns (vocab, merges): vocab is a list of bytes, vocab[id] = the bytes token `id` stands for
    (ids 0..255 are the single bytes); merges is a list of (a, b, new_id) in the order learned.
    Stops early (smaller vocab, with a warning) if the text runs out of pairs.
    """
    n_merges = n_merges_for(vocab_size, special_tokens)
    chunks = count_chunks(text, pattern, special_tokens)
    words = [list(c.encode("utf-8")) for c in chunks]     # word i as a list of ids
    freqs = list(chunks.values())                          # how often word i occurs

    counts = Counter()                                     # pair -> weighted count
    where = {}                                             # pair -> set of word indices
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for p in zip(w, w[1:]):
            counts[p] += f
            where.setdefault(p, set()).add(wi)
    heap = [(-c, p[0], p[1]) for p, c in counts.items()]
    heapq.heapify(heap)

    vocab = [bytes([i]) for i in range(256)]
    id_of = {t: i for i, t in enumerate(vocab)}
    merges = []
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n_merges, desc="bpe merges")
    while len(vocab) < 256 + n_merges and heap:
        negc, a, b = heapq.heappop(heap)
        if counts.get((a, b), 0) != -negc or negc == 0:
            continue                                       # stale heap entry
        merged = vocab[a] + vocab[b]
        assert merged not in id_of, f"merge {merged!r} already a token"   # see the module docstring
        new_id = len(vocab)
        vocab.append(merged)
        id_of[merged] = new_id
        merges.append((a, b, new_id))
        if bar is not None:
            bar.update(1)

        # touch only the words that contain (a, b); collect the count changes
        delta = Counter()
        for wi in where.pop((a, b)):
            w = words[wi]
            new_w = merge(w, (a, b), new_id)
            if len(new_w) == len(w):
                continue                                   # stale index entry: pair gone already
            f = freqs[wi]
            for p in zip(w, w[1:]):
                delta[p] -= f
            for p in zip(new_w, new_w[1:]):
                delta[p] += f
                where.setdefault(p, set()).add(wi)
            words[wi] = new_w
        for p, d in delta.items():
            if d == 0:
                continue
            c = counts[p] + d
            if c > 0:
                counts[p] = c
                heapq.heappush(heap, (-c, p[0], p[1]))
            else:
                del counts[p]
        counts.pop((a, b), None)
    if bar is not None:
        bar.close()
    if len(merges) < n_merges:
        warnings.warn(f"BPE training stopped after {len(merges)} of {n_merges} merges: the text has no pairs "
                      f"left, so the vocabulary has {len(vocab) + len(special_tokens)} ids, not vocab_size="
                      f"{vocab_size}; give more varied text or a smaller vocab_size", stacklevel=2)
    return vocab, merges


# -----------------------------------------------------------------------------

if __name__ == "__main__":
    vocab, merges = train_bpe(open(__file__, encoding="utf-8").read(), 512)  # trained on this file's text
    for a, b, t in merges[:20]:
        print(f"{vocab[a]!r:>12} + {vocab[b]!r:<12} -> {t:4d} {vocab[t]!r}")
    print("...", len(vocab), "tokens; longest:", max(vocab, key=len))
