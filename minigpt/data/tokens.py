r"""Token arrays on disk and random training batches.

A corpus is encoded once and stored as a flat array of uint16 ids (`<name>.bin`, 2 bytes per token,
enough for vocabularies up to 65,536) plus a small JSON file (`<name>.json`: dtype, length,
vocab size, free-form info). Reading memory-maps the file, so a large corpus costs no RAM until
batches touch it.

A batch for next-token prediction is B random windows of T+1 consecutive tokens:

    x = arr[i : i+T]        # (B, T) inputs
    y = arr[i+1 : i+T+1]    # (B, T) targets: the token after each input position

    python -m minigpt.data.tokens     # encodes a toy-web corpus, writes it, draws a batch
"""
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from minigpt.tokenizer.base import atomic_write_bytes, atomic_write_text

DTYPE = np.uint16


# -----------------------------------------------------------------------------
# files

def _paths(path):
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".bin", ".json") else p
    return stem.with_suffix(".bin"), stem.with_suffix(".json")


def write_tokens(path, ids, vocab_size: int = None, **info) -> Path:
    """Write ids as `<path>.bin` (uint16) + `<path>.json` (meta), both atomically. Returns the .bin path."""
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > np.iinfo(DTYPE).max):
        raise ValueError(f"token ids must be in 0..{np.iinfo(DTYPE).max} to fit uint16, "
                         f"got min {arr.min()} max {arr.max()}")
    if vocab_size is not None and arr.size and arr.max() >= vocab_size:
        raise ValueError(f"token id {arr.max()} >= vocab_size {vocab_size}")
    bin_path, meta_path = _paths(path)
    bin_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(bin_path, arr.astype(DTYPE).tobytes())
    meta = {"dtype": "uint16", "length": int(arr.size), "vocab_size": vocab_size, **info}
    atomic_write_text(meta_path, json.dumps(meta, indent=1) + "\n")
    return bin_path


def read_tokens(path) -> np.ndarray:
    """Memory-map a token file written by `write_tokens` (read-only uint16 array)."""
    bin_path, meta_path = _paths(path)
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("dtype") != "uint16":
        raise ValueError(f"{meta_path}: dtype {meta.get('dtype')!r}, expected 'uint16'")
    n = os.path.getsize(bin_path) // 2
    if n != meta["length"]:
        raise ValueError(f"{bin_path}: holds {n} tokens but {meta_path} says {meta['length']}")
    if n == 0:
        return np.zeros(0, dtype=DTYPE)
    return np.memmap(bin_path, dtype=DTYPE, mode="r", shape=(n,))


def read_meta(path) -> dict:
    with open(_paths(path)[1], encoding="utf-8") as f:
        return json.load(f)


# -----------------------------------------------------------------------------
# splitting and batching

def train_val_split(data, val_fraction: float = 0.1):
    """Split a sequence (str, list or array) into (train, val): the first (1 - val_fraction), then
    the rest. Contiguous, not shuffled, so no document straddles both sides except at the cut."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    cut = int(round(len(data) * (1.0 - val_fraction)))
    return data[:cut], data[cut:]


def get_batch(arr, batch_size: int, block_size: int, rng: np.random.Generator):
    """B random windows of a token array: x (B, T) and y = x shifted by one, both int64.

    Example: arr=[10, 11, 12, 13], B=1, T=2, start 1 -> x=[[11, 12]], y=[[12, 13]]
    """
    n = len(arr)
    if n < block_size + 1:
        raise ValueError(f"token array has {n} tokens; need at least block_size + 1 = {block_size + 1} "
                         "to make one (input, target) window")
    starts = rng.integers(0, n - block_size, size=batch_size)         # (B,)
    idx = starts[:, None] + np.arange(block_size + 1)[None, :]         # (B, T+1)
    windows = np.asarray(arr)[idx].astype(np.int64)                    # (B, T+1)
    return windows[:, :-1], windows[:, 1:]


def _safe_cut(text, start, end):
    """The last position in (start, end] right after a newline that a non-space character follows, or -1.

    No pre-split pattern piece and no special token spans such a position, so encoding the text in
    pieces cut there gives the same ids as encoding it whole."""
    p = text.rfind("\n", start, end - 1)
    while p != -1 and text[p + 1].isspace():
        p = text.rfind("\n", start, p)
    return -1 if p == -1 else p + 1


def encode_array(tokenizer, text: str, allowed_special="all", chunk_chars: int = 1 << 20) -> np.ndarray:
    """Encode `text` into a NumPy array of ids (uint16 when the vocabulary fits, else int64), chunk by chunk.

    A Python list holds ~36 bytes per token (an 8-byte pointer + a 28-byte int), so encoding a 30 MB corpus
    into one list needs ~1 GB; here only one chunk's list exists at a time. Chunks end at newlines that
    start a new piece (`_safe_cut`), so the ids equal `tokenizer.encode(text, allowed_special=...)`.
    e.g. a 3-line text with chunk_chars=8 is encoded as its lines, concatenated.
    """
    dtype = DTYPE if tokenizer.vocab_size <= np.iinfo(DTYPE).max + 1 else np.int64
    parts, start, n = [], 0, len(text)
    while start < n:
        end = n
        if n - start > chunk_chars:
            cut = _safe_cut(text, start + 1, start + chunk_chars)
            if cut == -1:  # no safe newline in this window: look further ahead
                cut = _safe_cut(text, start + 1, n)
            end = n if cut == -1 else cut
        parts.append(np.asarray(tokenizer.encode(text[start:end], allowed_special=allowed_special), dtype=dtype))
        start = end
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def encode_to_file(text: str, tokenizer, path, allowed_special="all", **info) -> Path:
    """Encode `text` (special tokens allowed by default, e.g. <|endoftext|> separators) and write it."""
    ids = encode_array(tokenizer, text, allowed_special=allowed_special)
    return write_tokens(path, ids, tokenizer.vocab_size, tokenizer=type(tokenizer).__name__, **info)


if __name__ == "__main__":
    from minigpt.data.toyweb import generate_corpus
    from minigpt.tokenizer import BPETokenizer
    text = generate_corpus(n_docs=2000, seed=0)
    tok = BPETokenizer.train(text, 512)
    train, val = train_val_split(text)
    with tempfile.TemporaryDirectory() as d:
        p = encode_to_file(train, tok, Path(d) / "train")
        arr = read_tokens(p)
        x, y = get_batch(arr, 2, 16, np.random.default_rng(0))
        print(len(arr), "tokens;", x.shape, y.shape)
        print(repr(tok.decode(x[0])))
