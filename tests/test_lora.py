"""LoRA adapters: zero update at init, merge = unmerged forward, only adapters train, counts by hand."""
import numpy as np
import pytest

import minigpt as m
from minigpt.autograd import Tensor
from minigpt.nn import GPT, GPTConfig, Linear
from minigpt.nn.lora import LoRALinear, add_lora, count_trainable, lora_layers, merge_lora, training_memory
from minigpt.optim import AdamW


def _tiny(**kw):
    base = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
    base.update(kw)
    return GPTConfig(**base)


def _randomise_B(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in lora_layers(model):
        layer.lora_B.data = rng.standard_normal(layer.lora_B.shape).astype(layer.lora_B.dtype) * 0.1


def test_lora_linear_formula(rng):
    """y = x (W + (α/r) B A)ᵀ + b, checked against the formula written out in NumPy."""
    lin = Linear(5, 3, rng=rng, dtype=np.float64)
    lin.bias.data = rng.standard_normal(3)
    lora = LoRALinear(lin, r=2, alpha=6.0, rng=rng)
    lora.lora_B.data = rng.standard_normal((3, 2))
    x = rng.standard_normal((4, 5))
    W, b, A, B = lin.weight.data, lin.bias.data, lora.lora_A.data, lora.lora_B.data
    np.testing.assert_allclose(lora(Tensor(x)).data, x @ (W + 3.0 * B @ A).T + b, rtol=1e-12)


def test_lora_linear_gradcheck(rng):
    lora = LoRALinear(Linear(4, 3, rng=rng, dtype=np.float64), r=2, alpha=4.0, rng=rng)
    lora.lora_B.data = rng.standard_normal((3, 2))
    x = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    assert m.gradcheck(lambda x, a, b: lora(x), [x, lora.lora_A, lora.lora_B])


def test_zero_init_keeps_the_pretrained_model():
    model = GPT(_tiny(), seed=1)
    ids = np.array([[1, 2, 3, 4]])
    before = model(ids)[0].data.copy()
    add_lora(model, r=2)
    np.testing.assert_array_equal(model(ids)[0].data, before)  # B = 0 → ΔW = 0 exactly


@pytest.mark.parametrize("targets", [("attn.qkv", "attn.proj"), ("attn.qkv", "mlp.fc", "mlp.proj")])
def test_merge_equals_unmerged_forward_and_unmerge_restores(targets):
    model = GPT(_tiny(), seed=2)
    w0 = model.blocks[0].attn.qkv.weight.data.copy()
    add_lora(model, r=3, alpha=6.0, targets=targets)
    _randomise_B(model)
    ids = np.array([[1, 5, 2, 7], [0, 3, 9, 4]])
    unmerged = model(ids)[0].data.copy()
    assert np.abs(unmerged - GPT(_tiny(), seed=2)(ids)[0].data).max() > 1e-3  # the adapters do change the model
    for layer in lora_layers(model):
        layer.merge()
    np.testing.assert_allclose(model(ids)[0].data, unmerged, rtol=1e-5, atol=1e-5)
    for layer in lora_layers(model):
        layer.unmerge()
    np.testing.assert_allclose(model.blocks[0].attn.qkv.weight.data, w0, atol=1e-7)
    merged_plain = merge_lora(model)  # plain Linears again: a normal GPT state_dict
    fresh = GPT(_tiny(), seed=0)
    fresh.load_state_dict(merged_plain.state_dict())
    np.testing.assert_allclose(fresh(ids)[0].data, unmerged, rtol=1e-5, atol=1e-5)


def test_only_adapters_train_and_counts_by_hand():
    """C = 8, 2 layers, r = 2 on qkv (8 → 24) and proj (8 → 8):
    per layer 2·(8 + 24) + 2·(8 + 8) = 64 + 32 = 96; two layers → 192 trainable parameters."""
    model = GPT(_tiny(), seed=3)
    names = add_lora(model, r=2)
    assert names == ["blocks.0.attn.qkv", "blocks.0.attn.proj", "blocks.1.attn.qkv", "blocks.1.attn.proj"]
    assert count_trainable(model) == 192
    frozen = {n: p.data.copy() for n, p in model.named_parameters() if not p.requires_grad}
    opt = AdamW(model.parameters(), lr=1e-2)
    assert len(opt.params) == 8  # A and B of 4 layers
    ids, tgt = np.array([[1, 2, 3, 4, 5]]), np.array([[2, 3, 4, 5, 6]])
    losses = []
    for _ in range(5):
        _, loss = model(ids, tgt)
        loss.backward()
        losses.append(loss.item())
        assert all(p.grad is None for p in model.parameters() if not p.requires_grad)
        opt.step()
        opt.zero_grad()
    assert losses[-1] < losses[0]
    for n, p in model.named_parameters():
        if n in frozen:
            np.testing.assert_array_equal(p.data, frozen[n], err_msg=n)


def test_training_memory_hand_worked():
    """Linear(90 → 10) has 910 parameters; LoRA r=1 adds A (1, 90) + B (10, 1) = 100 trainable ones.
    float32: 1,010 · 4 = 4,040 B of weights; 100 · 4 = 400 B of grads; two AdamW moments 800 B."""
    lora = LoRALinear(Linear(90, 10, bias=True), r=1)
    mem = training_memory(lora)
    assert mem == {"weights": 4040, "grads": 400, "optimizer": 800, "total": 5240}


def test_errors():
    with pytest.raises(ValueError, match="no Linear layer matches targets"):
        add_lora(GPT(_tiny()), targets=("attn.q",))
    with pytest.raises(ValueError, match="rank r must be ≥ 1"):
        LoRALinear(Linear(2, 2), r=0)


def test_sft_with_lora_trains_only_adapters_and_saves_a_plain_gpt(tmp_path):
    """SFTConfig.lora_r > 0: the frozen weights of the blocks do not change, the adapters are merged at the end,
    and the checkpoint loads as an ordinary SFT model."""
    from align_helpers import tiny_gpt, world_tok

    from minigpt.stages import sft
    from minigpt.stages.common import load_model
    tok = world_tok()
    model = tiny_gpt(tok, seed=1)
    before = model.state_dict()
    demos = [("What is 2+2?", "4"), ("Sort: 2 1", "1 2")] * 8
    cfg = sft.SFTConfig(out_dir=str(tmp_path), epochs=2, batch_size=4, optim=dict(lr=1e-2), lora_r=2, eval_interval=10**9)
    sft.train(cfg, model, tok, demos, progress=False)
    after = model.state_dict()
    assert set(after) == set(before)  # merged: plain parameter names again
    np.testing.assert_array_equal(after["wte.weight"], before["wte.weight"])  # not an adapter target: frozen
    np.testing.assert_array_equal(after["blocks.0.ln1.weight"], before["blocks.0.ln1.weight"])
    delta = after["blocks.0.attn.qkv.weight"] - before["blocks.0.attn.qkv.weight"]
    assert np.abs(delta).max() > 0 and np.linalg.matrix_rank(delta.astype(np.float64), tol=1e-6) <= 2  # rank ≤ r
    loaded, _, _ = load_model(str(tmp_path / "ckpt"), expect_stage="sft")
    np.testing.assert_array_equal(loaded.state_dict()["blocks.0.attn.qkv.weight"], after["blocks.0.attn.qkv.weight"])
