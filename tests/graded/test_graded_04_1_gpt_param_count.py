"""Graded checks for exercise 04.1: gpt_param_count (solutions/ex04_gpt.py).

The expected counts never come from a closed form: `by_tensors` lists every parameter tensor of the
model with its shape and adds up their sizes; `real_model` builds minigpt's GPT and counts its
parameters; and GPT-2's released checkpoints have a published size (Hugging Face `gpt2`:
124,439,808; `gpt2-medium`: 354,823,168). Checked properties, one wrong term costing its own check:
  - the docstring's worked examples; GPT-2 small and medium as released;
  - differences, each checking one term only: one more position adds C (position embeddings); bias=True
    adds the biases of every Linear and LayerNorm; tied_head=False adds one C x V matrix; one more
    block adds its LayerNorms, attention and 4C-wide MLP;
  - n_layer = 0: embeddings and the final LayerNorm only;
  - the count of a real minigpt GPT built from the same config;
  - random configs up to GPT-3 175B's size (counts above 2^31) against the tensor list, an exact int;
  - bad input (V, T or C < 1, L < 0, a float): ValueError.
"""
import math

import numpy as np
import pytest
from hypothesis import Phase, given, settings, strategies as st

from _props import expect_equal, failure

pytestmark = pytest.mark.ex_04_1_gpt_param_count


def by_tensors(V, T, L, C, bias=True, tied_head=True):
    """Every parameter tensor's shape, listed module by module, then the sum of their sizes."""
    shapes = [(V, C), (T, C)]  # token embedding We, position embedding Wp
    for _ in range(L):
        shapes += [(C,)] + [(C,)] * bias  # ln_1 gain (and bias)
        shapes += [(C, 3 * C)] + [(3 * C,)] * bias  # fused q, k, v projection
        shapes += [(C, C)] + [(C,)] * bias  # attention output projection
        shapes += [(C,)] + [(C,)] * bias  # ln_2
        shapes += [(C, 4 * C)] + [(4 * C,)] * bias  # MLP up
        shapes += [(4 * C, C)] + [(C,)] * bias  # MLP down
    shapes += [(C,)] + [(C,)] * bias  # final LayerNorm
    if not tied_head:
        shapes += [(C, V)]  # a head of its own
    return sum(math.prod(s) for s in shapes)


def count(impl, prop, **cfg):
    actual = impl.gpt_param_count(**cfg)
    expected = by_tensors(cfg["vocab_size"], cfg["block_size"], cfg["n_layer"], cfg["n_embd"], cfg.get("bias", True),
                          cfg.get("tied_head", True))
    if not isinstance(actual, (int, np.integer)) or isinstance(actual, bool):
        raise failure(prop, cfg, actual, expected, f"return an int (an exact count), not {type(actual).__name__}")
    expect_equal(int(actual), expected, prop, cfg)
    return int(actual)


def cfg(V, T, L, C, **kw):
    return {"vocab_size": V, "block_size": T, "n_layer": L, "n_embd": C, **kw}


# -----------------------------------------------------------------------------
@pytest.mark.points(2)
def test_worked_examples(impl):
    """V=10, T=4, C=2: We 20 + Wp 8 + final LN 4 = 32 without blocks; one block adds LN 4 + QKV 18 + proj 6 + LN 4 + MLP 24 + 18 = 74."""
    expect_equal(impl.gpt_param_count(10, 4, 1, 2), 106, "the docstring's worked example (one block)", cfg(10, 4, 1, 2))
    expect_equal(impl.gpt_param_count(10, 4, 0, 2), 32, "the docstring's worked example (no block)", cfg(10, 4, 0, 2))


@pytest.mark.points(2)
def test_gpt2_as_released(impl):
    """GPT-2 small and medium (V = 50257, T = 1024, tied head, biases): the published parameter counts."""
    for (L, C), published in [((12, 768), 124_439_808), ((24, 1024), 354_823_168)]:
        expect_equal(impl.gpt_param_count(50257, 1024, L, C), published, "GPT-2's released size", cfg(50257, 1024, L, C))


def difference(impl, prop, a, b):
    """count(a) − count(b) against the same difference of tensor lists: only the term that differs is checked."""
    actual = int(impl.gpt_param_count(**a)) - int(impl.gpt_param_count(**b))
    expected = by_tensors(*[a[k] for k in ("vocab_size", "block_size", "n_layer", "n_embd")], a.get("bias", True), a.get("tied_head", True)) \
        - by_tensors(*[b[k] for k in ("vocab_size", "block_size", "n_layer", "n_embd")], b.get("bias", True), b.get("tied_head", True))
    expect_equal(actual, expected, prop, {"config a": a, "config b": b})


def test_each_position_adds_one_embedding_vector(impl):
    """count(T = 65) − count(T = 1) = 64·C: the learned position embedding Wp is (T, C)."""
    difference(impl, "count(a) − count(b): 64 more positions add 64·C", cfg(100, 65, 2, 8), cfg(100, 1, 2, 8))


def test_biases(impl):
    """count(bias=True) − count(bias=False): every Linear's bias and every LayerNorm's bias vector (gains stay)."""
    for V, T, L, C in [(10, 4, 1, 2), (50257, 1024, 12, 768), (7, 3, 3, 5)]:
        difference(impl, "count(a) − count(b): the bias vectors of the Linears and LayerNorms", cfg(V, T, L, C, bias=True),
                   cfg(V, T, L, C, bias=False))


def test_untied_head_adds_one_matrix(impl):
    """count(tied_head=False) − count(tied_head=True) = V·C: a (C, V) head of its own; tied, it shares We."""
    for V, T, L, C in [(10, 4, 1, 2), (50257, 1024, 12, 768), (97, 16, 2, 12)]:
        difference(impl, "count(a) − count(b): one (C, V) head matrix", cfg(V, T, L, C, tied_head=False), cfg(V, T, L, C))


@pytest.mark.points(2)
def test_one_more_block(impl):
    """count(L + 1) − count(L): one block's LayerNorms, attention (QKV and output projection) and MLP (C -> 4C -> C)."""
    for V, T, L, C, bias in [(10, 4, 0, 2, True), (50257, 1024, 11, 768, True), (33, 8, 2, 6, False)]:
        difference(impl, "count(a) − count(b): the parameters of one block", cfg(V, T, L + 1, C, bias=bias), cfg(V, T, L, C, bias=bias))


def test_no_blocks(impl):
    """n_layer = 0: the embeddings and the final LayerNorm (and an untied head) are all that is left."""
    for c in (cfg(10, 4, 0, 2), cfg(300, 32, 0, 16, bias=False), cfg(5, 2, 0, 3, tied_head=False)):
        count(impl, "n_layer = 0: embeddings + final LayerNorm (+ head)", **c)


@pytest.mark.points(2)
def test_matches_a_real_model(impl):
    """Build minigpt's GPT (tied head) and count the entries of its parameters."""
    from minigpt.nn.gpt import GPT, GPTConfig

    for V, T, L, H, C, bias in [(11, 5, 1, 1, 4, True), (23, 8, 2, 2, 8, False), (64, 16, 3, 4, 16, True)]:
        model = GPT(GPTConfig(vocab_size=V, block_size=T, n_layer=L, n_head=H, n_embd=C, bias=bias))
        real = sum(p.data.size for p in model.parameters())
        c = cfg(V, T, L, C, bias=bias)
        expect_equal(impl.gpt_param_count(**c), real, "the parameter count of minigpt's GPT built from this config", c)


@pytest.mark.points(3)
@settings(phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])  # no "explain" phase: it costs ~10x the run
@given(V=st.one_of(st.integers(1, 300), st.just(50257)), T=st.sampled_from([1, 2, 64, 1024, 2048]),
       L=st.one_of(st.integers(0, 4), st.sampled_from([12, 48, 96])), C=st.one_of(st.integers(1, 64), st.sampled_from([768, 1600, 12288])),
       bias=st.booleans(), tied_head=st.booleans(), kind=st.sampled_from(["int", "int64", "int32"]))
def test_property_against_the_tensor_list(impl, V, T, L, C, bias, tied_head, kind):
    """Any config, Python or NumPy integers (counts reach 1.75e11 > 2^31): the exact sum of the parameter tensors' sizes."""
    cast = {"int": int, "int64": np.int64, "int32": np.int32}[kind]
    c = cfg(cast(V), cast(T), cast(L), cast(C), bias=bias, tied_head=tied_head)
    count(impl, f"the sum of every parameter tensor's size ({kind} config values)", **c)


def test_bad_config_is_a_value_error(impl):
    """V, T, C >= 1 and L >= 0, integers; anything else is a ValueError."""
    for bad in (cfg(0, 4, 1, 2), cfg(10, 0, 1, 2), cfg(10, 4, -1, 2), cfg(10, 4, 1, 0), cfg(10, 4, 1, 2.0)):
        with pytest.raises(ValueError):
            impl.gpt_param_count(**bad)
            raise AssertionError(f"gpt_param_count({bad}) returned instead of raising ValueError")
