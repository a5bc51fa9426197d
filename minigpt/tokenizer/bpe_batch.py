r"""BPE merges for many chunks at once, in NumPy: the fast path of a first encode.

`BPETokenizer._bpe` (bpe.py) is the readable reference: one chunk, a heap of candidate pairs, one
Python step per merge. A first pass over a text meets thousands of chunks it has never seen (half
a megabyte of English: ~11k), and a Python step per merge per chunk is then most of the time.
Here the chunks of similar length are merged together, one vectorised *round* at a time. Chunk c
is column c of a grid, its parts run down the rows (one byte each at first):

    ids[:, c]    the part's token id, -1 once it was merged into the part above it
    key[:, c]    rank * S + row of the pair (this part, the next live part below), S = rows;
                 `none` * S where there is no such pair or its bytes are not a token
    nxt, prv     the next / previous live row (a linked list down each column)

    one round:   key.min(axis=0) gives every chunk's lowest rank, the topmost row on ties (that
                 is why the row is in the key); merge exactly that pair in every chunk that has
                 one, then look up the two pairs that changed (with the part above and below).

One merge per chunk per round is exactly the reference's order (lowest rank, leftmost on ties), so
the ids are the same; the number of rounds is the largest merge count of the group, which is why
chunks are grouped by length and only short ones come here (`MAX_BATCH_BYTES`; longer: the heap).

The rank of a pair (x, y) is the rank of the token x+y. A token can be split into two tokens in
more than one way ("abc" = "a"+"bc" = "ab"+"c") and the reference merges any of them, so the
table lists every split of every token; `PairTable.lookup` finds them in a hash table.

    python -m minigpt.tokenizer.bpe_batch
"""
import sys

import numpy as np

MAX_BATCH_BYTES = 64                   # longer chunks take the heap path (bpe.py)
ID_DTYPE = np.dtype(np.uint32)         # ids packed into bytes: 4 bytes each, this machine's byte order
GROUP_WIDTHS = (8, 16, 64)            # chunks are merged in groups of these maximum lengths
_MULTS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))   # two odd 64-bit hash multipliers


def pack(ids) -> bytes:
    """Ids as packed bytes, the form the tokenizer's caches keep: [256, 7] -> 8 bytes."""
    return np.asarray(ids, ID_DTYPE).tobytes()


def pack_one(i: int) -> bytes:
    """One id packed, as pack([i]) gives it, without a NumPy call: pack_one(7) == pack([7])."""
    return i.to_bytes(ID_DTYPE.itemsize, sys.byteorder)


def unpack(packed: bytes) -> list:
    """The ids of packed bytes, e.g. unpack(pack([256, 7])) == [256, 7]."""
    return np.frombuffer(packed, ID_DTYPE).tolist()


class PairTable:
    """Every (left id, right id) whose bytes concatenate to a token, with that token's rank.

    ranks: bytes -> id (the tokenizer's mergeable ranks). For vocab [a b c ab abc]:
    (a, b) -> ab, (ab, c) -> abc; (a, bc) is absent because bc is not a token.

    Stored as a cuckoo hash table over key = left * V + right: every key sits in one of exactly
    two slots, h0(key) or h1(key), so a lookup of many keys at once is a fixed handful of NumPy
    ops (no probing loop). Inserting into a taken slot evicts its key to that key's other slot.
    """

    def __init__(self, ranks: dict):
        self.none = max(ranks.values()) + 1                 # V: "no pair" ranks after every token
        self.base = self.none + 1                            # keys left * (V+1) + right: id V pairs with nothing
        pairs = {}
        for token, r in ranks.items():
            for k in range(1, len(token)):
                a = ranks.get(token[:k])
                if a is not None:
                    b = ranks.get(token[k:])
                    if b is not None:
                        pairs[a * self.base + b] = r
        self.bits = max(4, (2 * len(pairs)).bit_length())   # at most half full
        while not self._build(pairs):
            self.bits += 1                                   # rare: an eviction cycle, so grow
        # a first round's pairs are all (byte, byte), the ids 0..255: a 256 x 256 table answers them
        self.byte_pairs = np.full(256 * 256, self.none, np.int64)
        for token, r in ranks.items():
            if len(token) == 2:
                self.byte_pairs[token[0] * 256 + token[1]] = r

    def _hash(self, keys, which: int):
        return ((keys.view(np.uint64) * _MULTS[which]) >> np.uint64(64 - self.bits)).view(np.int64)

    def _build(self, pairs: dict) -> bool:
        size = 1 << self.bits
        table = [None] * size                                # slot -> key
        keys = np.fromiter(pairs, np.int64, len(pairs))
        slots = [self._hash(keys, 0).tolist(), self._hash(keys, 1).tolist()]
        where = {k: (slots[0][i], slots[1][i]) for i, k in enumerate(keys.tolist())}
        for key in where:
            h0, h1 = where[key]
            slot = h1 if table[h0] is not None and table[h1] is None else h0
            for _ in range(100):                             # evictions before giving up
                key, table[slot] = table[slot], key          # take the slot, pick up its old key
                if key is None:
                    break
                h0, h1 = where[key]
                slot = h1 if slot == h0 else h0              # which moves to its other slot
            else:
                return False
        self.keys = np.array([-1 if k is None else k for k in table], np.int64)   # -1: empty
        self.vals = np.array([self.none if k is None else pairs[k] for k in table], np.int64)
        return True

    def lookup(self, left, right):
        """Rank of each pair (left[i], right[i]), or self.none where x+y is not a token (ids 0..V)."""
        keys = left * self.base + right                      # int64 arrays in, int64 keys
        s0, s1 = self._hash(keys, 0), self._hash(keys, 1)
        return np.where(self.keys[s0] == keys, self.vals[s0],
                        np.where(self.keys[s1] == keys, self.vals[s1], self.none))


# -----------------------------------------------------------------------------

def merge_batch(pieces: list, table: PairTable) -> list:
    """Merge each byte string of `pieces` by rank; returns each piece's ids, packed (see `pack`).

    Same ids as the reference's merge loop on each piece alone, e.g. with ranks {aa: 256, ab: 257}:
    [b"aaab", b"ab"] -> [pack([256, 257]), pack([257])]. Pieces longer than MAX_BATCH_BYTES are refused.
    """
    n = len(pieces)
    lens = np.fromiter(map(len, pieces), np.int64, n)
    if n and lens.max() > MAX_BATCH_BYTES:
        raise ValueError(f"merge_batch takes pieces of at most {MAX_BATCH_BYTES} bytes; "
                         "merge longer ones one by one (BPETokenizer._bpe)")
    order = np.argsort(lens, kind="stable")                 # the pieces by length: groups are slices
    by_length = list(map(pieces.__getitem__, order.tolist()))
    bounds = np.searchsorted(lens[order], (0,) + GROUP_WIDTHS, side="right").tolist()
    merged = [b""] * bounds[0]                              # an empty piece has no ids
    for width, lo, hi in zip(GROUP_WIDTHS, bounds, bounds[1:]):
        if hi > lo:
            merged += _merge_group(by_length[lo:hi], table, width)
    place = np.empty(n, np.int64)
    place[order] = np.arange(n)                             # piece i is merged[place[i]]
    return list(map(merged.__getitem__, place.tolist()))


def _merge_group(pieces: list, table: PairTable, width: int) -> list:
    """merge_batch for pieces of 1..width bytes: the grid rounds described in the module docstring."""
    n, S = len(pieces), width + 1          # rows 0..width-1 hold parts, row `width` is an end sentinel
    none_key = table.none * S
    lens = np.fromiter(map(len, pieces), np.int64, n)
    byte = np.frombuffer(b"".join(pieces), np.uint8).astype(np.int64)    # all pieces' bytes, in a row
    col = np.repeat(np.arange(n), lens)                               # byte k belongs to piece col[k]...
    row = np.arange(len(byte)) - np.repeat(np.cumsum(lens) - lens, lens)   # ...and is its row[k]-th byte
    at = row * n + col                                                # its place in a flat (S, n) grid
    ids = np.full((S, n), -1, np.int64)                               # (S, n) one column per piece
    ids.ravel()[at] = byte
    ids[width] = table.none                                           # the sentinel row: pairs with nothing
    rank = table.byte_pairs[byte[:-1] * 256 + byte[1:]]               # bytes k, k+1 as a pair...
    rank[row[1:] == 0] = table.none                                   # ...unless k+1 starts the next piece
    key = np.full((S, n), none_key, np.int64)
    key.ravel()[at[:-1]] = rank * S + row[:-1]                        # (>= none_key: no pair)
    rows = np.arange(S)[:, None]
    nxt = np.repeat(np.minimum(rows + 1, width), n, axis=1)           # (S, n) next live row
    nxt[lens - 1, np.arange(n)] = width
    prv = np.repeat(np.where(rows > 0, rows - 1, width), n, axis=1)   # (S, n) previous live row
    column_of = np.arange(n)                                          # original piece of each column
    done_ids, done_pieces = [], []
    while True:
        best = key.min(axis=0)                                        # (n,) lowest key per column
        live = np.flatnonzero(best < none_key)
        if len(live) <= n // 2:                                       # drop finished columns
            gone = best >= none_key
            done_ids.append(ids[:, gone])
            done_pieces.append(column_of[gone])
            # subtle: a[:, live] need not be C-ordered, and ravel() of it would be a copy
            ids, key, nxt, prv = (np.ascontiguousarray(a[:, live]) for a in (ids, key, nxt, prv))
            column_of, best, n = column_of[live], best[live], len(live)
            live = np.arange(n)
            if n == 0:
                break
        else:
            best = best[live]
        r, j = np.divmod(best, S)                                     # the pair's rank, its top row
        fi, fk, fn, fp = ids.ravel(), key.ravel(), nxt.ravel(), prv.ravel()   # flat index: row * n + col
        J = j * n + live
        K = fn[J] * n + live                                          # the part below, merged away
        fi[J], fi[K], fk[K] = r, -1, none_key
        below = fn[K]                                                 # the next live row after it
        fn[J] = below
        B = below * n + live
        fp[B] = j                                                     # (harmless on the sentinel row)
        above = fp[J]
        A = above * n + live
        m = len(live)                                                 # one lookup for both new pairs,
        new = table.lookup(np.concatenate([r, fi[A]]), np.concatenate([fi[B], r]))   # (j, below), (above, j)
        fk[J] = new[:m] * S + j                                       # none at the sentinel: it pairs
        fk[A] = new[m:] * S + above                                   # with nothing (keys >= none_key)
    ids = np.concatenate(done_ids, axis=1)[:width, np.argsort(np.concatenate(done_pieces))].T   # (n, width)
    alive = ids >= 0
    flat = ids[alive].astype(ID_DTYPE).tobytes()                      # all ids, piece after piece
    ends = (np.cumsum(alive.sum(axis=1)) * ID_DTYPE.itemsize).tolist()   # where each piece's bytes end
    return list(map(flat.__getitem__, map(slice, [0] + ends[:-1], ends)))


# -----------------------------------------------------------------------------

if __name__ == "__main__":
    vocab = {bytes([i]): i for i in range(256)} | {b"aa": 256, b"ab": 257}
    merged = merge_batch([b"aaab", b"ab", b"xyz"], PairTable(vocab))
    print([unpack(m) for m in merged])          # [[256, 257], [257], [120, 121, 122]]
