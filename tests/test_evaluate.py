"""Evaluation helpers: grading by the gold labeler, win rates, KL to a reference, the report card."""
import numpy as np
import pytest
from align_helpers import tiny_gpt, world_tok

from minigpt.data.assistant import Prompt, sample_prompts
from minigpt.evaluate import answer_prompts, base_prompt_ids, compare, grade_answers, kl_to_reference


@pytest.fixture(scope="module")
def tok():
    return world_tok()


def test_grade_answers_by_hand():
    r"""Answers to "What is 23+45?" (68): "68" right and clean; "The answer is 68." right, 15 junk
    characters → 0.85; "67" wrong → 0.4·(1 - 1/20) = 0.38. accuracy 2/3, exact 1/3, mean 0.7433."""
    p = Prompt("add", "What is 23+45?", "68", {"a": 23, "b": 45, "key": "add:23+45"})
    g = grade_answers([p, p, p], ["68", "The answer is 68.", "67"])
    assert g["accuracy"] == pytest.approx(2 / 3) and g["exact_match"] == pytest.approx(1 / 3)
    assert g["gold_score"] == pytest.approx((1.0 + 0.85 + 0.38) / 3)
    assert g["per_task_accuracy"] == {"add": pytest.approx(2 / 3)}


def test_compare_counts_ties_half():
    r"""a = [1, 0.5, 0, 0.9], b = [0, 0.5, 1, 0.2]: win, tie, loss, win → (2 + 0.5) / 4 = 0.625."""
    c = compare([1, 0.5, 0, 0.9], [0, 0.5, 1, 0.2])
    assert c["win_rate"] == pytest.approx(0.625)
    assert (c["wins"], c["ties"], c["losses"]) == (2, 1, 1)


def test_answers_and_base_prompt(tok):
    model = tiny_gpt(tok, seed=2)
    prompts = sample_prompts(5, seed=0, split="eval")
    chat = answer_prompts(model, tok, prompts, mode="chat", seed=1, max_new_tokens=6)
    base = answer_prompts(model, tok, prompts, mode="base", seed=1, max_new_tokens=6)
    assert len(chat) == len(base) == 5 and all(isinstance(t, str) for t in chat + base)
    assert all("\n" not in t for t in base)  # a base answer ends at the newline
    ids = base_prompt_ids(tok, "What is 1+1?")
    assert ids[0] == tok.eot_id and tok.decode(ids[1:]) == "Quiz sheet.\nQ: What is 1+1?\nA: "
    with pytest.raises(ValueError, match="mode"):
        answer_prompts(model, tok, prompts, mode="poem")


def test_kl_to_itself_is_zero_and_to_another_model_positive(tok):
    prompts = sample_prompts(16, seed=0, split="eval")
    a = tiny_gpt(tok, seed=2)
    same = kl_to_reference(a, tiny_gpt(tok, seed=2), tok, prompts, max_new_tokens=6)
    assert abs(same["kl"]) < 1e-5 and same["entropy"] == pytest.approx(same["ref_entropy"], rel=1e-5)
    b = tiny_gpt(tok, seed=3)
    b.wte.weight.data *= 20.0  # a sharper, different model
    other = kl_to_reference(a, b, tok, prompts, max_new_tokens=6)
    assert other["kl"] > 0.1 and np.isfinite(other["kl_stderr"])
