"""Token files and batches.

    PYTHONPATH=. python -m pytest tests/test_data_tokens.py -q
"""
import numpy as np
import pytest

from minigpt.data.tokens import encode_to_file, get_batch, read_meta, read_tokens, train_val_split, write_tokens
from minigpt.data.toyweb import generate_corpus
from minigpt.tokenizer import BPETokenizer


def test_write_read_roundtrip(tmp_path):
    ids = np.array([0, 1, 65535, 300, 7])
    p = write_tokens(tmp_path / "train", ids, vocab_size=65536, note="hi")
    assert p == tmp_path / "train.bin" and p.stat().st_size == 2 * len(ids)
    arr = read_tokens(tmp_path / "train.bin")
    assert isinstance(arr, np.memmap) and arr.dtype == np.uint16
    assert arr.tolist() == ids.tolist()
    assert read_meta(tmp_path / "train") == {"dtype": "uint16", "length": 5, "vocab_size": 65536, "note": "hi"}
    assert sorted(x.name for x in tmp_path.iterdir()) == ["train.bin", "train.json"]


def test_write_rejects_bad_ids(tmp_path):
    with pytest.raises(ValueError, match="fit uint16"):
        write_tokens(tmp_path / "a", [1, 65536])
    with pytest.raises(ValueError, match="fit uint16"):
        write_tokens(tmp_path / "a", [-1])
    with pytest.raises(ValueError, match="vocab_size"):
        write_tokens(tmp_path / "a", [5], vocab_size=5)
    write_tokens(tmp_path / "b", [1, 2, 3])
    (tmp_path / "b.bin").write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="holds 1 tokens"):
        read_tokens(tmp_path / "b")


def test_get_batch_shapes_and_shift():
    arr = np.arange(100, dtype=np.uint16)              # token value == position
    x, y = get_batch(arr, 8, 10, np.random.default_rng(0))
    assert x.shape == y.shape == (8, 10) and x.dtype == y.dtype == np.int64
    assert (np.diff(x, axis=1) == 1).all()             # consecutive windows
    assert (y == x + 1).all()                          # targets = next token
    assert x.min() >= 0 and y.max() <= 99


def test_get_batch_covers_every_start_and_is_seeded():
    arr = np.arange(6)
    starts = {int(get_batch(arr, 1, 3, np.random.default_rng(s))[0][0, 0]) for s in range(200)}
    assert starts == {0, 1, 2}                         # n - T = 3 possible windows
    a = get_batch(np.arange(50), 4, 5, np.random.default_rng(1))
    b = get_batch(np.arange(50), 4, 5, np.random.default_rng(1))
    assert all((u == v).all() for u, v in zip(a, b))


def test_get_batch_too_short():
    x, y = get_batch(np.arange(4), 2, 3, np.random.default_rng(0))    # exactly block_size + 1
    assert x.tolist() == [[0, 1, 2]] * 2 and y.tolist() == [[1, 2, 3]] * 2
    with pytest.raises(ValueError, match="need at least block_size \\+ 1 = 5"):
        get_batch(np.arange(4), 2, 4, np.random.default_rng(0))


def test_train_val_split():
    tr, va = train_val_split(list(range(10)), 0.2)
    assert tr == list(range(8)) and va == [8, 9]
    tr, va = train_val_split("abcdefghij", 0.0)
    assert tr == "abcdefghij" and va == ""
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split("abc", 1.0)


def test_encode_to_file(tmp_path):
    text = generate_corpus(100, seed=0)
    tok = BPETokenizer.train(text, 400)
    p = encode_to_file(text, tok, tmp_path / "toy")
    arr = read_tokens(p)
    assert tok.decode(arr) == text
    assert int((arr == tok.eot_id).sum()) == 100
    assert read_meta(p)["vocab_size"] == 400


# -----------------------------------------------------------------------------
# encode_array: the corpus as a NumPy array, encoded chunk by chunk

def _corpus():
    from minigpt.data.toyweb import generate_corpus
    text = generate_corpus(n_chars=30_000, seed=0)
    # the awkward spots: blank lines, indented lines, trailing spaces, \r\n, specials after newlines
    return text + "\n\n  indented\n\ttab\r\nwin line \n<|endoftext|>next doc\n.\n!x\n'" + "\n" * 3


@pytest.mark.parametrize("kind", ["char", "gpt2", "gpt4"])
def test_encode_array_equals_encode_whole(kind):
    from minigpt.data.tokens import encode_array
    from minigpt.tokenizer import BPETokenizer, CharTokenizer
    from minigpt.tokenizer.patterns import PATTERNS
    text = _corpus()
    tok = (CharTokenizer.train(text, special_tokens=["<|endoftext|>"]) if kind == "char"
           else BPETokenizer.train(text[:8000], 300, special_tokens=["<|endoftext|>"], pattern=PATTERNS[kind]))
    want = tok.encode(text, allowed_special="all")
    for chunk in (7, 100, 5000, 10**9):  # tiny chunks cut at almost every safe newline
        got = encode_array(tok, text, chunk_chars=chunk)
        assert isinstance(got, np.ndarray) and got.dtype == np.uint16
        assert got.tolist() == want, chunk


def test_encode_array_never_holds_the_corpus_as_one_list():
    """Peak Python memory of encode_array stays far below the ~36 bytes/token a list of ids costs."""
    import tracemalloc

    from minigpt.data.tokens import encode_array
    from minigpt.tokenizer import CharTokenizer
    line = "the quick brown fox jumps over the lazy dog\n"
    text = line * 20_000  # 880k characters
    tok = CharTokenizer.train(line)
    tracemalloc.start()
    ids = encode_array(tok, text, chunk_chars=1 << 16)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(ids) == len(text) and peak < 8 * len(text)  # a whole list: ≥ 8 bytes/token of pointers alone
