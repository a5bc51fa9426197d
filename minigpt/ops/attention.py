r"""Causal scaled dot-product attention, two ways, with hand-derived backward.

For one head, queries Q (T, d), keys K (S, d), values V (S, d):

    S_ij = Q_i·K_j / √d          (masked to -∞ where key j is in query i's future)
    P    = softmax_j(S)          Y = P V

Backward (G = dL/dY):
    dV = Pᵀ G,   dP = G Vᵀ,   dS = P ⊙ (dP - rowsum(dP ⊙ P)),   rowsum(dP ⊙ P) = rowsum(G ⊙ Y),
    dQ = dS K / √d,   dK = dSᵀ Q / √d

`attention` materialises the (T, S) matrix P: memory and time grow as O(T²).
`flash_attention` walks over key tiles with an *online softmax* (running max m
and running sum l), never storing P; its backward recomputes P tile by tile from
the saved log-sum-exp. Both give the same numbers (tested).

Queries may be fewer than keys (T ≤ S, generation with a KV cache): query i
sits at absolute position S - T + i.

    python -c "import minigpt as m, numpy as np; q = m.Tensor(np.random.randn(1, 2, 5, 4)); print(m.ops.attention(q, q, q).shape)"
"""
import functools
import math

import numpy as np

from minigpt.autograd import Function, raw
from minigpt.backend import get_xp, rowsum
from minigpt.ops.dispatch import cpu_kernels, cuda_kernels, use_kernels
from minigpt.ops.rope import rotate


def causal_mask(T, S, xp):
    """Boolean (T, S): True where query i may look at key j (j <= S - T + i)."""
    return xp.arange(S)[None, :] <= (xp.arange(T)[:, None] + (S - T))


@functools.lru_cache(maxsize=32)
def _causal_bias(T, S, dtype, xp):
    """(T, S) additive causal mask, 0 where allowed and -∞ elsewhere; read-only and kept per shape."""
    bias = xp.where(causal_mask(T, S, xp), 0.0, -xp.inf).astype(dtype)
    if xp is np:
        bias.flags.writeable = False
    return bias


def local_strided_mask(T, local, stride, xp=None):
    r"""Sparse Transformer pattern (Child et al., 2019), causal, (T, T) boolean.

    Query i sees key j ≤ i if it is recent (i - j < local) or on a stride
    "summary" column ((j + 1) % stride == 0). Each row keeps O(local + T/stride)
    keys instead of O(T).
    """
    import numpy as np
    xp = xp or np
    i = xp.arange(T)[:, None]
    j = xp.arange(T)[None, :]
    return (j <= i) & (((i - j) < local) | ((j + 1) % stride == 0))


def _check_qkv(q, k, v):
    if q.ndim != 4 or k.shape != v.shape or q.shape[:2] != k.shape[:2] or q.shape[3] != k.shape[3]:
        raise ValueError(f"attention expects q (B, nh, T, hs), k and v (B, nh, S, hs); got q {q.shape}, "
                         f"k {k.shape}, v {v.shape}")
    if q.shape[2] > k.shape[2]:
        raise ValueError(f"attention: more queries ({q.shape[2]}) than keys ({k.shape[2]})")


def _softmax_rows(s, xp):
    r"""softmax over the last axis of scores s (B, nh, T, S), -∞ where masked.

    Softmax is shift-invariant: e^(s - c) / Σ e^(s - c) is the same for any c per row.
    The textbook c is the row max, so no term overflows. NumPy, though, takes a max over
    a 64-long last axis row by row, at the cost of the QKᵀ GEMM itself; one max over each
    head's whole (T, S) score matrix is ~20x cheaper, and c ≥ every score still rules out overflow.
    The risk moves to underflow: a row whose own max sits ~70 below its head's max would
    come out as all zeros. Those rows (Σ < 1e-30) are redone with their own max.
    """
    B, H, T, S = s.shape
    p = s - s.reshape(B, H, T * S).max(axis=-1)[..., None, None]
    xp.exp(p, out=p)
    total = rowsum(p)
    weak = total < 1e-30
    if weak.any():  # rare: rows far below their head's max
        sw = s[weak]
        sw -= sw.max(axis=-1, keepdims=True)
        p[weak] = xp.exp(sw)
        total[weak] = rowsum(p[weak])
    p *= (1.0 / total)[..., None]
    return p


class Attention(Function):
    @staticmethod
    def forward(ctx, q, k, v, mask=None):
        _check_qkv(q, k, v)
        xp = get_xp(q)
        T, S, d = q.shape[2], k.shape[2], q.shape[3]
        scale = ctx.scale = 1.0 / math.sqrt(d)
        ctx.fused = cpu_kernels(q, k, v) if mask is None else None
        if ctx.fused:  # float32 on the CPU with numba: causal, in query blocks (below)
            return _fused_forward(ctx, q, k, v)
        s = q @ k.swapaxes(-1, -2)  # (B, nh, T, S)
        s *= scale
        # additive mask: 0 or -∞ (cheaper than where on s); the causal one is built once per shape
        s += _causal_bias(T, S, s.dtype, xp) if mask is None else xp.where(mask, 0.0, -xp.inf).astype(s.dtype)
        p = _softmax_rows(s, xp)
        y = p @ v  # (B, nh, T, hs)
        ctx.save_for_backward(q, k, v, p, y)
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.fused:
            return _fused_backward(ctx, g)
        q, k, v, p, y = ctx.saved
        scale = ctx.scale
        dv = p.swapaxes(-1, -2) @ g  # (B, nh, S, hs)
        ds = g @ v.swapaxes(-1, -2)  # dP, (B, nh, T, S)
        ds -= rowsum(g * y)[..., None]  # rowsum(dP ⊙ P) = rowsum(G ⊙ Y): a (T, hs) product, not (T, S)
        ds *= p  # dS = P ⊙ (dP - rowsum(dP ⊙ P))
        dq = (ds @ k) * scale
        dk = (ds.swapaxes(-1, -2) @ q) * scale
        return dq, dk, dv, None


QUERY_BLOCK = 64  # the fused path cuts T >= 2 * QUERY_BLOCK queries into blocks of this many


def _query_blocks(T, S):
    r"""[(a, b, n)]: queries a..b-1 see keys 0..n-1 only (n = S - T + b, the block's last query).

    A causal (T, T) score matrix is half masked, and QKᵀ, softmax and PV spend as long on the masked half.
    Cutting the queries into blocks skips the keys no query of the block can see: at T = 256 in blocks of
    64 the GEMMs and softmax touch 10/16 of the scores. (Flash attention, below, takes this further.)
    Short sequences stay one block: small GEMMs run below BLAS's best speed.
    """
    if T < 2 * QUERY_BLOCK:
        return [(0, T, S)]
    return [(a, min(a + QUERY_BLOCK, T), S - T + min(a + QUERY_BLOCK, T)) for a in range(0, T, QUERY_BLOCK)]


def _fused_forward(ctx, q, k, v):
    """Causal attention with numba's one-pass scale + mask + softmax (kernels/cpu.py), block by block.

    y is written in (B, T, nh, hs) memory order and returned as its (B, nh, T, hs) view, so that
    `merge_heads` is a free reshape instead of a copy."""
    B, H, T, hs = q.shape
    S = k.shape[2]
    y = np.empty((B, T, H, hs), dtype=q.dtype).transpose(0, 2, 1, 3)
    ps = []
    for a, b, n in _query_blocks(T, S):
        s = q[:, :, a:b] @ k[:, :, :n].swapaxes(-1, -2)  # (B, nh, b - a, n)
        ps.append(ctx.fused.causal_softmax_(s, ctx.scale))  # query a + i sees keys j <= n - (b - a) + i
        np.matmul(ps[-1], v[:, :, :n], out=y[:, :, a:b])
    ctx.save_for_backward(q, k, v, ps, y)
    return y


def _fused_backward(ctx, g, out=None):
    """The backward of Attention block by block; 1/√d is folded into dS (attention_dscores_), so dq and dk
    need no extra pass. The last block sees every key: it sets dk and dv, the others add to their prefix.

    out: (dq, dk, dv) arrays (or views) to write into, e.g. the parts of PackedAttention's dqkv."""
    q, k, v, ps, y = ctx.saved
    g = g.astype(q.dtype, copy=False)
    dq, dk, dv = out or (np.empty(q.shape, dtype=q.dtype), np.empty(k.shape, dtype=q.dtype),
                         np.empty(v.shape, dtype=q.dtype))
    S = k.shape[2]
    for (a, b, n), p in reversed(list(zip(_query_blocks(q.shape[2], S), ps))):
        gb = g[:, :, a:b]
        ds = gb @ v[:, :, :n].swapaxes(-1, -2)  # dP
        ctx.fused.attention_dscores_(ds, p, gb, y[:, :, a:b], ctx.scale)  # dP -> dS / √d
        np.matmul(ds, k[:, :, :n], out=dq[:, :, a:b])
        if n == S:  # the last block, taken first: it sees every key
            np.matmul(p.swapaxes(-1, -2), gb, out=dv)
            np.matmul(ds.swapaxes(-1, -2), q[:, :, a:b], out=dk)
        else:
            dv[:, :, :n] += p.swapaxes(-1, -2) @ gb
            dk[:, :, :n] += ds.swapaxes(-1, -2) @ q[:, :, a:b]
    return dq, dk, dv, None


class FlashAttention(Function):
    @staticmethod
    def forward(ctx, q, k, v, tile=32):
        _check_qkv(q, k, v)
        xp = get_xp(q)
        B, H, T, d = q.shape
        S = k.shape[2]
        ctx.kernel = T == S and d <= 128 and use_kernels(q, k, v)
        if ctx.kernel:  # GPU: tiled kernel with online softmax (kernels/attention.cu)
            out, lse = cuda_kernels().attention_fwd(q, k, v)
            ctx.save_for_backward(q, k, v, out, lse)
            return out
        scale = 1.0 / math.sqrt(d)
        off = S - T
        out = xp.empty_like(q)
        lse = xp.empty((B, H, T), dtype=q.dtype)  # log Σ_j e^{s_ij}, kept for backward
        for i0 in range(0, T, tile):
            qi = q[:, :, i0:i0 + tile]  # (B, H, bq, d)
            bq = qi.shape[2]
            m = xp.full((B, H, bq, 1), -xp.inf, dtype=q.dtype)  # running max
            l = xp.zeros((B, H, bq, 1), dtype=q.dtype)  # running Σ e^{s - m}
            acc = xp.zeros((B, H, bq, d), dtype=q.dtype)  # running Σ e^{s - m} v
            last_key = off + i0 + bq  # keys beyond this are in every query's future
            for j0 in range(0, last_key, tile):
                kj, vj = k[:, :, j0:j0 + tile], v[:, :, j0:j0 + tile]
                s = (qi @ kj.swapaxes(-1, -2)) * scale  # (B, H, bq, bk)
                if j0 + kj.shape[2] > off + i0 + 1:  # tile crosses the diagonal: mask it
                    allowed = (xp.arange(j0, j0 + kj.shape[2])[None, :]
                               <= xp.arange(off + i0, off + i0 + bq)[:, None])
                    s = xp.where(allowed, s, -xp.inf)
                m_new = xp.maximum(m, s.max(axis=-1, keepdims=True))
                corr = xp.exp(m - m_new)  # rescale what we summed under the old max
                pt = xp.exp(s - m_new)
                l = l * corr + pt.sum(axis=-1, keepdims=True)
                acc = acc * corr + pt @ vj
                m = m_new
            out[:, :, i0:i0 + bq] = acc / l
            lse[:, :, i0:i0 + bq] = (m + xp.log(l))[..., 0]
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.args = (tile, scale)
        return out

    @staticmethod
    def backward(ctx, g):
        q, k, v, out, lse = ctx.saved
        if ctx.kernel:
            return cuda_kernels().attention_bwd(q, k, v, out, lse, g)
        tile, scale = ctx.args
        xp = get_xp(q)
        T, S = q.shape[2], k.shape[2]
        off = S - T
        dq, dk, dv = xp.zeros_like(q), xp.zeros_like(k), xp.zeros_like(v)
        D = (g * out).sum(axis=-1, keepdims=True)  # rowsum(dP ⊙ P) = rowsum(G ⊙ Y)
        for i0 in range(0, T, tile):
            qi, gi = q[:, :, i0:i0 + tile], g[:, :, i0:i0 + tile]
            bq = qi.shape[2]
            Li, Di = lse[:, :, i0:i0 + bq, None], D[:, :, i0:i0 + bq]
            for j0 in range(0, off + i0 + bq, tile):
                kj, vj = k[:, :, j0:j0 + tile], v[:, :, j0:j0 + tile]
                s = (qi @ kj.swapaxes(-1, -2)) * scale
                if j0 + kj.shape[2] > off + i0 + 1:
                    allowed = (xp.arange(j0, j0 + kj.shape[2])[None, :]
                               <= xp.arange(off + i0, off + i0 + bq)[:, None])
                    s = xp.where(allowed, s, -xp.inf)
                p = xp.exp(s - Li)  # recomputed probabilities of this tile
                dv[:, :, j0:j0 + tile] += p.swapaxes(-1, -2) @ gi
                ds = p * (gi @ vj.swapaxes(-1, -2) - Di)
                dq[:, :, i0:i0 + bq] += (ds @ kj) * scale
                dk[:, :, j0:j0 + tile] += (ds.swapaxes(-1, -2) @ qi) * scale
        return dq, dk, dv


def attention(q, k, v, mask=None):
    """Causal attention on (B, nh, T, hs) inputs; `mask` (T, S) bool overrides the causal mask."""
    mask = raw(mask)
    return Attention.apply(q, k, v, mask) if mask is not None else Attention.apply(q, k, v)


def flash_attention(q, k, v, tile=32):
    """Tiled causal attention with online softmax; same result as `attention`, O(T·tile) memory."""
    return FlashAttention.apply(q, k, v, tile=tile)


def split_heads(qkv, n_head, rope=None):
    """The fused projection (B, T, 3C) as q, k, v, each (B, nh, T, hs) (views, no copy); with
    rope=(cos, sin), q and k are rotated by their positions (LLaMA)."""
    B, T, C3 = qkv.shape
    if C3 % (3 * n_head):
        raise ValueError(f"attention: qkv last dim {C3} is not 3 × n_head({n_head}) × head_size")
    hs = C3 // (3 * n_head)
    q, k, v = qkv.reshape(B, T, 3, n_head, hs).transpose(2, 0, 3, 1, 4)  # each (B, nh, T, hs)
    if rope is not None:
        q, k = rotate(q, *rope), rotate(k, *rope)
    return q, k, v


def merge_heads(y):
    """The heads' outputs (B, nh, T, hs) side by side again: (B, T, C = nh·hs)."""
    B, nh, T, hs = y.shape
    return y.transpose(0, 2, 1, 3).reshape(B, T, nh * hs)


class PackedAttention(Function):
    r"""Multi-head attention straight from the fused QKV projection (causal, or bidirectional for BERT).

    qkv (B, T, 3C) is split into heads, attended (naive or flash) and merged
    back to (B, T, C) inside one Function, so the backward hands dqkv (B, T, 3C)
    to the QKV Linear without three full-size scatter buffers.

    `rope=(cos, sin)` (tables from `ops.rope.rope_tables`) rotates q and k by
    their positions before attending (LLaMA); the backward rotates dq, dk back.
    """

    @staticmethod
    def forward(ctx, qkv, n_head, impl="naive", tile=32, rope=None, causal=True):
        q, k, v = split_heads(qkv, n_head, rope)  # each (B, nh, T, hs)
        B, _, T, hs = q.shape
        inner = {"naive": Attention, "flash": FlashAttention}[impl]
        ictx = type(ctx)()
        if not causal:  # bidirectional: every query sees every key
            if impl != "naive":
                raise ValueError("bidirectional attention (causal=False) is only implemented for impl='naive'")
            y = inner.forward(ictx, q, k, v, mask=get_xp(q).ones((T, T), dtype=bool))
        elif impl == "naive":
            y = inner.forward(ictx, q, k, v)
        else:
            y = inner.forward(ictx, q, k, v, tile=tile)
        ctx.inner, ctx.ictx, ctx.shape, ctx.rope = inner, ictx, (B, T, n_head, hs), rope
        return merge_heads(y)  # (B, T, C)

    @staticmethod
    def backward(ctx, g):
        B, T, nh, hs = ctx.shape
        g4 = g.reshape(B, T, nh, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
        d = get_xp(g).empty((B, T, 3, nh, hs), dtype=g.dtype)  # the qkv layout
        parts = [d[:, :, i].transpose(0, 2, 1, 3) for i in range(3)]  # dq, dk, dv views, each (B, nh, T, hs)
        if getattr(ctx.ictx, "fused", None) and ctx.rope is None:  # the fused CPU path writes straight into d
            _fused_backward(ctx.ictx, g4, out=parts)
            return d.reshape(B, T, 3 * nh * hs), None
        dq, dk, dv = ctx.inner.backward(ctx.ictx, g4)[:3]
        if ctx.rope is not None:
            cos, sin = ctx.rope
            dq, dk = rotate(dq, cos, -sin), rotate(dk, cos, -sin)  # Rᵀ = R(-φ)
        for part, grad in zip(parts, (dq, dk, dv)):  # one copy per part
            part[...] = grad
        return d.reshape(B, T, 3 * nh * hs), None


def packed_attention(qkv, n_head, impl="naive", tile=32, rope=None, causal=True):
    """Multi-head attention of a fused (B, T, 3C) qkv tensor → (B, T, C); rope=(cos, sin) or None;
    causal unless causal=False (bidirectional, BERT)."""
    kw = {} if causal else {"causal": False}
    if rope is None:
        return PackedAttention.apply(qkv, n_head, impl=impl, tile=tile, **kw)
    return PackedAttention.apply(qkv, n_head, impl=impl, tile=tile, rope=rope, **kw)
