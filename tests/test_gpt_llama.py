"""GPT with LLaMA-style options (norm="rmsnorm", mlp="swiglu", pos="rope"): parameter counts,
whole-model gradcheck, equivalence with an independent PyTorch twin, KV cache with RoPE."""
import itertools

import numpy as np
import pytest

import minigpt as m
from minigpt.generate import generate
from minigpt.nn import GPT, GPTConfig, count_params
from minigpt.nn.gpt import mlp_hidden

OPTIONS = [dict(norm=n, mlp=f, pos=p) for n, f, p in itertools.product(("layernorm", "rmsnorm"), ("gelu", "swiglu"),
                                                                        ("learned", "rope"))]
LLAMA = dict(norm="rmsnorm", mlp="swiglu", pos="rope")


def _tiny(**kw):
    base = dict(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    base.update(kw)
    return GPTConfig(**base)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(o.values()))
def test_count_params_formula_equals_model(opts, bias):
    cfg = _tiny(n_layer=2, n_embd=12, bias=bias, **opts)
    assert count_params(cfg) == GPT(cfg).num_parameters()


def test_llama_param_budget_hand_worked():
    """C = 128, L = 4, V = 256, T = 64, bias=False. SwiGLU hidden H = ⌈(8·128/3)/8⌉·8 = 344.
    Per block: attention 4C² = 65,536; MLP 3CH = 132,096; two RMSNorms 2C = 256 → 197,888.
    Total 4·197,888 + VC (32,768) + final norm C (128) = 824,448; no position table."""
    cfg = GPTConfig(vocab_size=256, block_size=64, n_layer=4, n_embd=128, bias=False, **LLAMA)
    assert mlp_hidden(cfg) == 344
    assert count_params(cfg) == 824_448 == GPT(cfg).num_parameters()


def _float64(model):
    for p in model.parameters():
        p.data = p.data.astype(np.float64) * 10  # larger weights so every path matters numerically
    return model


@pytest.mark.parametrize("impl", ["naive", "flash"])
def test_whole_llama_gradcheck(impl):
    model = _float64(GPT(_tiny(attn_impl=impl, flash_tile=3, **LLAMA), seed=3))
    ids = np.array([[1, 5, 2, 7, 7], [0, 3, 9, 10, 4]])
    tgt = np.array([[5, 2, 7, 7, 1], [3, 9, 10, 4, -100]])
    assert m.gradcheck(lambda *ps: model(ids, tgt)[1], model.parameters(), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("opts", [dict(norm="rmsnorm"), dict(mlp="swiglu"), dict(pos="rope"), LLAMA],
                         ids=["rmsnorm", "swiglu", "rope", "llama"])
def test_matches_torch_model(opts):
    pytest.importorskip("torch")
    from minigpt.torch_ref import forward_backward_both
    model = GPT(_tiny(n_layer=2, vocab_size=13, n_embd=16, n_head=2, **opts), seed=1)
    for p in model.parameters():
        p.data = p.data * 5  # well away from the near-zero init so the options matter
    logits, loss, t_logits, t_loss, ref = forward_backward_both(model)
    np.testing.assert_allclose(logits.data, t_logits.detach().numpy(), atol=1e-5 * np.abs(logits.data).max())
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-5)
    grads = ref.minigpt_grads()
    assert set(grads) == {n for n, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name], atol=1e-6 + 1e-4 * np.abs(grads[name]).max(), err_msg=name)


def test_generate_with_rope_cache_equals_uncached():
    """Sampling with the KV cache gives the tokens of recomputing every step (the cached logits
    themselves are checked against the full forward in test_gpt.py, LLaMA blocks included)."""
    model = GPT(_tiny(n_layer=2, **LLAMA), seed=0)
    for p in model.parameters():
        p.data = p.data * 10
    cached = generate(model, [1, 2, 3], max_new_tokens=8, temperature=1.0, seed=3)
    uncached = generate(model, [1, 2, 3], max_new_tokens=8, temperature=1.0, seed=3, use_cache=False)
    assert cached == uncached


def test_rope_model_has_no_position_table():
    model = GPT(_tiny(pos="rope"))
    assert not any(n.startswith("wpe") for n, _ in model.named_parameters())
    assert any(n.startswith("wpe") for n, _ in GPT(_tiny()).named_parameters())


def test_config_errors():
    with pytest.raises(ValueError, match=r"GPTConfig.norm must be one of \('layernorm', 'rmsnorm'\)"):
        _tiny(norm="batchnorm")
    with pytest.raises(ValueError, match="GPTConfig.mlp"):
        _tiny(mlp="relu")
    with pytest.raises(ValueError, match="even head size"):
        _tiny(pos="rope", n_embd=6, n_head=2)
    assert GPTConfig.from_dict(_tiny(**LLAMA).to_dict()) == _tiny(**LLAMA)
