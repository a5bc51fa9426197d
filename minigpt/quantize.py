r"""Weight quantization: INT8 per-channel and INT4 group-wise, symmetric (as in GLM-130B).

A float32 weight takes 4 bytes. Store instead a small integer q and a shared scale s:

    s = max|w| / q_max           over one row (INT8, q_max = 127) or one group of g
                                 consecutive weights in a row (INT4, q_max = 7)
    q = round(w / s) ∈ [-q_max, q_max]          ŵ = q · s   (dequantized)

Rounding to the nearest integer moves each weight by at most half a step:

    |w - ŵ| = s · |w/s - round(w/s)| ≤ s / 2         (elementwise)

Symmetric (no zero point) because trained weights are centred on 0. Per-channel /
per-group scales matter: one outlier weight stretches s for everyone sharing it,
so smaller groups give smaller errors at the cost of more scales (INT4 with
g = 32 costs 4 + 32/32 = 5 bits per weight with float32 scales). group_size=None: one scale per
row ("per channel", the usual choice for INT8). GLM-130B
quantizes its linear weights to INT8 or INT4 and keeps activations in FP16
("W8A16"): matrices are dequantized on the fly, so it saves memory, not compute;
we measure exactly that here — size and loss change — with a dequantized copy.

Vectors (biases, norm gains) stay float32: they are few and sensitive.

    python -c "import numpy as np; from minigpt.quantize import quantize, dequantize; w = np.random.randn(4, 64).astype('f4'); print(abs(w - dequantize(quantize(w, bits=4, group_size=32))).max())"
"""
import json
import math
from dataclasses import dataclass

import numpy as np

from minigpt.backend import to_numpy
from minigpt.checkpoint import load_tensors, save_tensors

QMAX = {8: 127, 4: 7}


@dataclass
class QuantizedTensor:
    q: np.ndarray  # int8 (rows, cols) for bits=8; uint8 (rows, ⌈padded cols / 2⌉), two 4-bit values a byte, for bits=4
    scale: np.ndarray  # float32 (rows, 1) per channel, or (rows, n_groups, 1) per group
    shape: tuple  # the original shape
    bits: int  # 8 or 4
    group_size: int  # weights sharing a scale (= cols for per-channel)

    @property
    def nbytes(self) -> int:
        return self.q.nbytes + self.scale.nbytes

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.nbytes / math.prod(self.shape)


# -----------------------------------------------------------------------------
# one tensor

def _pack4(q):
    """Two signed 4-bit values per byte (two's complement nibbles): [a, b] → (b & 15) << 4 | (a & 15).
    An odd-length row gets a zero nibble at the end."""
    if q.shape[1] % 2:
        q = np.concatenate([q, np.zeros((q.shape[0], 1), q.dtype)], axis=1)
    u = (q.astype(np.int16) & 0x0F).astype(np.uint8)
    return u[:, 0::2] | (u[:, 1::2] << 4)


def _unpack4(packed):
    lo, hi = (packed & 0x0F).astype(np.int8), (packed >> 4).astype(np.int8)
    q = np.empty((packed.shape[0], packed.shape[1] * 2), dtype=np.int8)
    q[:, 0::2], q[:, 1::2] = lo, hi
    return np.where(q >= 8, q - 16, q).astype(np.int8)  # nibble 8..15 → -8..-1


def quantize(w, bits=8, group_size=None) -> QuantizedTensor:
    """Symmetric quantization of an array with ≥ 2 dims, one scale per row (its first axis:
    group_size=None, "per channel") or per `group_size` consecutive weights of a row.

    Example: w = [[0.5, -1.0, 0.25]], bits=8: s = 1/127, q = [64, -127, 32] (63.5 rounds to even 64).
    """
    if bits not in QMAX:
        raise ValueError(f"bits must be 8 or 4, got {bits}")
    w = np.asarray(to_numpy(w))
    if w.ndim < 2:
        raise ValueError(f"quantize expects a matrix (≥ 2 dims, one scale per row), got shape {w.shape}")
    rows, cols = w.shape[0], math.prod(w.shape[1:])
    g = cols if group_size is None else min(int(group_size), cols)
    if g < 1:
        raise ValueError(f"group_size must be ≥ 1 (or None for one scale per row), got {group_size}")
    n_groups = -(-cols // g)
    w2 = np.zeros((rows, n_groups * g), dtype=np.float64)  # zero-pad the last group
    w2[:, :cols] = w.reshape(rows, cols)
    wg = w2.reshape(rows, n_groups, g)  # (rows, G, g)
    qmax = QMAX[bits]
    scale = (np.abs(wg).max(axis=-1, keepdims=True) / qmax).astype(np.float32)  # (rows, G, 1)
    safe = np.where(scale > 0, scale, 1.0)  # an all-zero group: q = 0, s = 0
    q = np.clip(np.round(wg / safe), -qmax, qmax).astype(np.int8).reshape(rows, n_groups * g)
    if bits == 4:
        q = _pack4(q)
    if g == cols:
        scale = scale.reshape(rows, 1)
    return QuantizedTensor(q=q, scale=scale, shape=tuple(w.shape), bits=bits, group_size=g)


def dequantize(qt: QuantizedTensor) -> np.ndarray:
    """ŵ = q · s, back to float32 with the original shape."""
    rows, cols = qt.shape[0], math.prod(qt.shape[1:])
    g = qt.group_size
    n = -(-cols // g) * g  # padded row length
    q = _unpack4(qt.q)[:, :n] if qt.bits == 4 else qt.q
    deq = q.reshape(rows, -1, g).astype(np.float32) * qt.scale.reshape(rows, -1, 1)  # (rows, G, g)
    return deq.reshape(rows, -1)[:, :cols].reshape(qt.shape)


# -----------------------------------------------------------------------------
# a whole model

def quantize_state_dict(state, bits=8, group_size=None, skip=()):
    """{name: QuantizedTensor for matrices, float array kept for vectors and names in `skip`}."""
    out = {}
    for k, v in state.items():
        v = np.asarray(to_numpy(v))
        out[k] = quantize(v, bits, group_size) if (v.ndim >= 2 and k not in skip) else v
    return out


def dequantize_state_dict(qstate):
    return {k: dequantize(v) if isinstance(v, QuantizedTensor) else v for k, v in qstate.items()}


def size_report(qstate) -> dict:
    """Bytes as float32 vs quantized (integers + float32 scales + kept vectors)."""
    fp32 = sum(4 * math.prod(v.shape) for v in qstate.values())
    quant = sum(v.nbytes for v in qstate.values())
    mats = [v for v in qstate.values() if isinstance(v, QuantizedTensor)]
    n_q = sum(math.prod(v.shape) for v in mats)
    return {"float32_bytes": fp32, "quantized_bytes": quant, "ratio": fp32 / quant,
            "bits_per_quantized_weight": 8 * sum(v.nbytes for v in mats) / max(n_q, 1),
            "quantized_fraction": n_q / max(sum(math.prod(v.shape) for v in qstate.values()), 1)}


def quantized_copy(model, bits=8, group_size=None, skip=()):
    """(a new model of the same class and config holding ŵ = deq(q(w)), size report)."""
    qstate = quantize_state_dict(model.state_dict(), bits, group_size, skip)
    copy = type(model)(model.config)
    copy.load_state_dict(dequantize_state_dict(qstate))
    return copy, size_report(qstate)


# -----------------------------------------------------------------------------
# on disk: integers and scales in safetensors, the layout in its JSON metadata

def save_quantized(path, qstate):
    arrays, layout = {}, {}
    for k, v in qstate.items():
        if isinstance(v, QuantizedTensor):
            arrays[k + ".q"], arrays[k + ".scale"] = v.q, v.scale
            layout[k] = {"shape": list(v.shape), "bits": v.bits, "group_size": v.group_size}
        else:
            arrays[k] = v
    save_tensors(path, arrays, metadata={"quantized": json.dumps(layout)})


def load_quantized(path):
    from safetensors import safe_open

    arrays = load_tensors(path)
    with safe_open(path, framework="numpy") as f:
        layout = json.loads((f.metadata() or {}).get("quantized", "{}"))
    out = {k: v for k, v in arrays.items() if not any(k in (n + ".q", n + ".scale") for n in layout)}
    for k, info in layout.items():
        out[k] = QuantizedTensor(q=arrays[k + ".q"], scale=arrays[k + ".scale"], shape=tuple(info["shape"]),
                                 bits=info["bits"], group_size=info["group_size"])
    return out
