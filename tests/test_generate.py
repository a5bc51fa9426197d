"""Sampling: filters by hand, seeded determinism, cached == uncached, clear errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigpt.generate import filter_logits, generate, sample_batch, sample_tokens
from minigpt.nn import GPT, GPTConfig


def test_top_k_by_hand():
    np.testing.assert_array_equal(filter_logits([3.0, 1.0, 2.0, 0.0], top_k=2), [3, -np.inf, 2, -np.inf])
    np.testing.assert_array_equal(filter_logits([3.0, 1.0], top_k=5), [3, 1])


def test_top_p_by_hand():
    """probs [0.5, 0.3, 0.15, 0.05]: p=0.7 keeps 0.5 and 0.3 (0.5 < 0.7, 0.8 ≥ 0.7); p=0.5 keeps only the top."""
    z = np.log([0.15, 0.5, 0.05, 0.3])
    kept = np.isfinite(filter_logits(z, top_p=0.7))
    assert kept.tolist() == [False, True, False, True]
    assert np.isfinite(filter_logits(z, top_p=0.5)).tolist() == [False, True, False, False]
    assert np.isfinite(filter_logits(z, top_p=1.0)).all()


def test_sampling_errors():
    with pytest.raises(ValueError, match="top_p must be in \\(0, 1\\]"):
        filter_logits([1.0, 2.0], top_p=0.0)
    with pytest.raises(ValueError, match="top_k must be ≥ 1"):
        filter_logits([1.0, 2.0], top_k=0)
    with pytest.raises(ValueError, match="temperature must be ≥ 0"):
        sample_tokens([[1.0, 2.0]], np.random.default_rng(0), temperature=-0.1)
    assert sample_tokens([[1.0, 5.0, 2.0]], None, temperature=0)[0] == 1  # greedy


def test_sample_frequencies_follow_softmax():
    rng = np.random.default_rng(0)
    z = np.log([0.7, 0.2, 0.1])
    draws = np.bincount([sample_tokens(z[None], rng)[0] for _ in range(4000)], minlength=3) / 4000
    np.testing.assert_allclose(draws, [0.7, 0.2, 0.1], atol=0.03)


class _FixedU:
    """An rng whose uniforms are given: checks the inverse-CDF rule by hand."""
    def __init__(self, u):
        self.u = np.asarray(u, dtype=np.float64)

    def random(self, n):
        return self.u[:n]


def test_inverse_cdf_by_hand():
    """p = [0.7, 0.2, 0.1]: cdf = [0.7, 0.9, 1.0]; u = 0.8 falls in (0.7, 0.9] → id 1, u = 0.1 → 0, u = 0.95 → 2."""
    z = np.log([[0.7, 0.2, 0.1]] * 3)
    assert sample_tokens(z, _FixedU([0.8, 0.1, 0.95])).tolist() == [1, 0, 2]


def test_one_sampler_for_one_and_many_rows():
    """generate() and sample_batch() draw through the same sampler: one seed, same tokens."""
    m = GPT(GPTConfig(vocab_size=12, block_size=16, n_layer=1, n_head=2, n_embd=16), seed=1)
    one = generate(m, [3, 4, 5], max_new_tokens=8, temperature=1.0, seed=7)
    batch = sample_batch(m, [[3, 4, 5]], max_new_tokens=8, stop_ids=(), temperature=1.0, seed=7)[0]
    assert one == batch


@pytest.fixture(scope="module")
def model():
    return GPT(GPTConfig(vocab_size=17, block_size=12, n_layer=2, n_head=2, n_embd=16), seed=4)


def test_seeded_and_cached_equals_uncached(model):
    a = generate(model, [1, 2, 3], 20, temperature=1.0, seed=5, use_cache=True)  # runs past block_size
    b = generate(model, [1, 2, 3], 20, temperature=1.0, seed=5, use_cache=False)
    c = generate(model, [1, 2, 3], 20, temperature=1.0, seed=6)
    assert a == b and len(a) == 20 and a != c


def test_stop_token(model):
    out = generate(model, [1], 50, temperature=0)
    first = out[0]
    stopped = generate(model, [1], 50, temperature=0, stop_ids=[first])
    assert stopped == [first]


def test_prompt_errors(model):
    with pytest.raises(ValueError, match="empty prompt"):
        generate(model, [], 5)
    with pytest.raises(ValueError, match="prompt has 13 tokens but the context window is block_size=12"):
        generate(model, list(range(13)), 5)
    with pytest.raises(ValueError, match="token id 17 out of range"):
        generate(model, [17], 5)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, [1], 5, temperature=-1)


def check_padded_batch(m, rows, steps, pad_id, rtol):
    """Run `rows` left-padded (pad columns hold `pad_id`) through the cache, then feed steps[b][t] one column
    at a time; every row's logits must equal its own uncached, unpadded forward. Returns the padded prefill logits."""
    L = max(map(len, rows))
    pad = np.array([L - len(r) for r in rows])
    ids = np.full((len(rows), L), pad_id)
    for b, r in enumerate(rows):
        ids[b, pad[b]:] = r
    cache = {"pad": pad}
    got = [m(ids, cache=cache)[0].data]
    n_steps = len(steps[0])
    for t in range(n_steps):
        got.append(m(np.array([[s[t]] for s in steps]), cache=cache)[0].data)
    for b, r in enumerate(rows):
        full = m(np.array([r + steps[b]]))[0].data[0]  # the row alone, no cache, no padding
        np.testing.assert_allclose(got[0][b, pad[b]:], full[:len(r)], rtol=rtol, atol=1e-5)
        for t in range(n_steps):
            np.testing.assert_allclose(got[t + 1][b, 0], full[len(r) + t], rtol=rtol, atol=1e-5)
    return got[0]


@pytest.mark.parametrize("pos", ["learned", "rope"])
def test_left_padded_cache_equals_each_row_alone(pos):
    """A left-padded batch with cache["pad"] gives each row the logits of its own uncached forward,
    at the prefill and at every decode step (positions count from the row's first token; pad columns unseen)."""
    m = GPT(GPTConfig(vocab_size=13, block_size=12, n_layer=2, n_head=2, n_embd=16, pos=pos), seed=3)
    rows = [[5, 1, 7, 2, 9], [4], [3, 3, 8]]
    steps = [[6, 2, 11], [1, 12, 0], [7, 7, 7]]  # tokens fed after the prefill, one column per step
    # a real token id in the pad columns: the mask, not the id, must hide them
    prefill = check_padded_batch(m, rows, steps, pad_id=10, rtol=1e-5)
    assert np.isfinite(prefill).all()  # pad queries see themselves: no all -inf softmax row


def test_left_padded_cache_window_counts_the_longest_row():
    m = GPT(GPTConfig(vocab_size=13, block_size=6, n_layer=1, n_head=2, n_embd=8), seed=0)
    cache = {"pad": np.array([0, 3])}
    m(np.zeros((2, 5), dtype=np.int64), cache=cache)  # row 0 holds 5 tokens, row 1 holds 2
    m(np.zeros((2, 1), dtype=np.int64), cache=cache)  # 6: the window is full
    with pytest.raises(ValueError, match="sequence of 7 tokens exceeds the context window block_size=6"):
        m(np.zeros((2, 1), dtype=np.int64), cache=cache)


def test_mixed_lengths_sample_like_one_prompt_at_a_time():
    """One batch of prompts of different lengths (per-row seeds) samples what each prompt alone samples,
    including prompts near the window's end, which have less room."""
    m = GPT(GPTConfig(vocab_size=11, block_size=10, n_layer=2, n_head=2, n_embd=16), seed=2)
    prompts = [[1], [2, 3, 4, 5], [6, 7], [8, 9, 1, 2, 3, 4, 5, 6], [3, 1, 4, 1, 5, 9, 2, 6, 5]]
    seeds = [(9, i) for i in range(len(prompts))]
    batch = sample_batch(m, prompts, 6, stop_ids=(0,), temperature=1.0, seed=seeds)
    alone = [sample_batch(m, [p], 6, stop_ids=(0,), temperature=1.0, seed=[s])[0] for p, s in zip(prompts, seeds)]
    assert batch == alone
    assert [len(r) <= min(6, 10 - len(p)) for r, p in zip(batch, prompts)] == [True] * 5
    assert len(alone[4]) == 1 and len(alone[3]) <= 2  # the room left in the window


_PAD_MODELS = {pos: GPT(GPTConfig(vocab_size=9, block_size=10, n_layer=2, n_head=2, n_embd=8, pos=pos), seed=5)
               for pos in ("learned", "rope")}


@settings(max_examples=30, deadline=None)
@given(pos=st.sampled_from(["learned", "rope"]),
       rows=st.lists(st.lists(st.integers(0, 8), min_size=1, max_size=7), min_size=1, max_size=5),
       n_steps=st.integers(0, 3), data=st.data())
def test_left_padded_cache_property(pos, rows, n_steps, data):
    """Any batch of prompts, left-padded, then decoded step by step: each row's logits equal its own
    uncached, unpadded forward (drawn lengths, tokens, steps; the longest row stays inside the window)."""
    m = _PAD_MODELS[pos]
    n_steps = min(n_steps, m.config.block_size - max(map(len, rows)))
    steps = [data.draw(st.lists(st.integers(0, 8), min_size=n_steps, max_size=n_steps)) for _ in rows]
    check_padded_batch(m, rows, steps, pad_id=0, rtol=1e-4)
