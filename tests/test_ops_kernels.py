"""The ops' GPU path: the same ops with the hand-written CUDA kernels swapped in.

Without a GPU, `kernels_on_cpu()` runs the kernels through the CPU emulation shim,
so the wiring (saved tensors, shapes, ignore_index, scaling of upstream grads) is
tested on every CI run. With a GPU, the `cuda` tests run the real thing via CuPy.
"""
import numpy as np
import pytest

import minigpt as m
from minigpt import ops
from minigpt.autograd import Tensor
from minigpt.nn import GPT, GPTConfig
from minigpt.ops.dispatch import kernels_on_cpu
from minigpt.optim import AdamW

pytest.importorskip("minigpt.kernels.emulate")
if __import__("shutil").which("g++") is None:
    pytest.skip("the CPU shim needs g++", allow_module_level=True)


def _both(fn, arrays, g=None):
    """Run fn forward+backward on the normal path and through the kernels; return both results."""
    out = []
    for use in (False, True):
        xs = [Tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
        if use:
            with kernels_on_cpu():
                y = fn(*xs)
                y.backward(np.ones(y.shape, np.float32) if g is None else g)
        else:
            y = fn(*xs)
            y.backward(np.ones(y.shape, np.float32) if g is None else g)
        out.append((y.data, [x.grad for x in xs if x.requires_grad]))
    return out


CASES = {
    "softmax": (lambda x: ops.softmax(x), [(5, 37)]),
    "gelu": (ops.gelu, [(3, 50)]),
    "layernorm": (lambda x, w, b: ops.layernorm(x, w, b), [(2, 5, 40), (40,), (40,)]),
    "flash_attention": (lambda q, k, v: ops.flash_attention(q, k, v), [(1, 2, 19, 8)] * 3),
}


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_path_matches_array_path(name, rng):
    fn, shapes = CASES[name]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    g = rng.standard_normal(fn(*[Tensor(a) for a in arrays]).shape).astype(np.float32)
    (y0, g0), (y1, g1) = _both(fn, arrays, g)
    np.testing.assert_allclose(y1, y0, atol=1e-5, rtol=1e-4)
    for a, b in zip(g1, g0):
        np.testing.assert_allclose(a, b, atol=1e-4 * max(1.0, np.abs(b).max()))


def test_cross_entropy_kernel_path(rng):
    z = rng.standard_normal((6, 29)).astype(np.float32) * 10
    t = np.array([1, -100, 28, 0, -100, 5])
    (l0, (g0,)), (l1, (g1,)) = _both(lambda z: ops.cross_entropy(z, t), [z], np.float32(2.0))
    assert float(l1) == pytest.approx(float(l0), rel=1e-5)
    np.testing.assert_allclose(g1, g0, atol=1e-6)


def _train_step(model, ids, tgt):
    opt = AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    _, loss = model(ids, tgt)
    loss.backward()
    grads = {n: p.grad.copy() for n, p in model.named_parameters()}
    opt.step()
    return loss.item(), grads, model.state_dict()


def test_gpt_training_step_through_kernels():
    """A whole step (forward, backward, AdamW) with every fused kernel in use equals the NumPy step."""
    cfg = GPTConfig(vocab_size=23, block_size=12, n_layer=1, n_head=2, n_embd=16, attn_impl="flash")
    ids = np.random.default_rng(0).integers(0, 23, (2, 12))
    tgt = np.random.default_rng(1).integers(0, 23, (2, 12))
    ref = _train_step(GPT(cfg, seed=0), ids, tgt)
    with kernels_on_cpu():
        got = _train_step(GPT(cfg, seed=0), ids, tgt)
    assert got[0] == pytest.approx(ref[0], rel=1e-5)
    for n in ref[1]:
        np.testing.assert_allclose(got[1][n], ref[1][n], atol=1e-5 + 1e-3 * np.abs(ref[1][n]).max(), err_msg=n)
        np.testing.assert_allclose(got[2][n], ref[2][n], atol=1e-5, err_msg=n)


@pytest.mark.cuda
def test_gpt_step_on_gpu_matches_numpy():
    cfg = GPTConfig(vocab_size=65, block_size=64, n_layer=2, n_head=4, n_embd=64, attn_impl="flash")
    ids = np.random.default_rng(0).integers(0, 65, (4, 64))
    tgt = np.random.default_rng(1).integers(0, 65, (4, 64))
    ref = _train_step(GPT(cfg, seed=0), ids, tgt)
    got = _train_step(GPT(cfg, seed=0).to("cuda"), ids, tgt)
    assert got[0] == pytest.approx(ref[0], rel=1e-4)
    for n in ref[1]:
        np.testing.assert_allclose(m.backend.to_numpy(got[1][n]), ref[1][n], atol=1e-4 + 1e-3 * np.abs(ref[1][n]).max())
