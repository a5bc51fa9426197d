r"""What every minigpt tokenizer shares: special tokens, the encode/decode contract, JSON files.

A tokenizer maps text to a list of integer ids and back. Two kinds live in this package:
`BPETokenizer` (byte-level BPE, what GPT-2/3/4 use) and `CharTokenizer` (one id per character,
the classic Shakespeare baseline). Both inherit the special-token rules defined here.

Special tokens (`<|endoftext|>`, the chat-role markers) are ids outside the ordinary vocabulary.
They must never be produced by accident from user text, or a user could type `<|assistant|>` and
forge a turn. So, as in tiktoken, `encode` *raises* when the text contains a special token's spelling
unless the caller allows it:

    tok.encode("hi<|endoftext|>")                          # ValueError
    tok.encode("hi<|endoftext|>", allowed_special="all")   # [..., eot_id]
    tok.encode("hi<|endoftext|>", allowed_special="none")  # special spelled as plain text

    python -c "from minigpt.tokenizer import CHAT_SPECIAL_TOKENS; print(CHAT_SPECIAL_TOKENS)"
"""
import json
import os
import tempfile

import regex

# The course's special tokens. Pretraining documents are separated by <|endoftext|>; the alignment
# stages build chat templates from the role markers; <|pad|> fills ragged batches.
EOT = "<|endoftext|>"
CHAT_SPECIAL_TOKENS = [EOT, "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|pad|>"]


# -----------------------------------------------------------------------------
# helpers

def atomic_write_bytes(path, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder + os.replace (never half-written)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)              # mkstemp makes 0600; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """atomic_write_bytes for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def check_text(text) -> None:
    """Reject non-str input and lone surrogates (they have no UTF-8 encoding) with a clear message."""
    if not isinstance(text, str):
        raise TypeError(f"encode expects a str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"text contains a lone surrogate {text[e.start]!r} at index {e.start}; "
                         "it has no UTF-8 encoding (expected valid Unicode text)") from None


def validate_special_tokens(special_tokens: dict, first_free_id: int) -> dict:
    """Check that special tokens are distinct non-empty strings with distinct ids >= first_free_id."""
    out = {}
    for s, i in special_tokens.items():
        if not isinstance(s, str) or not s:
            raise ValueError(f"special token names must be non-empty strings, got {s!r}")
        if not isinstance(i, int) or i < first_free_id:
            raise ValueError(f"special token {s!r} has id {i!r}; expected an int >= {first_free_id} "
                             "(ids below that belong to the ordinary vocabulary)")
        out[s] = i
    if len(set(out.values())) != len(out):
        raise ValueError(f"special tokens share ids: {out}")
    return out


# -----------------------------------------------------------------------------
# the shared base class

class Tokenizer:
    """Base class. Subclasses implement `_encode_ordinary(text)`, `_decode_bytes(ids)`,
    `_ordinary_vocab_size`, `_to_json()` and `_from_json(d)`; they set `type_name` and
    `self.special_tokens` (dict str -> id)."""

    type_name = "base"

    def _init_specials(self, special_tokens: dict) -> None:
        self.special_tokens = validate_special_tokens(dict(special_tokens), self._ordinary_vocab_size)
        self._id_to_special = {i: s for s, i in self.special_tokens.items()}

    # ---- sizes and lookups ----
    @property
    def vocab_size(self) -> int:
        """Number of ids: ordinary tokens plus special tokens (ids are 0..vocab_size-1)."""
        return max([self._ordinary_vocab_size - 1, *self.special_tokens.values()]) + 1

    def token_to_id(self, token: str) -> int:
        """Id of a special token, e.g. token_to_id("<|user|>")."""
        if token in self.special_tokens:
            return self.special_tokens[token]
        raise KeyError(f"{token!r} is not a special token of this tokenizer; "
                       f"expected one of {sorted(self.special_tokens)}")

    @property
    def eot_id(self) -> int:
        """Id of <|endoftext|>, the document separator."""
        return self.token_to_id(EOT)

    # ---- encode ----
    def _resolve_special(self, allowed_special, disallowed_special):
        known = set(self.special_tokens)
        if allowed_special == "none":             # every special spelling is just text
            return frozenset(), frozenset()
        if allowed_special == "none_raise":
            allowed = frozenset()
        elif allowed_special == "all":
            allowed = frozenset(known)
        elif isinstance(allowed_special, (set, frozenset, list, tuple)):
            allowed = frozenset(allowed_special)
            unknown = allowed - known
            if unknown:
                raise ValueError(f"allowed_special names unknown special tokens {sorted(unknown)}; "
                                 f"this tokenizer has {sorted(known)}")
        else:
            raise ValueError(f"allowed_special must be 'none_raise', 'none', 'all' or a set of "
                             f"special tokens, got {allowed_special!r}")
        if disallowed_special == "all":
            disallowed = frozenset(known) - allowed
        else:
            disallowed = frozenset(disallowed_special)
        return allowed, disallowed

    def encode(self, text: str, allowed_special="none_raise", disallowed_special="all") -> list:
        """Text -> ids. Special-token spellings raise ValueError unless allowed (tiktoken's rules).

        allowed_special: "none_raise" (default: none allowed, raise if one appears), "none" (treat
        their spellings as ordinary text), "all", or a set of special tokens to encode as their ids.
        disallowed_special: "all" (every special not allowed) or a collection; () disables the check.
        """
        check_text(text)
        allowed, disallowed = self._resolve_special(allowed_special, disallowed_special)
        found = sorted((text.find(s), s) for s in disallowed if s in text)
        if found:                                  # report the first one in the text
            at, s = found[0]
            raise ValueError(
                f"text contains the special token {s!r} at index {at}. Special tokens are not "
                "encoded from text by default; pass allowed_special={" + repr(s) + "} or 'all' to "
                "encode it as its id, or allowed_special='none' to encode it as plain text")
        if not allowed:
            return self._encode_ordinary(text)
        names = sorted(allowed, key=lambda s: (-len(s), s))   # longest first
        pattern = regex.compile("|".join(regex.escape(s) for s in names))
        ids, start = [], 0
        for m in pattern.finditer(text):
            ids.extend(self._encode_ordinary(text[start:m.start()]))
            ids.append(self.special_tokens[m.group()])
            start = m.end()
        ids.extend(self._encode_ordinary(text[start:]))
        return ids

    def encode_ordinary(self, text: str) -> list:
        """Encode with no special-token handling at all (special spellings are plain text)."""
        check_text(text)
        return self._encode_ordinary(text)

    # ---- decode ----
    def decode_bytes(self, ids) -> bytes:
        """Ids -> the raw bytes they stand for (special tokens as their UTF-8 spelling)."""
        out = []
        for i in ids:
            i = int(i)
            if i in self._id_to_special:
                out.append(self._id_to_special[i].encode("utf-8"))
            else:
                out.append(self._id_bytes(i))
        return b"".join(out)

    def decode(self, ids, errors: str = "replace") -> str:
        """Ids -> text. Unknown ids raise; byte sequences cut mid-character become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    def _unknown_id(self, i):
        return ValueError(f"unknown token id {i}; valid ids are 0..{self.vocab_size - 1}")

    # ---- files ----
    def save(self, path) -> None:
        """Write the tokenizer as JSON (atomically). Load it back with `load_tokenizer(path)`."""
        d = {"type": self.type_name, "version": 1, **self._to_json(),
             "special_tokens": self.special_tokens}
        atomic_write_text(path, json.dumps(d, ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path):
        """Read a tokenizer saved by `save`; raises if the file holds another type."""
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if not isinstance(d, dict) or "type" not in d:
            raise ValueError(f"{path}: not a minigpt tokenizer file (no 'type' field)")
        if cls is not Tokenizer and d["type"] != cls.type_name:
            raise ValueError(f"{path}: holds a {d['type']!r} tokenizer, expected {cls.type_name!r}")
        sub = _REGISTRY.get(d["type"])
        if sub is None:
            raise ValueError(f"{path}: unknown tokenizer type {d['type']!r}; expected one of {sorted(_REGISTRY)}")
        return sub._from_json(d)

    def __repr__(self):
        return (f"{type(self).__name__}(vocab_size={self.vocab_size}, "
                f"special_tokens={len(self.special_tokens)})")


_REGISTRY = {}


def register(cls):
    """Class decorator: make `load_tokenizer` know this tokenizer type."""
    _REGISTRY[cls.type_name] = cls
    return cls


def load_tokenizer(path) -> Tokenizer:
    """Load any minigpt tokenizer JSON, dispatching on its "type" field ("bpe" or "char")."""
    return Tokenizer.load(path)
