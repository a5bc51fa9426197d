"""INT8 / INT4 symmetric weight quantization: hand-worked values, the |w - ŵ| ≤ s/2 bound, packing,
sizes, safetensors round trip, a quantized GPT."""
import numpy as np
import pytest

from minigpt.nn import GPT, GPTConfig
from minigpt.quantize import (QuantizedTensor, _pack4, _unpack4, dequantize, load_quantized, quantize,
                              quantize_state_dict, quantized_copy, save_quantized, size_report)


def test_int8_hand_worked():
    """max|w| = 1 → s = 1/127; 0.5·127 = 63.5 → 64 (round half to even), 0.25·127 = 31.75 → 32."""
    qt = quantize(np.array([[0.5, -1.0, 0.25]], np.float32), bits=8)
    np.testing.assert_array_equal(qt.q, [[64, -127, 32]])
    np.testing.assert_allclose(qt.scale, [[1 / 127]], rtol=1e-7)
    np.testing.assert_allclose(dequantize(qt), [[64 / 127, -1.0, 32 / 127]], rtol=1e-6)


def test_int4_hand_worked():
    """Groups of 2: [3.5, -1.25] → s = 3.5/7 = 0.5, q = [7, -2.5 → -2 (half to even)], ŵ = [3.5, -1.0];
    [0, 0] → s = 0, q = 0 (an all-zero group)."""
    qt = quantize(np.array([[3.5, -1.25, 0.0, 0.0]]), bits=4, group_size=2)
    np.testing.assert_array_equal(qt.scale.reshape(-1), [0.5, 0.0])
    np.testing.assert_array_equal(dequantize(qt), [[3.5, -1.0, 0.0, 0.0]])
    assert qt.q.dtype == np.uint8 and qt.q.shape == (1, 2)  # 4 values in 2 bytes


@pytest.mark.parametrize("bits, group_size", [(8, None), (8, 16), (4, None), (4, 8), (4, 7), (4, 64)])
@pytest.mark.parametrize("shape", [(16, 48), (7, 50), (3, 4, 10), (1, 1)])
def test_error_bound_elementwise(bits, group_size, shape):
    """|w - deq(q(w))| ≤ s/2 for every weight, with s the scale of its row/group (float32 slack of 1e-6·|w|)."""
    rng = np.random.default_rng(sum(shape) + bits)
    w = rng.standard_normal(shape).astype(np.float32)
    w.reshape(-1)[0] = 25.0  # an outlier
    qt = quantize(w, bits, group_size)
    deq = dequantize(qt)
    assert deq.shape == w.shape and deq.dtype == np.float32
    rows, cols = shape[0], int(np.prod(shape[1:]))
    s = np.repeat(qt.scale.reshape(rows, -1), qt.group_size, axis=1)[:, :cols].reshape(shape)
    err = np.abs(w.astype(np.float64) - deq)
    assert np.all(err <= s / 2 + 1e-6 * np.abs(w) + 1e-12), err.max()
    assert np.abs(w).max() == pytest.approx(np.abs(deq).max(), rel=1e-6)  # the row max is exact


def test_groups_beat_channels_with_an_outlier():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 128)).astype(np.float32) * 0.02
    w[:, 0] = 1.0  # one large weight per row stretches the per-channel scale
    per_channel = np.abs(w - dequantize(quantize(w, 4, group_size=128))).mean()
    grouped = np.abs(w - dequantize(quantize(w, 4, group_size=32))).mean()
    assert grouped < per_channel / 3


def test_pack_unpack_int4_all_values():
    q = np.array([np.arange(-8, 8), np.arange(7, -9, -1)], dtype=np.int8)
    packed = _pack4(q)
    assert packed.shape == (2, 8) and packed.dtype == np.uint8
    assert packed[0, 0] == (0x08 | (0x09 << 4))  # -8 → nibble 8, -7 → nibble 9 (two's complement)
    np.testing.assert_array_equal(_unpack4(packed), q)


def test_state_dict_sizes_hand_worked(tmp_path):
    """A (4, 64) matrix and a (64,) vector: float32 = 4·(256 + 64) = 1,280 B.
    INT8 per channel: 256 B of ints + 4 float32 scales (16 B) + the vector kept (256 B) = 528 B.
    INT4 groups of 32: 128 B of ints + 8 scales (32 B) + 256 B = 416 B."""
    rng = np.random.default_rng(1)
    state = {"w": rng.standard_normal((4, 64)).astype(np.float32), "b": rng.standard_normal(64).astype(np.float32)}
    q8, q4 = quantize_state_dict(state, bits=8), quantize_state_dict(state, bits=4, group_size=32)
    assert quantize(np.ones((3, 5)), bits=4).q.shape == (3, 3)  # per channel, 5 nibbles → 3 bytes
    assert isinstance(q8["w"], QuantizedTensor) and q8["b"] is not None and not isinstance(q8["b"], QuantizedTensor)
    r8, r4 = size_report(q8), size_report(q4)
    assert (r8["float32_bytes"], r8["quantized_bytes"], r4["quantized_bytes"]) == (1280, 528, 416)
    assert r8["bits_per_quantized_weight"] == pytest.approx(8 + 32 / 64)
    assert r4["bits_per_quantized_weight"] == pytest.approx(4 + 32 / 32)
    save_quantized(tmp_path / "q4.safetensors", q4)
    back = load_quantized(tmp_path / "q4.safetensors")
    np.testing.assert_array_equal(dequantize(back["w"]), dequantize(q4["w"]))
    np.testing.assert_array_equal(back["b"], state["b"])


def test_quantized_gpt_keeps_its_loss():
    cfg = GPTConfig(vocab_size=32, block_size=16, n_layer=2, n_head=2, n_embd=32)
    model = GPT(cfg, seed=0)
    for p in model.parameters():
        if p.ndim >= 2:
            p.data = p.data * 10  # a less uniform model than the init, so quantization noise shows
    rng = np.random.default_rng(0)
    ids, tgt = rng.integers(0, 32, (4, 16)), rng.integers(0, 32, (4, 16))
    logits, base = model(ids, tgt)
    q8, rep8 = quantized_copy(model, bits=8)
    q4, rep4 = quantized_copy(model, bits=4, group_size=16)
    (l8, loss8), (l4, _) = q8(ids, tgt), q4(ids, tgt)
    assert abs(loss8.item() - base.item()) / base.item() < 0.01
    assert 0 < np.abs(l8.data - logits.data).max() < np.abs(l4.data - logits.data).max() / 4  # INT8 ≫ INT4
    assert 3 < rep8["ratio"] < 4 and rep4["ratio"] > 1.3 * rep8["ratio"]  # vectors stay float32


def test_errors():
    with pytest.raises(ValueError, match="bits must be 8 or 4"):
        quantize(np.ones((2, 2)), bits=3)
    with pytest.raises(ValueError, match="matrix"):
        quantize(np.ones(3))
    with pytest.raises(ValueError, match="group_size must be ≥ 1"):
        quantize(np.ones((2, 6)), bits=4, group_size=0)
