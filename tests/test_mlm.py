"""BERT pieces: masking statistics, bidirectional attention vs causal, the MLM helpers."""
import numpy as np
import pytest

from minigpt import ops
from minigpt.autograd import Tensor, gradcheck
from minigpt.experiments.mlm import fill_blanks, left_to_right_loss, mask_tokens, mlm_batch, mlm_loss
from minigpt.loop import fit
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.ops import IGNORE_INDEX

# -----------------------------------------------------------------------------
# masking


def test_masking_statistics_follow_berts_recipe():
    """15% of positions chosen (exactly round(0.15·T) per row); of those ≈80% [MASK], ≈10% random, ≈10% kept.

    With N ≈ 60k chosen positions, the standard error of a fraction near 0.1 is √(0.1·0.9/N) ≈ 0.0012,
    so ±0.006 is 5σ. A random replacement equals the original with chance 1/V, moving 0.1/V from
    "random" to "kept".
    """
    rng = np.random.default_rng(0)
    V, mask_id = 40, 40
    ids = rng.integers(0, V, size=(4000, 100))
    inp, tgt = mask_tokens(ids, mask_id, n_random=V, rng=rng)
    chosen = tgt != IGNORE_INDEX
    assert (chosen.sum(axis=1) == 15).all()
    assert (tgt[chosen] == ids[chosen]).all() and (inp[~chosen] == ids[~chosen]).all()
    masked = (inp == mask_id)[chosen].mean()
    kept = (inp == ids)[chosen].mean()
    swapped = ((inp != mask_id) & (inp != ids))[chosen].mean()
    assert masked == pytest.approx(0.8, abs=0.006)
    assert kept == pytest.approx(0.1 + 0.1 / V, abs=0.006)
    assert swapped == pytest.approx(0.1 * (1 - 1 / V), abs=0.006)
    assert inp.max() <= mask_id and inp[inp != mask_id].max() < V  # random ids come from the ordinary vocabulary


def test_positions_are_chosen_uniformly():
    """Each of T=10 positions is chosen with probability round(1.5)/10 = 0.2 (±5σ with 20k rows)."""
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 5, size=(20000, 10))
    _, tgt = mask_tokens(ids, 5, 5, rng)
    per_pos = (tgt != IGNORE_INDEX).mean(axis=0)
    assert np.allclose(per_pos, 0.2, atol=5 * np.sqrt(0.2 * 0.8 / 20000))


def test_protected_ids_are_never_chosen():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 6, size=(500, 30))
    ids[:, ::3] = 9  # a separator token
    ids[0] = 9  # a row with nothing eligible
    inp, tgt = mask_tokens(ids, mask_id=7, n_random=6, rng=rng, protect_ids=[9])
    assert (tgt[ids == 9] == IGNORE_INDEX).all() and (inp[ids == 9] == 9).all()
    assert (tgt[0] == IGNORE_INDEX).all()
    assert ((tgt[1:] != IGNORE_INDEX).sum(axis=1) == 3).all()  # round(0.15 · 20 eligible) = 3


def test_masking_is_seeded_and_checks_arguments():
    ids = np.arange(40).reshape(2, 20) % 7
    a = mask_tokens(ids, 7, 7, np.random.default_rng(3))
    b = mask_tokens(ids, 7, 7, np.random.default_rng(3))
    assert all((x == y).all() for x, y in zip(a, b))
    with pytest.raises(ValueError, match="mask_frac"):
        mask_tokens(ids, 7, 7, np.random.default_rng(0), mask_frac=0.95, random_frac=0.1)
    with pytest.raises(ValueError, match="shape"):
        mask_tokens(ids[0], 7, 7, np.random.default_rng(0))


# -----------------------------------------------------------------------------
# bidirectional attention


def _cfg(causal, **kw):
    return GPTConfig(**{"vocab_size": 11, "block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 16,
                        "causal": causal, **kw})


def test_bidirectional_model_sees_the_future_and_causal_does_not():
    x = np.array([[1, 2, 3, 4, 5, 6]])
    x2 = x.copy()
    x2[0, -1] = 9  # change only the last token
    for causal in (True, False):
        m = GPT(_cfg(causal), seed=0)
        a, b = m(x)[0].numpy(), m(x2)[0].numpy()
        if causal:
            np.testing.assert_allclose(a[0, :-1], b[0, :-1], rtol=1e-5, atol=1e-6)
        else:
            assert np.abs(a[0, :-1] - b[0, :-1]).max(axis=-1).min() > 1e-4  # every earlier position changed
    # one block, same weights, different masks: the outputs differ except at the last position, which
    # sees every token either way (with more blocks it would differ too: the other positions' keys differ)
    mc, mb = GPT(_cfg(True, n_layer=1), seed=0), GPT(_cfg(False, n_layer=1), seed=0)
    yc, yb = mc(x)[0].numpy(), mb(x)[0].numpy()
    assert np.abs(yc[0, 0] - yb[0, 0]).max() > 1e-4
    np.testing.assert_allclose(yc[0, -1], yb[0, -1], rtol=1e-4, atol=1e-5)  # the last token sees everything anyway


def test_bidirectional_attention_matches_unmasked_softmax_reference():
    """y = softmax(Q Kᵀ / √d) V with no mask, heads split from the packed (B, T, 3C) input."""
    rng = np.random.default_rng(4)
    B, T, nh, hs = 2, 5, 2, 3
    qkv = rng.standard_normal((B, T, 3 * nh * hs))
    y = ops.packed_attention(Tensor(qkv), nh, causal=False).numpy()
    q, k, v = qkv.reshape(B, T, 3, nh, hs).transpose(2, 0, 3, 1, 4)
    s = q @ k.swapaxes(-1, -2) / np.sqrt(hs)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ref = (p @ v).transpose(0, 2, 1, 3).reshape(B, T, nh * hs)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)


def test_bidirectional_attention_gradcheck():
    rng = np.random.default_rng(5)
    qkv = Tensor(rng.standard_normal((1, 4, 12)), requires_grad=True)
    assert gradcheck(lambda t: ops.packed_attention(t, 2, causal=False), [qkv])


def test_bidirectional_gpt_matches_torch():
    torch = pytest.importorskip("torch")
    from minigpt.torch_ref import TorchGPT
    cfg = _cfg(False)
    m = GPT(cfg, seed=1)
    t = TorchGPT(cfg).double()
    t.load_minigpt_state({k: v.astype(np.float64) for k, v in m.state_dict().items()})
    x = np.array([[1, 2, 3, 4, 5, 6, 7, 8]])
    ours = m(x)[0].numpy()
    theirs = t(torch.from_numpy(x))[0].detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_bidirectional_config_errors():
    with pytest.raises(ValueError, match="naive"):
        _cfg(False, attn_impl="flash")
    m = GPT(_cfg(False))
    with pytest.raises(ValueError, match="no KV cache"):
        m(np.array([[1, 2]]), cache={})


# -----------------------------------------------------------------------------
# training and using a masked LM


def test_mlm_learns_to_fill_blanks_that_need_the_right_context():
    """Sequences a b c d with d = a: the blank at position 0 can only be filled from the right.

    A masked LM learns it; a causal LM cannot even try (nothing to its left), and for a blank at
    position 1 (b, independent of everything) neither can beat chance.
    """
    rng = np.random.default_rng(6)
    V, mask_id = 6, 6

    def batch(r, n=64):
        a = r.integers(0, V, n)
        return np.stack([a, r.integers(0, V, n), r.integers(0, V, n), a], axis=1)  # (n, 4)

    m = GPT(GPTConfig(vocab_size=V + 1, block_size=4, n_layer=1, n_head=2, n_embd=24, causal=False), seed=0)
    fit(m, lambda step, r: mlm_loss(m, *mask_tokens(batch(r), mask_id, V, r, mask_prob=0.25)),
        steps=250, lr=1e-2)
    test = batch(rng, 300)
    blank = np.zeros_like(test, dtype=bool)
    blank[:, 0] = True
    acc = (fill_blanks(m, test, blank, mask_id)[:, 0] == test[:, 0]).mean()
    assert acc > 0.9  # chance is 1/6
    causal = GPT(GPTConfig(vocab_size=V + 1, block_size=4, n_layer=1, n_head=2, n_embd=24), seed=0)
    with pytest.raises(ValueError, match="position 0"):
        fill_blanks(causal, test, blank)


def test_left_to_right_loss_agrees_with_a_direct_computation():
    """For a causal model it is the usual next-token loss; for a masked model it is the loss at an appended mask."""
    rng = np.random.default_rng(7)
    w = rng.integers(0, 10, size=(3, 6))
    m = GPT(_cfg(True), seed=2)
    direct = m(w[:, :-1], w[:, 1:])[1].item()
    assert left_to_right_loss(m, w) == pytest.approx(direct, rel=1e-5)
    b = GPT(_cfg(False), seed=2)
    t = 3  # predict w[:, 3] from w[:, :3] + [MASK]
    logits = b(np.concatenate([w[:, :t], np.full((3, 1), 10)], axis=1))[0].numpy()[:, -1]
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(
        -1, keepdims=True)
    assert left_to_right_loss(b, w[:, :4], mask_id=10, start=3) == pytest.approx(
        -logp[np.arange(3), w[:, 3]].mean(), rel=1e-5)


def test_mlm_batch_shapes():
    stream = np.arange(100) % 9
    inp, tgt = mlm_batch(stream, 5, 20, np.random.default_rng(0), mask_id=9, n_random=9)
    assert inp.shape == tgt.shape == (5, 20) and ((tgt != IGNORE_INDEX).sum(axis=1) == 3).all()


def test_bidirectional_works_with_the_llama_options():
    """causal=False composes with RMSNorm/SwiGLU/RoPE: the first position still sees the last token."""
    cfg = _cfg(False, norm="rmsnorm", mlp="swiglu", pos="rope")
    m = GPT(cfg, seed=0)
    x = np.array([[1, 2, 3, 4]])
    x2 = np.array([[1, 2, 3, 9]])
    assert np.abs(m(x)[0].numpy()[0, 0] - m(x2)[0].numpy()[0, 0]).max() > 1e-4
    torch = pytest.importorskip("torch")
    from minigpt.torch_ref import TorchGPT
    t = TorchGPT(cfg).double()
    t.load_minigpt_state({k: v.astype(np.float64) for k, v in m.state_dict().items()})
    np.testing.assert_allclose(m(x)[0].numpy(), t(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-4, atol=1e-4)


def test_mlm_generate_appends_one_mask_at_a_time():
    """With a model whose prediction at the mask is fixed, generation is that token repeated."""
    m = GPT(_cfg(False), seed=3)
    from minigpt.experiments.mlm import mlm_generate
    new = mlm_generate(m, [1, 2, 3], 4, mask_id=10)
    assert len(new) == 4
    first = int(m(np.array([[1, 2, 3, 10]]))[0].numpy()[0, -1].argmax())
    assert new[0] == first
