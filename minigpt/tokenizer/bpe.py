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

Encoding a document is: cut out allowed special tokens (base.py), pre-split with the regex, merge
each chunk (`_encode_reference` does exactly that, and is what the fast path is tested against).
The fast path (`_encode_ordinary`) splits at single spaces with `str.split` and looks whole words
up in a cache (see its docstring for why that gives the same chunks). The words it has not seen
are cut into chunks by string methods when they have one of three simple forms (" thee,", "\nWhat?":
see `_learn_words`; most words of English do), by one regex pass otherwise, and their new chunks
are merged all at once, one vectorised round per merge, by `merge_batch` (bpe_batch.py): a first
pass over a text does thousands of merges, and one Python step each was most of its time.

The caches keep each chunk's (and word's) ids *packed*, 4 bytes per id (bpe_batch.pack), not as
tuples: the ids of a text are then one b"".join of its words' bytes and one NumPy `tolist`, and a
first pass's tens of thousands of new values are bytes, which CPython's cycle collector never walks
(as tuples they cost ~10% of the pass in collections).

    python -m minigpt.tokenizer.bpe "Hello, world! 你好"
"""
import base64
import sys
from heapq import heapify, heappop, heappush
from itertools import repeat
from operator import add, itemgetter

import numpy as np
import regex

from .base import CHAT_SPECIAL_TOKENS, Tokenizer, register
from .bpe_batch import MAX_BATCH_BYTES, PairTable, merge_batch, pack, pack_one, unpack
from .bpe_train import train_bpe
from .patterns import GPT2_PATTERN, check_pattern

_CACHE_LIMIT = 200_000   # distinct chunks (and words) remembered before a cache is cleared
_WORD_LIMIT = 128        # longer words (a paragraph of Chinese has no spaces) are not cached whole
_MIN_BATCH = 64          # fewer new chunks than this are merged one by one (a batch round has a fixed cost)
# ASCII punctuation and symbols: in both patterns never whitespace, a letter or a number (see _learn_words)
_PUNCT = "".join(c for c in map(chr, range(33, 127)) if not c.isalnum())


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
        self._cache = {}                            # chunk -> its ids, packed (bpe_batch.pack)
        self._spaced = {}                           # word -> ids of " " + word, packed (see _encode_ordinary)
        self._pairs = PairTable(ranks)              # (left, right) -> rank, for merge_batch
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

    def _encode_reference(self, text: str) -> list:
        """The reference encoder: pre-split with the regex, merge each chunk by itself. No caches.

        `_encode_ordinary` gives the same ids, faster; tests compare the two on random text.
        """
        ids = []
        for chunk in self._pat.findall(text):
            ids.extend(self._bpe(chunk.encode("utf-8")))
        return ids

    def _encode_chunks(self, chunks: list) -> None:
        """Make sure every chunk of `chunks` is in the chunk cache (chunk -> ids), merging the new ones.

        New chunks are merged together by `merge_batch` (bpe_batch.py, NumPy rounds) when there are
        many short ones, one by one by `_bpe` otherwise; a chunk that is itself a token is that token.
        """
        cache = self._cache
        new = set(chunks).difference(cache)
        if not new:
            return
        if len(cache) + len(new) > _CACHE_LIMIT:     # clear first: all of `chunks` must be cached at once
            cache.clear()
            new = set(chunks)
        new = list(new)
        pieces = [c.encode("utf-8") for c in new]
        tokens = list(map(self.ranks.get, pieces))
        cache.update((c, pack_one(t)) for c, t in zip(new, tokens) if t is not None)   # a chunk that is a token
        names = [c for c, t in zip(new, tokens) if t is None]     # the chunks to merge
        pieces = [p for p, t in zip(pieces, tokens) if t is None]
        batched = []                                 # which pieces merge_batch merges: the short ones, if many
        if len(pieces) >= _MIN_BATCH:
            batched = np.flatnonzero(np.fromiter(map(len, pieces), np.int64, len(pieces)) <= MAX_BATCH_BYTES).tolist()
            if len(batched) == len(pieces):          # (the usual case: no list to pick them from)
                cache.update(zip(names, merge_batch(pieces, self._pairs)))
            else:
                cache.update(zip([names[k] for k in batched], merge_batch([pieces[k] for k in batched], self._pairs)))
        if len(batched) < len(pieces):
            for c, p in zip(names, pieces):          # the others, one by one
                if c not in cache:
                    cache[c] = pack(self._bpe(p))

    def _encode_regex(self, text: str) -> bytes:
        """Pre-split with the regex, then the ids of each chunk from the cache (new chunks merged first), packed."""
        chunks = self._pat.findall(text)
        try:
            return b"".join(map(self._cache.__getitem__, chunks))
        except KeyError:                               # a new chunk
            self._encode_chunks(chunks)
            return b"".join(map(self._cache.__getitem__, chunks))

    def _learn_words(self, words) -> None:
        r"""Put the ids of every self-contained word of `words` into the word cache (the others stay out).

        A word is self-contained when it is 1.._WORD_LIMIT long and neither starts nor ends with whitespace
        (inner whitespace is fine), or, under the GPT-2 pattern, is "\n" + such a word: see
        `_encode_ordinary`. Its ids are those of its *unit*, " " + word ("\n" + word as it is).

        Most words need no regex to find their unit's chunks. With L a run of letters (str.isalpha)
        and P a run of ASCII punctuation and symbols (_PUNCT), both patterns cut

            " " + L + P   into  " " + L, P          " thee," -> " thee", ","
            " " + P       into  " " + P             " --" -> " --"
            "\n" + L + P  into  "\n", L, P          GPT-2 only ("\nWhat?" -> "\n", "What", "?")

        (L or P may be empty; an apostrophe in P starts no contraction, as no letter follows). The
        other words go through one regex pass over all their units ("".join of " w1", "\nw2", ...);
        then all new chunks are merged in one batch.
        """
        nl = self.pattern == GPT2_PATTERN
        spaced, cache = self._spaced, self._cache
        hard = []                                       # words that need the regex
        one, one_c = [], []                             # " " + L or " " + P: one chunk
        two, two_l, two_p = [], [], []                  # " " + L + P: chunks " " + L and P
        lined, lined_l, lined_p = [], [], []            # "\n" + L + P: chunks "\n", L, P (either may be "")
        for w in words:
            if w.isalpha():                              # " " + L (the commonest form)
                if len(w) <= _WORD_LIMIT:
                    one.append(w)
                    one_c.append(" " + w)
            elif w.isprintable():                        # no whitespace at all
                if 0 < len(w) <= _WORD_LIMIT:
                    stem = w.rstrip(_PUNCT)              # L; P = w[len(stem):]
                    if stem and not stem.isalpha():
                        hard.append(w)
                    elif stem:
                        two.append(w)
                        two_l.append(" " + stem)
                        two_p.append(w[len(stem):])
                    else:
                        one.append(w)
                        one_c.append(" " + w)
            elif len(w) <= _WORD_LIMIT and w[-1].isprintable():    # whitespace, not at the end
                if w[0].isprintable():
                    hard.append(w)                       # inner whitespace
                elif nl and w[0] == "\n" and w[1].isprintable():
                    stem = w[1:].rstrip(_PUNCT)
                    if stem and not stem.isalpha():
                        hard.append(w)
                    else:
                        lined.append(w)
                        lined_l.append(stem)
                        lined_p.append(w[1 + len(stem):])
        units = [w if w[0] == "\n" else " " + w for w in hard]
        chunks = self._pat.findall("".join(units))
        self._encode_chunks(chunks + one_c + two_l + two_p + lined_l + lined_p + ["", "\n"])
        get = cache.__getitem__
        spaced.update(zip(one, map(get, one_c)))
        spaced.update(zip(two, map(add, map(get, two_l), map(get, two_p))))
        spaced.update(zip(lined, map(add, repeat(cache["\n"]), map(add, map(get, lined_l), map(get, lined_p)))))
        if hard:
            per_chunk = list(map(get, chunks))
            flat = b"".join(per_chunk)                                  # all ids, packed, word after word
            # chunk i ends at character chunk_ends[i] and at byte id_ends[i] of flat; word k's unit
            # ends at character unit_ends[k], which is the end of one chunk: its last
            chunk_ends = np.cumsum(np.fromiter(map(len, chunks), np.int64, len(chunks)))
            id_ends = np.cumsum(np.fromiter(map(len, per_chunk), np.int64, len(chunks)))
            unit_ends = np.cumsum(np.fromiter(map(len, units), np.int64, len(units)))
            ends = id_ends[np.searchsorted(chunk_ends, unit_ends)].tolist()
            spaced.update(zip(hard, map(flat.__getitem__, map(slice, [0] + ends[:-1], ends))))

    def _encode_ordinary(self, text: str) -> list:
        r"""Same ids as `_encode_reference(text)`, faster: words between single spaces are looked up whole.

        `text.split(" ")` cuts "the cat sat." into "the", "cat", "sat."; the regex chunks of the
        text then lie inside one " " + word, provided each separating space has a character that is
        not whitespace on at least one side. Why: in both known patterns (patterns.py) a chunk that
        holds a non-space character never extends over a space after it, and a space before a
        non-space character always starts a chunk; the only lookahead, (?!\S), sees whitespace or
        the end of the text alike. So a word that neither starts nor ends with whitespace is
        encoded once, as " " + word, and cached (`_learn_words`). The other words (empty as in
        "a  b", or with whitespace at an edge; whitespace is never printable) are joined with their
        neighbours that are like them and go through the regex in place: "a  \t b" gives the
        regex's chunks. The first word has no space before it and always goes that way.

        Newlines, GPT-2 pattern only: a whitespace run W before a non-space character is cut into
        the chunks W[:-1] and W[-1] (W[-1] joins the next chunk when it is a space). So the last
        "\n" of a run belongs with the word after it: the text is split at " " after putting a
        space before every "\n" ("sat.\nThe" -> "sat.", "\nThe"), and the space is removed again
        wherever words are joined back. (The GPT-4 pattern glues newlines to the punctuation before
        them, so there lines stay inside words.)
        """
        nl = self.pattern == GPT2_PATTERN and "\n" in text
        words = (text.replace("\n", " \n") if nl else text).split(" ")
        spaced = self._spaced
        new = set(words).difference(spaced)
        if len(spaced) + len(new) > _CACHE_LIMIT:            # clear first: every word of the text must fit
            spaced.clear()
            new = set(words)
        if new:
            self._learn_words(new)
        parts = list(map(spaced.get, words, repeat(b"")))   # each word's ids, packed; b"" for the odd ones
        parts[0] = b""                                      # (no space before the first word)
        odd = np.array(_empty_at(parts), np.int64)
        cut = np.flatnonzero(np.diff(odd) > 1) + 1          # runs of adjacent odd words: odd[cut] starts one
        starts, ends = odd[np.r_[0, cut]], odd[np.r_[cut - 1, len(odd) - 1]]
        # an odd word alone between normal ones (not the first) is one chunk: "" in "x  y" is " ",
        # GPT-2's "\n" in "x\n\ny" or "x\n y" is "\n"; any other lone word gets None, for the regex below
        alone = {"": pack_one(self.ranks[b" "])}
        if nl:
            alone["\n"] = pack_one(self.ranks[b"\n"])
        lone = starts[(starts == ends) & (starts > 0)].tolist()
        for i, ids in zip(lone, map(alone.get, map(words.__getitem__, lone))):
            parts[i] = ids
        for start, end in zip(starts.tolist(), ends.tolist()):
            if not parts[start]:                             # the run's text, through the regex
                run = " ".join(words[start:end + 1])
                run = run if start == 0 else " " + run
                parts[start] = self._encode_regex(run.replace(" \n", "\n") if nl else run)
        return unpack(b"".join(parts))                      # one join of all packed ids

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


def _empty_at(parts: list) -> list:
    """Positions of the empty byte strings in `parts`, e.g. [b"ab", b"", b"cd", b""] -> [1, 3].

    list.index scans in C (and b"" is a single object, so each test is an identity check): about
    3x faster than asking every item its length.
    """
    found, i = [], -1
    try:
        while True:
            i = parts.index(b"", i + 1)
            found.append(i)
    except ValueError:
        return found


# -----------------------------------------------------------------------------

if __name__ == "__main__":
    tok = BPETokenizer.train(open(__file__, encoding="utf-8").read(), 512)  # trained on this file's text
    text = " ".join(sys.argv[1:]) or "Hello, world! 你好"
    ids = tok.encode(text)
    print(ids)
    print([tok.token_bytes(i) for i in ids])
