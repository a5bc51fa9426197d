r"""Character-level tokenizer: one id per distinct character of the training text.

The classic baseline for Shakespeare (~65 characters): tiny vocabulary, but ~4x more tokens
than BPE for the same text, so the model's context window covers 4x less text. Same interface as
BPETokenizer, including special tokens (ids after the characters). A character it never saw
raises ValueError rather than silently vanishing.

    python -m minigpt.tokenizer.char "To be, or not to be"
"""
import sys

from .base import CHAT_SPECIAL_TOKENS, Tokenizer, register


@register
class CharTokenizer(Tokenizer):
    """chars: the characters, chars[id] = the character with that id."""

    type_name = "char"

    def __init__(self, chars, special_tokens=None):
        chars = list(chars)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("chars must be single characters")
        if len(set(chars)) != len(chars):
            raise ValueError("chars must be distinct")
        self.chars = chars
        self._id = {c: i for i, c in enumerate(chars)}
        self._init_specials({} if special_tokens is None else special_tokens)

    @property
    def _ordinary_vocab_size(self):
        return len(self.chars)

    @classmethod
    def train(cls, text: str, vocab_size=None, special_tokens=CHAT_SPECIAL_TOKENS):
        """Vocabulary = the sorted distinct characters of `text` (+ special tokens after them).
        Special-token spellings in `text` (e.g. <|endoftext|> separators) are not counted as text.

        vocab_size: optional check; if given it must equal the resulting size.
        """
        names = list(special_tokens)
        for s in names:                      # separators are special ids, not characters to learn
            text = text.replace(s, "")
        chars = sorted(set(text))
        specials = (dict(special_tokens) if isinstance(special_tokens, dict)
                    else {s: len(chars) + k for k, s in enumerate(names)})
        tok = cls(chars, specials)
        if vocab_size is not None and vocab_size != tok.vocab_size:
            raise ValueError(f"vocab_size={vocab_size} requested, but the text has {len(chars)} distinct "
                             f"characters + {len(specials)} special tokens = {tok.vocab_size}")
        return tok

    def _encode_ordinary(self, text: str) -> list:
        try:
            return [self._id[c] for c in text]
        except KeyError as e:
            c = e.args[0]
            raise ValueError(f"character {c!r} (U+{ord(c):04X}) at index {text.index(c)} is not in "
                             f"the vocabulary of {len(self.chars)} characters") from None

    def _id_bytes(self, i: int) -> bytes:
        if 0 <= i < len(self.chars):
            return self.chars[i].encode("utf-8")
        raise self._unknown_id(i)

    def _to_json(self):
        return {"chars": "".join(self.chars)}

    @classmethod
    def _from_json(cls, d):
        try:
            return cls(list(d["chars"]), d.get("special_tokens", {}))
        except (KeyError, TypeError) as e:
            raise ValueError(f"corrupt char tokenizer file: {e}") from e


if __name__ == "__main__":
    text = " ".join(sys.argv[1:]) or "To be, or not to be"
    tok = CharTokenizer.train(text)
    print(tok, tok.encode(text))
