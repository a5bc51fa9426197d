"""Character tokenizer: same interface as BPE.

    PYTHONPATH=. python -m pytest tests/test_tokenizer_char.py -q
"""
import pytest
from hypothesis import given, settings, strategies as st

from minigpt.tokenizer import CHAT_SPECIAL_TOKENS, CharTokenizer, load_tokenizer

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n"


def test_vocab_is_sorted_distinct_chars():
    """Distinct chars of "abca" sorted: a b c -> ids 0 1 2, then the 6 specials 3..8."""
    tok = CharTokenizer.train("abca")
    assert tok.chars == ["a", "b", "c"]
    assert tok.encode("cab") == [2, 0, 1]
    assert tok.vocab_size == 3 + len(CHAT_SPECIAL_TOKENS)
    assert tok.eot_id == 3 and tok.token_to_id("<|pad|>") == 8


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=sorted(set(TEXT)), max_size=100))
def test_roundtrip(text):
    tok = CharTokenizer.train(TEXT)
    assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode(text)) == len(text)


def test_special_spellings_are_not_vocabulary():
    tok = CharTokenizer.train("ab<|endoftext|>ba<|endoftext|>")
    assert tok.chars == ["a", "b"]
    assert tok.encode("ab<|endoftext|>", allowed_special="all") == [0, 1, tok.eot_id]


def test_specials_and_errors():
    tok = CharTokenizer.train(TEXT)
    with pytest.raises(ValueError, match="special token"):
        tok.encode("hear<|endoftext|>")
    ids = tok.encode("hear<|endoftext|>", allowed_special="all")
    assert ids[-1] == tok.eot_id and tok.decode(ids) == "hear<|endoftext|>"
    with pytest.raises(ValueError, match="'Z' .* not in the vocabulary"):
        tok.encode("Zebra")
    with pytest.raises(ValueError, match="unknown token id"):
        tok.decode([tok.vocab_size])
    with pytest.raises(ValueError, match="vocab_size=5 requested"):
        CharTokenizer.train(TEXT, vocab_size=5)


def test_save_load(tmp_path):
    tok = CharTokenizer.train(TEXT)
    tok.save(tmp_path / "char.json")
    for loaded in (CharTokenizer.load(tmp_path / "char.json"), load_tokenizer(tmp_path / "char.json")):
        assert isinstance(loaded, CharTokenizer)
        assert loaded.chars == tok.chars and loaded.special_tokens == tok.special_tokens
        assert loaded.encode(TEXT) == tok.encode(TEXT)

