"""The NumPy batch merge (bpe_batch.py) and the fast encode path give the reference's ids.

The reference is `BPETokenizer._bpe` (one chunk, heap) and `_encode_reference` (regex split, no
caches). Random byte strings, random texts (Han, emoji, digits, whitespace runs, empty) and a
vocabulary whose ranks are not monotone ("abc" ranks before "ab") are compared.

    PYTHONPATH=. python -m pytest tests/test_tokenizer_bpe_batch.py -q
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigpt.data.chinese import parallel_text
from minigpt.data.toyweb import generate_corpus
from minigpt.tokenizer import BPETokenizer
from minigpt.tokenizer import bpe as bpe_module
from minigpt.tokenizer.bpe_batch import MAX_BATCH_BYTES, PairTable, merge_batch, pack, pack_one, unpack


@pytest.fixture(scope="module", params=["gpt2", "gpt4"])
def tok(request, mixed_bpe):
    return mixed_bpe(request.param)


def merged(pieces, table):
    """merge_batch's packed ids as tuples, to compare with the reference."""
    return [tuple(unpack(b)) for b in merge_batch(pieces, table)]


def _vocab(*tokens):
    return [bytes([i]) for i in range(256)] + [t.encode() for t in tokens]


def test_pair_table_lists_every_split_by_hand():
    """vocab ... ab(256) bc(257) abc(258): abc splits as a+bc and ab+c, both map to 258;
    a+c is no token."""
    t = BPETokenizer(_vocab("ab", "bc", "abc"), {})
    table = PairTable(t.ranks)
    a, b, c = ord("a"), ord("b"), ord("c")
    got = table.lookup(np.array([a, b, a, 256, a]), np.array([b, c, 257, c, c]))
    assert got.tolist() == [256, 257, 258, 258, table.none]


def test_byte_pair_table_equals_hash_lookup(tok):
    """The first round's 256 x 256 table gives the cuckoo table's rank for every (byte, byte) pair."""
    left, right = np.divmod(np.arange(256 * 256), 256)
    assert np.array_equal(tok._pairs.byte_pairs, tok._pairs.lookup(left, right))
    assert (tok._pairs.byte_pairs < tok._pairs.none).sum() == sum(len(t) == 2 for t in tok.vocab)


def test_merge_batch_by_hand_with_ranks_out_of_order():
    """ranks: bc(256) abc(257) ab(258). b"abcab": pairs ab(258) bc(256) ca(-) ab(258): bc first ->
    a|bc|a|b; then a+bc = abc(257) -> abc|a|b; then a+b = ab(258) -> abc|ab: [257, 258]."""
    t = BPETokenizer(_vocab("bc", "abc", "ab"), {})
    assert merged([b"abcab", b"x", b""], t._pairs) == [(257, 258), (120,), ()]
    assert [tuple(t._bpe(p)) for p in (b"abcab", b"x")] == [(257, 258), (120,)]


def test_merge_batch_one_merge_per_round_by_hand():
    """ranks: aba(256) ab(257) (aba ranks first, as a vocabulary may have it). b"abab": pairs
    ab(257) ba(-) ab(257) -> merge the leftmost ab -> ab|a|b; now ab+a = aba(256) is the lowest ->
    aba|b: [256, 98]. Merging both ab's in one round would give [257, 257]."""
    t = BPETokenizer(_vocab("aba", "ab"), {})
    assert merged([b"abab"], t._pairs) == [(256, 98)] == [tuple(t._bpe(b"abab"))]


def test_pack_by_hand():
    """4 bytes per id in this machine's byte order: 258 = 0x102 -> 02 01 00 00 on a little-endian machine."""
    import sys
    assert pack([258, 7]) == (258).to_bytes(4, sys.byteorder) + (7).to_bytes(4, sys.byteorder)
    assert unpack(pack([258, 7])) == [258, 7] and pack([]) == b"" and unpack(b"") == []
    assert pack_one(258) == (258).to_bytes(4, sys.byteorder) == pack([258]) and pack_one(0) == bytes(4)


def test_merge_batch_refuses_long_pieces(tok):
    with pytest.raises(ValueError, match="at most"):
        merge_batch([b"a" * (MAX_BATCH_BYTES + 1)], tok._pairs)


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.binary(min_size=1, max_size=MAX_BATCH_BYTES), max_size=40))
def test_merge_batch_equals_heap_on_random_bytes(tok, pieces):
    assert merged(pieces, tok._pairs) == [tuple(tok._bpe(p)) for p in pieces]


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.sampled_from(["ab", "bc", "abc", "a", "b", "c", "cab"]), max_size=20).map("".join))
def test_merge_batch_equals_heap_on_out_of_order_ranks(pieces):
    t = BPETokenizer(_vocab("bc", "abc", "ab", "ca", "bca", "abca", "cc"), {})
    chunks = [pieces[i:i + 9].encode() for i in range(0, len(pieces), 9)]
    assert merged(chunks, t._pairs) == [tuple(t._bpe(p)) for p in chunks]


_piece = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=" \t\n\r\u00a0\u3000", max_size=6),                                        # whitespace runs
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=25),  # Han
    st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=5),  # emoji
    st.text(alphabet="0123456789", max_size=30),
    st.text(alphabet="tHeé,.;:!?-()'\"$ \n", max_size=14),                                     # words with punctuation
    st.sampled_from([" the", " cat", "\n\n", "speak.\nAll:", "'s", " ", "", "Weather for Paris"]),
)


@settings(max_examples=80, deadline=None)
@given(parts=st.lists(_piece, max_size=30))
def test_first_encode_equals_reference(tok, parts):
    """A fresh tokenizer (empty caches), every new chunk through merge_batch; then again (warm)."""
    text = "".join(parts)
    fresh = BPETokenizer(tok.vocab, {}, tok.pattern)
    ref = tok._encode_reference(text)
    saved, bpe_module._MIN_BATCH = bpe_module._MIN_BATCH, 1    # even one new chunk goes to merge_batch
    try:
        assert fresh.encode_ordinary(text) == ref
        assert fresh.encode_ordinary(text) == ref
    finally:
        bpe_module._MIN_BATCH = saved


def test_first_encode_of_a_long_text_equals_reference(tok):
    en, zh = parallel_text(300, seed=11)
    text = generate_corpus(n_chars=20_000, seed=11) + "\n\n" + en + zh + "  x \n 3.14159265358979 🙂"
    fresh = BPETokenizer(tok.vocab, {}, tok.pattern)
    assert fresh.encode_ordinary(text) == tok._encode_reference(text)


_EDGES = ["x \n 3", "x\n 3", "x\n\n\ny z", "a\n b", "a \n\nb", "\n\nx", "x\n", "a.\n\nB c", "a\n\n \n\tb",
          " \n", "\n", "a  b", "a \t b", "x\r\n y", "end.\n\n\n\nSCENE II.\n", "'s\n's", "12\n\n345 6"]


@pytest.mark.parametrize("text", _EDGES)
def test_newline_and_space_edges_equal_reference(tok, text):
    """Each edge text alone and between words, first pass and again (the lone "\\n" shortcut, GPT-2's
    newline split, odd-word runs)."""
    for t in (text, "w " + text + " w", "w" + text + "w"):
        fresh = BPETokenizer(tok.vocab, {}, tok.pattern)
        ref = tok._encode_reference(t)
        assert fresh.encode_ordinary(t) == ref and fresh.encode_ordinary(t) == ref, repr(t)


def test_full_caches_are_cleared_and_ids_stay_right(tok, monkeypatch):
    """With room for 50 words and 50 chunks, encoding texts of a few hundred distinct words clears the
    caches on the way (a word or chunk seen before may be gone) and still gives the reference's ids."""
    monkeypatch.setattr(bpe_module, "_CACHE_LIMIT", 50)
    text = generate_corpus(n_chars=3000, seed=12)
    fresh = BPETokenizer(tok.vocab, {}, tok.pattern)
    for t in (text[:200], text, text[1000:2500], text):
        assert fresh.encode_ordinary(t) == tok._encode_reference(t)
        assert len(fresh._spaced) <= len(set(t.split(" "))) + 50
