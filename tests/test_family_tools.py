"""Model-family tools: few-shot prompts, code sampling + pass@k tables, SFT on triples, best-of-N, the fit loop."""
import numpy as np
import pytest

from minigpt.codex import Problem, make_problems
from minigpt.codex.sampling import code_tokenizer, distinct_fraction, pass_at_k_table, sample_programs
from minigpt.data.assistant import sample_prompts, world_tokenizer
from minigpt.experiments.instruct import best_of_n, preference_rate, sft_on
from minigpt.fewshot import few_shot_eval, few_shot_text, pick_examples
from minigpt.loop import fit
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.nn.heads import RewardModel


@pytest.fixture(scope="module")
def wtok():
    return world_tokenizer()


def _tiny(vocab, block_size=96, seed=0):
    return GPT(GPTConfig(vocab_size=vocab, block_size=block_size, n_layer=1, n_head=2, n_embd=16), seed=seed)


def test_few_shot_text_hand_worked():
    assert few_shot_text([("What is 1+2?", "3")], "What is 4+4?") == \
        "Quiz sheet.\nQ: What is 1+2?\nA: 3\nQ: What is 4+4?\nA:"
    assert few_shot_text([], "Sort: 2 1") == "Quiz sheet.\nQ: Sort: 2 1\nA:"


def test_pick_examples_same_task_never_the_question():
    pool = sample_prompts(300, seed=1)
    q = pool[0]
    ex = pick_examples(q, 3, pool, np.random.default_rng(0))
    assert len(ex) == 3 and all(e.task == q.task and e.text != q.text for e in ex)
    with pytest.raises(ValueError, match="fewer than k"):
        pick_examples(q, 1000, pool, np.random.default_rng(0))


def test_few_shot_eval_runs_and_skips_what_does_not_fit(wtok):
    m = _tiny(wtok.vocab_size, block_size=96)
    qs = [p for p in sample_prompts(30, seed=2, split="eval") if p.task != "refuse"]
    r0 = few_shot_eval(m, wtok, qs, k=0, max_new_tokens=6)
    assert r0["fits"] == len(qs) and len(r0["texts"]) == len(qs) and 0 <= r0["accuracy"] <= 1
    r2 = few_shot_eval(m, wtok, qs, k=2, max_new_tokens=6)
    assert 0 < r2["fits"] < len(qs)  # with two examples only the shorter prompts fit in 96 tokens
    with pytest.raises(ValueError, match="no prompt fits"):
        few_shot_eval(m, wtok, qs, k=6, max_new_tokens=6)


def test_sample_programs_and_pass_at_k_table():
    tok = code_tokenizer()
    probs = make_problems(3, seed=0, split="eval", max_steps=1)
    m = _tiny(tok.vocab_size)
    samples = sample_programs(m, tok, probs, n=4, temperature=1.0, seed=0, max_new_tokens=20)
    assert len(samples) == 3 and all(len(s) == 4 and all("\n" not in x for x in s) for s in samples)
    table = pass_at_k_table(m, tok, probs, 4, (0.5, 1.0), ks=(1, 4, 10), seed=0)
    assert set(table) == {0.5, 1.0} and "pass@10" not in table[0.5]  # k > n is left out
    assert all(0 <= table[t]["pass@1"] <= table[t]["pass@4"] <= 1 for t in table)
    assert distinct_fraction([["a", "a"], ["a", "b"]]) == pytest.approx(0.75)
    assert set(code_tokenizer().chars) >= set("".join(p.prompt + p.solution() for p in make_problems(200)))


def test_a_code_model_that_memorised_the_solution_passes():
    """Train a tiny model on one problem's document; greedy samples then pass, and pass@k is 1."""
    tok = code_tokenizer()
    p = Problem((("add", 3),))
    doc = tok.encode("<|endoftext|>" + p.prompt + p.solution() + "\n", allowed_special="all")
    m = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=len(doc), n_layer=1, n_head=2, n_embd=32), seed=0)
    x = np.array([doc[:-1]])
    y = np.array([doc[1:]])
    fit(m, lambda step, rng: m(x, y)[1], steps=150, lr=1e-2)
    table = pass_at_k_table(m, tok, [p], 3, (0.01,), ks=(1, 3))
    assert table[0.01]["pass@1"] == 1.0 and table[0.01]["correct"] == [3]


def test_sft_on_lowers_the_loss_and_checks_input(wtok):
    m = _tiny(wtok.vocab_size)
    ex = [(None, f"What is {a}+1?", str(a + 1)) for a in range(8)] + [("Shout.", "What is 2+2?", "4!")]
    h = sft_on(m, wtok, ex, steps=40, batch_size=9, lr=5e-3)
    assert np.mean(h["l2"][-5:]) < 0.6 * h["l2"][0]
    with pytest.raises(ValueError, match="at least one"):
        sft_on(m, wtok, [], steps=1)


def test_best_of_n_returns_the_rms_favourite(wtok):
    policy = _tiny(wtok.vocab_size, seed=1)
    rm = RewardModel(policy.config, seed=2)
    prompts = sample_prompts(3, seed=3)
    texts, rewards = best_of_n(policy, rm, wtok, prompts, n=4, seed=0)
    from minigpt.evaluate import answer_prompts
    from minigpt.scoring import score_texts
    repeated = [p for p in prompts for _ in range(4)]
    all_texts = answer_prompts(policy, wtok, repeated, temperature=1.0, seed=0)  # the same samples, same seed
    all_scores = score_texts(rm, wtok, repeated, all_texts).reshape(3, 4)
    np.testing.assert_allclose(rewards, all_scores.max(axis=1), rtol=1e-6)
    assert texts == [all_texts[4 * i + int(all_scores[i].argmax())] for i in range(3)]
    assert preference_rate(rm, wtok, prompts, texts, texts) == 0.0  # never strictly above itself


def test_fit_logs_extras_and_rejects_zero_steps():
    m = _tiny(5, block_size=4)
    x = np.array([[1, 2, 3, 4]])
    h = fit(m, lambda step, rng: (m(x, x)[1], {"step": step}), steps=3)
    assert h["step"] == [0.0, 1.0, 2.0] and len(h["loss"]) == 3
    with pytest.raises(ValueError, match="steps"):
        fit(m, lambda step, rng: m(x, x)[1], steps=0)
