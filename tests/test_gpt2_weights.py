"""GPT-2 weights in minigpt's GPT: a tiny checkpoint in Hugging Face's GPT2LMHeadModel layout, written
here (no download), loads into minigpt and gives the logits of an independent GPT-2 forward.

The reference forward below is written from the GPT-2 equations on the *Hugging Face* tensors as
they are stored (Conv1D: y = x W + b with W of shape (in, out)), in PyTorch float64, sharing no code
with minigpt: embeddings + positions, pre-LN blocks (LayerNorm ε = 1e-5, causal softmax attention
with 1/√hs scaling, tanh-GELU MLP), final LayerNorm, logits against the token embedding.

    PYTHONPATH=. python -m pytest tests/test_gpt2_weights.py -q
"""
import json
import math

import numpy as np
import pytest
from safetensors.numpy import save_file

from minigpt.gpt2 import complete, convert_state, infer_config, load_gpt2

V, T, C, H, L = 61, 16, 24, 3, 2  # vocab, context, width, heads (not visible in any shape), blocks


def hf_state(seed=0, prefix="", extras=True):
    """Random GPT-2 tensors in Hugging Face's layout and names (Conv1D weights stored (in, out))."""
    rng = np.random.default_rng(seed)

    def w(*shape, std=0.3):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    s = {"wte.weight": w(V, C), "wpe.weight": w(T, C), "ln_f.weight": 1 + w(C, std=0.1), "ln_f.bias": w(C, std=0.1)}
    for i in range(L):
        s |= {f"h.{i}.ln_1.weight": 1 + w(C, std=0.1), f"h.{i}.ln_1.bias": w(C, std=0.1),
              f"h.{i}.attn.c_attn.weight": w(C, 3 * C), f"h.{i}.attn.c_attn.bias": w(3 * C, std=0.1),
              f"h.{i}.attn.c_proj.weight": w(C, C), f"h.{i}.attn.c_proj.bias": w(C, std=0.1),
              f"h.{i}.ln_2.weight": 1 + w(C, std=0.1), f"h.{i}.ln_2.bias": w(C, std=0.1),
              f"h.{i}.mlp.c_fc.weight": w(C, 4 * C), f"h.{i}.mlp.c_fc.bias": w(4 * C, std=0.1),
              f"h.{i}.mlp.c_proj.weight": w(4 * C, C), f"h.{i}.mlp.c_proj.bias": w(C, std=0.1)}
        if extras:  # the causal-mask buffer older transformers versions saved with the weights
            s[f"h.{i}.attn.bias"] = np.tril(np.ones((T, T), np.float32))[None, None]
    s = {prefix + k: v for k, v in s.items()}
    if extras:
        s["lm_head.weight"] = s[prefix + "wte.weight"].copy()  # the tied head, saved as a copy
    return s


def write_checkpoint(directory, state, n_head=H, **config):
    directory.mkdir(parents=True, exist_ok=True)
    save_file(state, str(directory / "model.safetensors"))
    hf = {"model_type": "gpt2", "n_embd": C, "n_head": n_head, "n_layer": L, "n_positions": T, "vocab_size": V,
          "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", **config}
    (directory / "config.json").write_text(json.dumps(hf))
    return directory


def reference_logits(s, ids, n_head=H):
    """GPT-2's forward in torch float64 on the Hugging Face tensors (independent of minigpt)."""
    torch = pytest.importorskip("torch")
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in s.items()}

    def ln(x, g, b):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + 1e-5) * g + b

    def gelu(x):  # GPT-2's "gelu_new"
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

    idx = torch.tensor(ids)
    B, n = idx.shape
    hs = C // n_head
    x = t["wte.weight"][idx] + t["wpe.weight"][:n]  # (B, n, C)
    mask = torch.tril(torch.ones(n, n, dtype=torch.bool))
    for i in range(L):
        p = f"h.{i}."
        a = ln(x, t[p + "ln_1.weight"], t[p + "ln_1.bias"]) @ t[p + "attn.c_attn.weight"] + t[p + "attn.c_attn.bias"]
        q, k, v = (z.reshape(B, n, n_head, hs).transpose(1, 2) for z in a.split(C, dim=-1))  # (B, nh, n, hs)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hs)
        att = torch.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, n, C)
        x = x + y @ t[p + "attn.c_proj.weight"] + t[p + "attn.c_proj.bias"]
        m = gelu(ln(x, t[p + "ln_2.weight"], t[p + "ln_2.bias"]) @ t[p + "mlp.c_fc.weight"] + t[p + "mlp.c_fc.bias"])
        x = x + m @ t[p + "mlp.c_proj.weight"] + t[p + "mlp.c_proj.bias"]
    return (ln(x, t["ln_f.weight"], t["ln_f.bias"]) @ t["wte.weight"].T).numpy()  # (B, n, V)


# -----------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["", "transformer."])
def test_loaded_gpt2_matches_an_independent_forward(tmp_path, prefix):
    s = hf_state(prefix=prefix)
    model = load_gpt2(write_checkpoint(tmp_path / "gpt2", s))
    c = model.config
    assert (c.vocab_size, c.block_size, c.n_layer, c.n_head, c.n_embd) == (V, T, L, H, C)
    ids = np.random.default_rng(1).integers(0, V, size=(2, T))
    logits, _ = model(ids)
    ref = reference_logits({k[len(prefix):]: v for k, v in s.items() if k != "lm_head.weight"}, ids)
    assert np.abs(ref).max() > 1.0  # the weights are large enough for a wrong wiring to show
    np.testing.assert_allclose(logits.data, ref, rtol=1e-4, atol=1e-4)


def test_a_wrong_head_count_or_untransposed_weights_would_be_caught(tmp_path):
    """The comparison above can fail: the same file read with 2 heads, or with a Conv1D weight left
    untransposed (C × C, so the shapes still fit), gives other logits."""
    s = hf_state(extras=False)
    ids = np.random.default_rng(1).integers(0, V, size=(1, T))
    ref = reference_logits(s, ids)
    wrong_heads = load_gpt2(write_checkpoint(tmp_path / "h2", s, n_head=2))
    assert np.abs(wrong_heads(ids)[0].data - ref).max() > 1e-2
    model = load_gpt2(write_checkpoint(tmp_path / "ok", s))
    model.blocks[0].attn.proj.weight.data = model.blocks[0].attn.proj.weight.data.T.copy()
    assert np.abs(model(ids)[0].data - ref).max() > 1e-2


def test_greedy_sampling_follows_the_reference_argmax(tmp_path):
    s = hf_state(seed=3, extras=False)
    model = load_gpt2(write_checkpoint(tmp_path / "gpt2", s) / "model.safetensors")

    class Enc:  # a stand-in for tiktoken's Encoding: one character per id
        eot_token = V - 1

        def encode(self, text):
            return [ord(ch) - ord("a") for ch in text]

        def decode(self, ids):
            return "".join(chr(ord("a") + i) for i in ids)

    text = complete(model, Enc(), "abc", max_new_tokens=6, temperature=0)
    ids = [0, 1, 2]
    want = []
    for _ in range(6):
        nxt = int(np.argmax(reference_logits(s, [ids])[0, -1]))
        if nxt == Enc.eot_token:
            break
        ids.append(nxt)
        want.append(nxt)
    assert text == Enc().decode(want)


def test_config_without_a_config_file_and_clear_errors(tmp_path):
    s = convert_state(hf_state(extras=False))
    assert s["blocks.0.attn.qkv.weight"].shape == (3 * C, C) and s["blocks.1.mlp.proj.weight"].shape == (C, 4 * C)
    assert infer_config(s).n_head == 1  # no config.json: GPT-2's 64-wide heads, at least one
    assert infer_config(s, n_head=3).n_head == 3
    with pytest.raises(ValueError, match="unexpected tensor 'model.layers.0.mlp.gate_proj.weight'"):
        convert_state({**hf_state(), "model.layers.0.mlp.gate_proj.weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(ValueError, match="no wpe.weight"):
        convert_state({k: v for k, v in hf_state().items() if k != "wpe.weight"})
    with pytest.raises(FileNotFoundError, match="no GPT-2 weights"):
        load_gpt2(tmp_path / "missing")
    with pytest.raises(ValueError, match="layer_norm_epsilon"):
        load_gpt2(write_checkpoint(tmp_path / "eps", hf_state(), layer_norm_epsilon=1e-6))
    with pytest.raises(ValueError, match="blocks \\[0\\] are missing"):
        infer_config({k: v for k, v in s.items() if not k.startswith("blocks.0.")})


def test_cli_reports_a_missing_file(tmp_path, capsys):
    from minigpt import cli
    assert cli.main(["gpt2", str(tmp_path / "nowhere")]) == 2
    assert "no GPT-2 weights" in capsys.readouterr().err
