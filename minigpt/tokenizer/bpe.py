r"""Byte-level BPE tokenizer (GPT-2 style), compatible with tiktoken.

A token is a byte string; its id is its *rank*: ids 0..255 are the single bytes and every merged
token has the id of the merge that created it, so a lower id means "learned earlier". Any text can
be encoded because every byte has a token; decoding concatenates the bytes and decodes UTF-8.

Encoding one pre-split chunk (the rule tiktoken uses, so the ids match it exactly):

    if the chunk's bytes are themselves a token: that one token
    else start from single bytes and repeat: among adjacent parts (x, y) whose concatenation
         x+y is a token, merge the one with the lowest rank (the leftmost on ties); stop when
         no adjacent concatenation is a token.

Encoding a document is: cut out allowed special tokens (base.py), pre-split with the regex, look
each chunk up in a cache, run the merge loop on cache misses.

    python -m minigpt.tokenizer.bpe "Hello, world! 你好"
"""
import base64
import sys

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
        self._cache = {}
        self._init_specials({} if special_tokens is None else special_tokens)

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
        ranks = self.ranks
        tok = ranks.get(piece)
        if tok is not None:
            return [tok]
        parts = [piece[i:i + 1] for i in range(len(piece))]
        # pair_rank[i] = rank of parts[i] + parts[i+1], or None if that is not a token
        pair_rank = [ranks.get(parts[i] + parts[i + 1]) for i in range(len(parts) - 1)]
        while True:
            best, at = None, -1
            for i, r in enumerate(pair_rank):
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
            del pair_rank[at]
            # only the two neighbours of the merged part changed
            if at > 0:
                pair_rank[at - 1] = ranks.get(parts[at - 1] + parts[at])
            if at < len(parts) - 1:
                pair_rank[at] = ranks.get(parts[at] + parts[at + 1])
        return [ranks[p] for p in parts]

    def _encode_chunk(self, chunk: str) -> tuple:
        ids = self._cache.get(chunk)
        if ids is None:
            ids = tuple(self._bpe(chunk.encode("utf-8")))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[chunk] = ids
        return ids

    def _encode_ordinary(self, text: str) -> list:
        ids = []
        for chunk in self._pat.findall(text):
            ids.extend(self._encode_chunk(chunk))
        return ids

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
    from minigpt.data.toyweb import generate_corpus
    tok = BPETokenizer.train(generate_corpus(n_chars=300_000, seed=0), 1024)
    text = " ".join(sys.argv[1:]) or "Hello, world! 你好"
    ids = tok.encode(text)
    print(ids)
    print([tok.token_bytes(i) for i in ids])
