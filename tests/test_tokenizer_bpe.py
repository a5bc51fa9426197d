"""Byte-level BPE: hand-worked merges, fast trainer == naive trainer, round trips, special tokens, files.

    PYTHONPATH=. python -m pytest tests/test_tokenizer_bpe.py -q
"""
import base64
import json
import random

import pytest
from hypothesis import given, settings, strategies as st

from minigpt.data.chinese import parallel_text
from minigpt.data.toyweb import generate_corpus
from minigpt.tokenizer import CHAT_SPECIAL_TOKENS, BPETokenizer, CharTokenizer, load_tokenizer, train_bpe
from minigpt.tokenizer.bpe_naive import best_pair, merge, pair_counts, train_bpe_naive


@pytest.fixture(scope="module")
def tok():
    en, zh = parallel_text(300, seed=1)
    text = generate_corpus(n_chars=40_000, seed=1) + en + zh + " 🙂🙂 naïve café\n\n\t  x"
    return BPETokenizer.train(text, 700)


# -----------------------------------------------------------------------------
# hand-worked examples

def test_wikipedia_example_by_hand():
    """"aaabdaaabac" is one pre-split chunk. Pair counts: aa:4 ab:2 bd:1 da:1 ba:1 ac:1
    -> merge (a,a)=(97,97) -> 256. Now [256,97,98,100,256,97,98,97,99]: (256,97):2 and (97,98):2
    tie -> smallest first id wins: (97,98) -> 257. Now [256,257,100,256,257,97,99]:
    (256,257):2 -> 258 = b"aaab". Encoding the text: [258, 100, 258, 97, 99]."""
    tok = BPETokenizer.train("aaabdaaabac", 256 + 3, special_tokens=[])
    assert tok.merges == [(97, 97, 256), (97, 98, 257), (256, 257, 258)]
    assert tok.vocab[256:] == [b"aa", b"ab", b"aaab"]
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]


def test_naive_helpers_by_hand():
    assert merge([1, 2, 3, 1, 2], (1, 2), 4) == [4, 3, 4]
    assert merge([5, 5, 5], (5, 5), 6) == [6, 5]            # non-overlapping, left to right
    counts = pair_counts([[104, 101, 108, 108, 111]])      # b"hello"
    assert counts == {(104, 101): 1, (101, 108): 1, (108, 108): 1, (108, 111): 1}
    assert best_pair(counts) == (101, 108)                 # all tie at 1: smallest ids


def test_pre_split_keeps_merges_inside_chunks():
    """" the" and "the" are different chunks, so no token may contain a space after a letter."""
    # at; th, the; " the"; and 2 each for " cat", " hat", " mat": 10 merges make every chunk one token
    with pytest.warns(UserWarning, match="stopped after 10 of 20 merges"):
        tok = BPETokenizer.train("the cat the hat the mat " * 50, 256 + 20, special_tokens=[])
    for t in tok.vocab[256:]:
        assert b" " not in t[1:], t


# -----------------------------------------------------------------------------
# fast trainer == naive reference

def _random_text(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


@pytest.mark.parametrize("seed", range(6))
def test_fast_trainer_matches_naive(seed):
    rng = random.Random(seed)
    alphabet = ["a", "b", "c", "aa", " ", "  ", "\n", "é", "你", "1", "'s", "!"]   # ties and overlaps
    text = _random_text(rng, alphabet, 3000)
    fast = train_bpe(text, 256 + 60)
    naive = train_bpe_naive(text, 256 + 60)
    assert fast == naive


def test_fast_trainer_matches_naive_on_english_with_specials():
    text = generate_corpus(n_chars=20_000, seed=3)         # contains <|endoftext|> separators
    fast = train_bpe(text, 400, CHAT_SPECIAL_TOKENS)
    naive = train_bpe_naive(text, 400, CHAT_SPECIAL_TOKENS)
    assert fast == naive
    assert len(fast[0]) == 400 - len(CHAT_SPECIAL_TOKENS)
    assert not any(b"endoftext" in t or b"<|" in t for t in fast[0])     # separators cut out...
    unaware = train_bpe(text, 400)                                          # ...else they'd be merged
    assert any(b"endoftext" in t for t in unaware[0])


def test_vocab_size_counts_specials(tok):
    assert tok.vocab_size == 700
    assert sorted(tok.special_tokens.values()) == list(range(700 - 6, 700))
    assert tok.eot_id == tok.token_to_id("<|endoftext|>") == 700 - 6


def test_vocab_too_small_raises():
    with pytest.raises(ValueError, match="too small"):
        BPETokenizer.train("hello", 256)                    # no room for 6 special tokens


def test_training_stops_when_pairs_run_out():
    with pytest.warns(UserWarning, match="stopped after 1 of 744 merges.*257 ids, not vocab_size=1000"):
        tok = BPETokenizer.train("ab", 1000, special_tokens=[])
    assert tok.vocab[256:] == [b"ab"] and tok.vocab_size == 257


# -----------------------------------------------------------------------------
# encode / decode

@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_roundtrip_any_text(tok, text):
    assert tok.decode(tok.encode(text, allowed_special="none")) == text


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["hello", " world", "<|endoftext|>", "<|user|>", "你好", "\n\n", "🙂", " "]),
                max_size=30))
def test_roundtrip_with_specials(tok, parts):
    text = "".join(parts)
    ids = tok.encode(text, allowed_special="all")
    assert tok.decode(ids) == text
    assert ids.count(tok.eot_id) == text.count("<|endoftext|>")


def test_decode_unknown_id_raises(tok):
    with pytest.raises(ValueError, match="unknown token id 700"):
        tok.decode([1, 700])
    with pytest.raises(ValueError, match="unknown token id -1"):
        tok.decode([-1])


def test_lone_surrogate_raises(tok):
    with pytest.raises(ValueError, match="surrogate"):
        tok.encode("ok \ud800 no")
    with pytest.raises(TypeError):
        tok.encode(b"bytes")


def test_repeated_chunks_use_cache(tok):
    text = "Weather for Paris on Monday. " * 3
    first = tok.encode(text)
    assert tok._cache                                      # chunks were remembered
    assert tok.encode(text) == first
    assert first[: len(first) // 3] * 3 == first           # identical sentences, identical ids


def test_compresses_training_like_text(tok):
    text = generate_corpus(n_docs=50, seed=9)
    ids = tok.encode(text, allowed_special="all")
    assert len(ids) < len(text.encode("utf-8")) / 2.5


# -----------------------------------------------------------------------------
# special tokens (tiktoken's rules)

def test_special_text_raises_by_default(tok):
    with pytest.raises(ValueError, match="special token '<\\|user\\|>'"):
        tok.encode("hi <|user|> there")
    with pytest.raises(ValueError, match="'<\\|end\\|>' at index 1\\b"):             # the first one is named
        tok.encode("x<|end|>y<|endoftext|>z<|user|>")


def test_allowed_special_variants(tok):
    text = "a<|user|>b<|endoftext|>"
    u, e = tok.token_to_id("<|user|>"), tok.eot_id
    assert tok.encode(text, allowed_special="all") == tok.encode("a") + [u] + tok.encode("b") + [e]
    with pytest.raises(ValueError, match="<\\|endoftext\\|>"):          # only <|user|> allowed
        tok.encode(text, allowed_special={"<|user|>"})
    got = tok.encode(text, allowed_special={"<|user|>"}, disallowed_special=())
    assert got == tok.encode("a") + [u] + tok.encode_ordinary("b<|endoftext|>")
    plain = tok.encode(text, allowed_special="none")
    assert u not in plain and e not in plain and tok.decode(plain) == text


def test_allowed_special_rejects_unknown_names(tok):
    with pytest.raises(ValueError, match="unknown special"):
        tok.encode("x", allowed_special={"<|nope|>"})
    with pytest.raises(ValueError, match="allowed_special must be"):
        tok.encode("x", allowed_special="yes")
    with pytest.raises(KeyError, match="not a special token"):
        tok.token_to_id("<|nope|>")


# -----------------------------------------------------------------------------
# files

def test_save_load_roundtrip(tok, tmp_path):
    path = tmp_path / "tok.json"
    tok.save(path)
    d = json.loads(path.read_text(encoding="utf-8"))
    assert d["type"] == "bpe" and d["pattern"] == tok.pattern
    assert base64.b64decode(d["ranks"][300]) == tok.vocab[300]
    assert d["special_tokens"]["<|endoftext|>"] == tok.eot_id
    for loaded in (BPETokenizer.load(path), load_tokenizer(path)):
        assert isinstance(loaded, BPETokenizer)
        text = "Did you know? 你好 <|assistant|> ok"
        assert loaded.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")
        assert loaded.vocab_size == tok.vocab_size
    assert not [p for p in tmp_path.iterdir() if p.name != "tok.json"]    # no temp files left


def test_load_wrong_type_or_corrupt(tmp_path):
    CharTokenizer.train("abc").save(tmp_path / "c.json")
    with pytest.raises(ValueError, match="expected 'bpe'"):
        BPETokenizer.load(tmp_path / "c.json")
    (tmp_path / "bad.json").write_text('{"type": "bpe", "ranks": ["!!"], "pattern": "x"}')
    with pytest.raises(ValueError, match="corrupt"):
        load_tokenizer(tmp_path / "bad.json")
    (tmp_path / "what.json").write_text('{"type": "wordpiece"}')
    with pytest.raises(ValueError, match="unknown tokenizer type"):
        load_tokenizer(tmp_path / "what.json")


def test_constructor_rejects_duplicate_bytes():
    vocab = [bytes([i]) for i in range(256)] + [b"ab", b"ab"]
    with pytest.raises(ValueError, match="appear twice"):
        BPETokenizer(vocab)


def test_unknown_pattern_in_a_file_is_refused_before_it_runs(tok, tmp_path):
    """A crafted regex ((a+)+$ backtracks exponentially) in tokenizer.json must not reach encode()."""
    path = tmp_path / "tok.json"
    tok.save(path)
    d = json.loads(path.read_text(encoding="utf-8"))
    d["pattern"] = r"(a+)+$"
    path.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown pre-split pattern.*gpt2, gpt4"):
        load_tokenizer(path)


def test_known_patterns_are_accepted_and_others_refused():
    from minigpt.tokenizer.patterns import GPT4_PATTERN, PATTERNS, check_pattern
    vocab = [bytes([i]) for i in range(256)]
    assert BPETokenizer(vocab, pattern=GPT4_PATTERN).pattern == GPT4_PATTERN
    assert all(check_pattern(p) == p for p in PATTERNS.values())
    with pytest.raises(ValueError, match="unknown pre-split pattern"):
        BPETokenizer(vocab, pattern=r"\w+")
    with pytest.raises(ValueError, match="unknown pre-split pattern"):
        BPETokenizer.train("some text", 300, pattern=r"\w+")
