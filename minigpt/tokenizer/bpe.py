r"""Byte-level BPE tokenizer (GPT-2 style), compatible with tiktoken.

A token is a byte string; its id is its *rank*: ids 0..255 are the single bytes and every merged
token has the id of the merge that created it, so a lower id means "learned earlier". Any text can
be encoded because every byte has a token; decoding concatenates the bytes and decodes UTF-8.

Encoding one pre-split chunk (the rule tiktoken uses, so the ids match it exactly):

    if the chunk's bytes are themselves a token: that one token
    else start from single bytes and repeat: among adjacent parts (x, y) whose concatenation
         x+y is a token, merge the one with the lowest rank (the leftmost on ties); stop when
         no adjacent concatenation is a token.

Done literally ("scan every pair for the lowest rank, merge, scan again") that is O(n^2) in the
chunk's length n: a 32,000-character run of Chinese (one chunk: no spaces) took minutes. `_bpe`
keeps the candidate pairs in a heap ordered by (rank, position), so each merge costs O(log n).

Encoding a document is: cut out allowed special tokens (base.py), pre-split with the regex, look
each chunk up in a cache, run the merge loop on cache misses. The regex is the slow part in
Python, so `_encode_ordinary` first splits at single spaces with `str.split` (see its docstring
for why that gives the same chunks) and runs the regex only where that shortcut does not hold.

    python -m minigpt.tokenizer.bpe "Hello, world! 你好"
"""
import base64
import sys
from heapq import heapify, heappop, heappush
from operator import itemgetter

import regex

from .base import CHAT_SPECIAL_TOKENS, Tokenizer, register
from .bpe_train import train_bpe
from .patterns import GPT2_PATTERN, check_pattern

_CACHE_LIMIT = 200_000   # distinct chunks remembered before the cache is cleared


@register
class BPETokenizer(Tokenizer):
    """Byte-level BPE. Build one with `BPETokenizer.train(text, vocab_size)` or `load(path)`.

    vocab: list of bytes, vocab[id] = the bytes of token `id` (vocab[:256] = the 256 single bytes).
    """

    type_name = "bpe"

    def __init__(self, vocab, special_tokens=None, pattern: str = GPT2_PATTERN, merges=None):
        vocab = [bytes(t) for t in vocab]
        if len(vocab) < 256 or any(vocab[i] != bytes([i]) for i in range(256)):
            raise ValueError("vocab must start with the 256 single bytes in order (vocab[i] == bytes([i]))")
        ranks = {}
        for i, t in enumerate(vocab):
            if t in ranks:
                raise ValueError(f"token bytes {t!r} appear twice (ids {ranks[t]} and {i}); "
                                 "each byte string must have exactly one id")
            ranks[t] = i
        self.vocab = vocab
        self.ranks = ranks                          # bytes -> id (tiktoken's "mergeable ranks")
        self.pattern = check_pattern(pattern)     # a known pattern only: a file's regex is not trusted
        self._pat = regex.compile(pattern)
        self.merges = [tuple(m) for m in merges] if merges else []   # training history, for display
        self._cache = {}                            # chunk -> ids
        self._spaced = {}                           # word -> ids of " " + word (see _encode_ordinary)
        self._init_specials({} if special_tokens is None else special_tokens)
        # decode table: id -> bytes, then as many Nones, so that a negative id lands on a None
        # (subtle: a list would otherwise read table[-1] happily) and decode_bytes falls back
        table = [None] * self.vocab_size
        table[:len(vocab)] = vocab
        for s, i in self.special_tokens.items():
            table[i] = s.encode("utf-8")
        self._decoder = table + [None] * len(table)

    @property
    def _ordinary_vocab_size(self):
        return len(self.vocab)

    # ---- training ----
    @classmethod
    def train(cls, text: str, vocab_size: int, special_tokens=CHAT_SPECIAL_TOKENS,
              pattern: str = GPT2_PATTERN, progress: bool = False):
        """Learn a vocabulary of `vocab_size` ids in total (bytes + merges + special tokens).

        special_tokens: list of strings (ids assigned after the ordinary tokens, in list order) or
        a dict str -> id. Their spellings are cut out of the training text.
        """
        names = list(special_tokens)
        check_pattern(pattern)
        vocab, merges = train_bpe(text, vocab_size, names, pattern, progress=progress)
        if isinstance(special_tokens, dict):
            specials = dict(special_tokens)
        else:
            specials = {s: len(vocab) + k for k, s in enumerate(names)}
        return cls(vocab, specials, pattern, merges)

    # ---- encode / decode ----
    def _bpe(self, piece: bytes) -> list:
        r"""Merge one chunk's bytes by rank; returns ids. O(n log n) in the chunk's n bytes.

        The parts form a linked list over byte positions: the part starting at byte i is
        piece[i:end[i]] (end[i] = -1 once the part was merged into its left neighbour). The heap
        holds (rank, i, j) for adjacent parts spanning piece[i:j]; an entry is stale when the
        part at i is gone or the pair's span changed (a neighbour merged first), and is skipped.
        Since a rank depends only on the pair's bytes, a live entry's rank is still right.

        b"aaab", ranks {aa: 256, ab: 257}: heap (256,0,2) (256,1,3) (257,2,4) -> merge 0..2 ->
        (256,1,3) stale, (257,2,4) merges -> parts aa|ab -> [256, 257].
        """
        ranks = self.ranks
        tok = ranks.get(piece)
        if tok is not None:
            return [tok]
        n = len(piece)
        end = list(range(1, n + 1))                 # part i = piece[i:end[i]]; all single bytes
        prev = list(range(-1, n - 1))               # start of the part left of part i
        heap = [(r, i, i + 2) for i in range(n - 1) if (r := ranks.get(piece[i:i + 2])) is not None]
        heapify(heap)
        while heap:
            _, i, j = heappop(heap)                 # lowest rank, leftmost on ties
            mid = end[i]
            if mid < 0 or mid >= n or end[mid] != j:
                continue                            # stale: the part at i or its neighbour changed
            end[i], end[mid] = j, -1                # part i absorbs its right neighbour
            if j < n:                               # new pair with the right neighbour
                prev[j] = i
                r = ranks.get(piece[i:end[j]])
                if r is not None:
                    heappush(heap, (r, i, end[j]))
            left = prev[i]                          # new pair with the left neighbour
            if left >= 0:
                r = ranks.get(piece[left:j])
                if r is not None:
                    heappush(heap, (r, left, j))
        ids, i = [], 0
        while i < n:
            ids.append(ranks[piece[i:end[i]]])
            i = end[i]
        return ids

    def _encode_chunk(self, chunk: str) -> tuple:
        ids = self._cache.get(chunk)
        if ids is None:
            ids = tuple(self._bpe(chunk.encode("utf-8")))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[chunk] = ids
        return ids

    def _encode_regex(self, text: str) -> list:
        """The reference: pre-split with the regex, encode each chunk (through the cache)."""
        ids = []
        for chunk in self._pat.findall(text):
            ids.extend(self._encode_chunk(chunk))
        return ids

    def _encode_ordinary(self, text: str) -> list:
        r"""Same ids as `_encode_regex(text)`, faster: words between single spaces are looked up whole.

        `text.split(" ")` cuts "the cat sat." into "the", "cat", "sat."; every regex chunk of the
        text then lies inside one " " + word, provided each separating space has a character that
        is not whitespace on at least one side. Why: in both known patterns (patterns.py) a chunk
        that holds a non-space character never extends over a space after it, and a space before
        a non-space character always starts a chunk; the only lookahead, (?!\S), sees whitespace
        or the end of the text alike. A word that is empty ("a  b") or holds other whitespace
        ("
", "	", U+00A0: none of them isprintable) is joined with its neighbours and goes
        through the regex, so "a  
 b" still gives the regex's chunks.
        The ids of " " + word are cached by word, so frequent words cost one dict lookup.
        """
        words = text.split(" ")
        spaced, ids, pending = self._spaced, [], [words[0]]   # pending: words for the regex
        lookup, extend = spaced.get, ids.extend                # (bound once: this loop is the hot path)
        for w in words[1:]:
            w_ids = lookup(w)                                  # only clean words are ever cached
            if w_ids is None:
                if not (w and w.isprintable()):                # empty, or holds whitespace: to the regex
                    if pending:
                        pending.append(w)                      # " ".join puts the space back
                    else:
                        pending = ["", w]                      # " " + w
                    continue
                w_ids = tuple(self._encode_regex(" " + w))     # clean: whitespace on neither side
                if len(spaced) >= _CACHE_LIMIT:
                    spaced.clear()
                spaced[w] = w_ids
            if pending:
                extend(self._encode_regex(" ".join(pending)))
                pending = None
            extend(w_ids)
        if pending:
            extend(self._encode_regex(" ".join(pending)))
        return ids

    def decode_bytes(self, ids) -> bytes:
        """Ids -> the raw bytes they stand for, through one lookup table (falls back to check each id)."""
        ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)    # NumPy arrays, iterators
        try:
            if len(ids) > 1:
                parts = itemgetter(*ids)(self._decoder)    # one C loop, ~1.3x faster than a comprehension
            else:
                parts = [self._decoder[i] for i in ids]
            return b"".join(parts)
        except (TypeError, IndexError):        # an id out of range (a None), or not an int
            return super().decode_bytes(ids)   # which names the bad id

    def _id_bytes(self, i: int) -> bytes:
        if 0 <= i < len(self.vocab):
            return self.vocab[i]
        raise self._unknown_id(i)

    def token_bytes(self, i: int) -> bytes:
        """The bytes one id stands for (special tokens as their UTF-8 spelling)."""
        return self.decode_bytes([i])

    def split_chunks(self, text: str) -> list:
        """The regex pre-split, e.g. "I'll go!" -> ["I", "'ll", " go", "!"]."""
        return self._pat.findall(text)

    # ---- export ----
    def to_tiktoken(self, name: str = "minigpt"):
        """A tiktoken.Encoding with our ranks, pattern and special tokens (needs `pip install tiktoken`)."""
        import tiktoken
        return tiktoken.Encoding(name, pat_str=self.pattern, mergeable_ranks=dict(self.ranks),
                                 special_tokens=dict(self.special_tokens))

    def _to_json(self):
        return {"pattern": self.pattern,
                "ranks": [base64.b64encode(t).decode("ascii") for t in self.vocab],
                "merges": [list(m) for m in self.merges]}

    @classmethod
    def _from_json(cls, d):
        try:
            vocab = [base64.b64decode(s, validate=True) for s in d["ranks"]]
            return cls(vocab, d.get("special_tokens", {}), d["pattern"], d.get("merges"))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"corrupt BPE tokenizer file: {e}") from e


# -----------------------------------------------------------------------------

if __name__ == "__main__":
    tok = BPETokenizer.train(open(__file__, encoding="utf-8").read(), 512)  # trained on this file's text
    text = " ".join(sys.argv[1:]) or "Hello, world! 你好"
    ids = tok.encode(text)
    print(ids)
    print([tok.token_bytes(i) for i in ids])
