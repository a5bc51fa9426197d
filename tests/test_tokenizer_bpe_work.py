"""BPE encode does linear-ish work, and its shortcuts give the reference's ids (issue 20 item 4).

Work is counted, not timed: the number of Python lines executed inside minigpt/tokenizer/bpe.py
(sys.settrace) while encoding one long chunk of n and of 4n characters. A merge loop that rescans
all pairs after every merge does ~16x the work at 4n; the heap merge does a little over 4x.

    PYTHONPATH=. python -m pytest tests/test_tokenizer_bpe_work.py -q
"""
import sys

import pytest
import regex
from hypothesis import given, settings, strategies as st

from minigpt.data.chinese import parallel_text
from minigpt.tokenizer import GPT2_PATTERN, GPT4_PATTERN, BPETokenizer
from minigpt.tokenizer import bpe as bpe_module


@pytest.fixture(scope="module", params=["gpt2", "gpt4"])
def tok(request, mixed_bpe):
    return mixed_bpe(request.param)


def lines_executed(fn, *args):
    """How many lines of bpe.py run during fn(*args) (a machine-independent measure of work)."""
    count = 0
    target = bpe_module.__file__

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def glob(frame, event, arg):
        return local if frame.f_code.co_filename == target else None

    sys.settrace(glob)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return count


def han_run(n_chars: int) -> str:
    """One pre-split chunk of n Chinese characters (no spaces or punctuation), cycling real sentences."""
    _, zh = parallel_text(300, seed=5)
    han = "".join(c for c in zh if "\u4e00" <= c <= "\u9fff")
    return (han * (n_chars // len(han) + 1))[:n_chars]


@pytest.mark.parametrize("make_chunk", [han_run, lambda n: ("31415926535897932384626" * n)[:n]],
                         ids=["han", "digits"])
def test_encode_work_grows_linearly_in_one_chunk(tok, make_chunk):
    n = 1500
    short, long = make_chunk(n), make_chunk(4 * n)
    assert len(tok.split_chunks(long)) == 1 or tok.pattern == GPT4_PATTERN   # gpt4 cuts digits by 3
    work = []
    for text in (short, long):
        tok._cache.clear()
        tok._spaced.clear()
        work.append(lines_executed(tok.encode, text))
    ratio = work[1] / work[0]
    assert ratio < 5.0, f"work at 4n / work at n = {ratio:.2f} (linear: ~4, quadratic: ~16)"
    assert work[1] < 60 * len(long.encode()), f"{work[1]} lines for {len(long.encode())} bytes"


def test_heap_merge_equals_rescan_by_hand():
    """ranks aa:256 ab:257 ba:258 on b"aabab": pairs aa(256) ab(257) ba(258) ab(257).
    Lowest is aa at 0 -> [aa, b, a, b]; then aa+b? not a token; ab(257) at 1..? parts are
    aa|b|a|b: pairs (aa,b) none, (b,a)=258, (a,b)=257 -> merge a+b at 3 -> aa|b|ab; then (b,ab)
    none -> ids [256, 98, 257]."""
    vocab = [bytes([i]) for i in range(256)] + [b"aa", b"ab", b"ba"]
    t = BPETokenizer(vocab, {})
    assert t._bpe(b"aabab") == [256, 98, 257]
    assert t._bpe(b"aaab") == [256, 257]        # the docstring's example


# -----------------------------------------------------------------------------
# the str.split shortcut gives the regex's chunks

_nasty = st.lists(st.sampled_from(list("ab1 .,-('\t\n\ré") + ["\u00a0", "\u3000", "\u2028", "\x1c", "\u200b",
                                                            "中", "'s", "  ", " \n "]),
                  max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(_nasty, st.text(max_size=40)))
def test_split_shortcut_equals_regex(tok, text):
    assert tok._encode_ordinary(text) == tok._encode_reference(text)


def test_no_regex_whitespace_is_printable():
    """The shortcut's premise: every character the patterns' \\s matches, except " ", is not printable
    (so a printable word holds no whitespace). Checked over all of Unicode."""
    ws = regex.compile(r"\s")
    bad = [hex(c) for c in range(0x110000)
           if c != 0x20 and not 0xD800 <= c <= 0xDFFF and ws.match(chr(c)) and chr(c).isprintable()]
    assert bad == []


def test_punctuation_cut_premise():
    """_learn_words cuts " " + letters + punctuation without the regex. Its premise: every character of
    _PUNCT is one the patterns' [^\\s\\p{L}\\p{N}] matches (ASCII has 32 such printable characters)."""
    other = regex.compile(r"[^\s\p{L}\p{N}]")
    assert len(bpe_module._PUNCT) == 32
    assert all(other.fullmatch(c) for c in bpe_module._PUNCT)


_SPACED_CUTS = [(" thee,", [" thee", ","]), (" --", [" --"]), (" O!--", [" O", "!--"]), (" horse'", [" horse", "'"])]


@pytest.mark.parametrize("pattern,unit,chunks", [(p, u, c) for p in (GPT2_PATTERN, GPT4_PATTERN) for u, c in _SPACED_CUTS]
                         + [(GPT2_PATTERN, "\nWhat?", ["\n", "What", "?"]), (GPT2_PATTERN, "\n;", ["\n", ";"])])
def test_punctuation_cut_by_hand(pattern, unit, chunks):
    """The three cuts in _learn_words' docstring, checked against the regex itself ("\\n" + word: GPT-2 only,
    the GPT-4 pattern keeps newlines inside words)."""
    assert regex.findall(pattern, unit) == chunks


def test_decode_table_and_fallback(tok):
    import numpy as np
    ids = tok.encode("Weather for Paris <|endoftext|> 你好", allowed_special="all")
    assert tok.decode(np.array(ids)) == tok.decode(iter(ids)) == tok.decode(ids)
    assert tok.decode(ids[:1]) == tok.decode_bytes(ids[:1]).decode() and tok.decode([]) == ""
    for bad in (-1, -tok.vocab_size, -2 * tok.vocab_size - 5, tok.vocab_size, 10 ** 9):
        with pytest.raises(ValueError, match=f"unknown token id {bad}"):
            tok.decode([ids[0], bad])

