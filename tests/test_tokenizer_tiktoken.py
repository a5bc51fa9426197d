"""Our encodings equal tiktoken's, given our mergeable ranks, pattern and special tokens.

tiktoken is an independent implementation (Rust) of the same rank-based BPE, so agreement on
random unicode, emoji, Chinese and whitespace-heavy text checks our regex split, merge loop and
special-token handling. Skips only if tiktoken is not installed.

    PYTHONPATH=. python -m pytest tests/test_tokenizer_tiktoken.py -q
"""
import pytest
from hypothesis import given, settings, strategies as st

from minigpt.data.chinese import parallel_text
from minigpt.data.toyweb import generate_corpus
from minigpt.tokenizer import GPT2_PATTERN, GPT4_PATTERN, BPETokenizer

tiktoken = pytest.importorskip("tiktoken")

EXTRA = ("Emoji 🙂🙂🙂 👍🏽 🇫🇷 and naïve café façade — “quotes” ‘x’ … "
         "   spaces   \t\ttabs\n\n\n  newlines \r\n 1234567890 3.14159 I'll you're WE'VE "
         "Ελληνικά русский текст العربية हिन्दी 日本語のテキスト 한국어 ")


def _train(pattern):
    en, zh = parallel_text(400, seed=2)
    text = generate_corpus(n_chars=30_000, seed=2) + en + zh + EXTRA * 20
    return BPETokenizer.train(text, 800, pattern=pattern)


@pytest.fixture(scope="module", params=["gpt2", "gpt4"])
def pair(request):
    tok = _train({"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN}[request.param])
    enc = tiktoken.Encoding(f"minigpt-{request.param}", pat_str=tok.pattern,
                            mergeable_ranks=dict(tok.ranks), special_tokens=dict(tok.special_tokens))
    return tok, enc


# text mixing ASCII, Latin-1, CJK, emoji (incl. skin tones / ZWJ), and lots of whitespace
_pieces = st.one_of(
    st.text(max_size=20),                                                     # any unicode
    st.text(alphabet=" \t\n\r\u00a0\u3000", max_size=8),                      # whitespace runs
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=12),  # CJK
    st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=6),  # emoji
    st.sampled_from(["\u200d", "\ufe0f", "🏽", "'s", "'LL", "123456", " the", "Weather for Paris"]),
)
mixed_text = st.lists(_pieces, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=mixed_text)
def test_encode_equals_tiktoken(pair, text):
    tok, enc = pair
    assert tok.encode(text, allowed_special="none") == enc.encode(text, disallowed_special=())


def test_fixed_texts_equal_tiktoken(pair):
    tok, enc = pair
    en, zh = parallel_text(50, seed=99)
    for text in [EXTRA, en, zh, generate_corpus(20, seed=5), " " * 50 + "x" + "\n" * 7, ""]:
        assert tok.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")


@settings(max_examples=50, deadline=None)
@given(parts=st.lists(st.one_of(mixed_text, st.sampled_from(["<|endoftext|>", "<|user|>", "<|end|>"])),
                      max_size=8))
def test_special_tokens_equal_tiktoken(pair, parts):
    tok, enc = pair
    text = "".join(parts)
    assert tok.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")
    allowed = {"<|user|>"}
    assert (tok.encode(text, allowed_special=allowed, disallowed_special=())
            == enc.encode(text, allowed_special=allowed, disallowed_special=()))
    if "<|endoftext|>" in text:
        with pytest.raises(ValueError):
            enc.encode(text)
        with pytest.raises(ValueError):
            tok.encode(text)


def test_to_tiktoken_export(pair):
    tok, enc = pair
    exported = tok.to_tiktoken()
    text = EXTRA + "<|assistant|>"
    assert exported.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")
    assert exported.n_vocab == tok.vocab_size
    ids = tok.encode(text, allowed_special="all")
    assert exported.decode(ids) == tok.decode(ids) == text
