"""Inference-time techniques: best-of-N picks and curves, majority vote, reflection's retries, and the
chain-of-thought arithmetic task's answers and step checker — all on hand-worked examples."""
import pytest
from align_helpers import tiny_gpt, world_tok

from minigpt.data.arith import ArithProblem, check_steps, final_answer, make_problems, split_of
from minigpt.inference import (best_of_n_curve, majority_vote, pick_best, reflect, sample_responses, self_consistency)


def test_best_of_n_picks_the_top_score():
    texts, idx = pick_best([["a", "b", "c"], ["x", "y", "z"]], [[0.1, 0.9, 0.9], [3, 2, 1]])
    assert texts == ["b", "x"] and idx.tolist() == [1, 0]  # ties: the first maximum


def test_best_of_n_curve_hand_worked():
    """Prompt 1: proxy [0, 2, 1, 3], gold [0.5, 0, 1, 1]; prompt 2: proxy [1, 0, 0, 0], gold [1, 0, 0, 0].
    n=1: gold of sample 0 → (0.5 + 1)/2 = 0.75.  n=2: proxy picks sample 1 (gold 0) and 0 (gold 1) → 0.5.
    n=4: picks 3 (gold 1) and 0 (gold 1) → 1.0.  Oracle n=2: max gold of the first two: (0.5 + 1)/2 = 0.75."""
    proxy = [[0, 2, 1, 3], [1, 0, 0, 0]]
    gold = [[0.5, 0, 1, 1], [1, 0, 0, 0]]
    c = best_of_n_curve(proxy, gold, [1, 2, 4])
    assert c["best_of_n"] == [0.75, 0.5, 1.0]
    assert c["oracle"] == [0.75, 0.75, 1.0]
    with pytest.raises(ValueError, match="max n 8"):
        best_of_n_curve(proxy, gold, [8])


def test_majority_vote_and_self_consistency():
    assert majority_vote(["7", "3", "7", "1"]) == "7"
    assert majority_vote(["3", "1", "1", "3"]) == "3"  # a tie goes to the first seen
    assert majority_vote(["", "", "4"]) == "4" and majority_vote(["", ""]) == ""
    worked = [["1+2=3 so 3", "1+2=4 so 4", "1+2=3 so 3"], ["so 0", "9"]]
    assert self_consistency(worked, extract=final_answer) == ["3", "0"]


def test_reflect_retries_only_low_scores():
    """Attempt a answers 'p:a'; its score is a for prompt 'hard' and 5 for 'easy'. Threshold 2, 4 tries:
    'easy' passes at once (1 try); 'hard' scores 0, 1, 2 → stops after 3 tries with 'hard:2'."""
    calls = []

    def gen(prompts, attempt):
        calls.append(list(prompts))
        return [f"{p}:{attempt}" for p in prompts]

    def score(prompts, texts):
        return [5.0 if p == "easy" else float(t.split(":")[1]) for p, t in zip(prompts, texts)]

    texts, scores, tries = reflect(gen, score, ["easy", "hard"], threshold=2, max_tries=4)
    assert texts == ["easy:0", "hard:2"] and scores.tolist() == [5.0, 2.0] and tries.tolist() == [1, 3]
    assert calls == [["easy", "hard"], ["hard"], ["hard"]]


def test_reflect_keeps_the_best_attempt():
    texts, scores, tries = reflect(lambda ps, a: [str(a) for _ in ps], lambda ps, ts: [[3, 1, 2][int(t)] for t in ts],
                                   ["q"], threshold=10, max_tries=3)
    assert texts == ["0"] and scores.tolist() == [3.0] and tries.tolist() == [3]


def test_sample_responses_shapes_and_seed():
    tok = world_tok()
    model = tiny_gpt(tok, seed=3)
    out = sample_responses(model, tok, ["What is 1+1?", "Sort: 2 1"], n=3, max_new_tokens=5, seed=1)
    assert len(out) == 2 and all(len(r) == 3 for r in out)
    assert out == sample_responses(model, tok, ["What is 1+1?", "Sort: 2 1"], n=3, max_new_tokens=5, seed=1)


# -----------------------------------------------------------------------------
# the arithmetic task

def test_arith_problem_hand_worked():
    """3+5+2+7 mod 10: 3+5 = 8, 8+2 = 10 → 0, 0+7 = 7; answer 7. Mod 5: 4+4 = 8 → 3."""
    p = ArithProblem((3, 5, 2, 7))
    assert p.prompt == "3+5+2+7 mod 10" and p.answer == "7" and p.steps == 3
    assert p.worked() == "3+5=8 8+2=0 0+7=7 so 7"
    assert ArithProblem((4, 4), mod=5).worked() == "4+4=3 so 3"
    assert final_answer(p.worked()) == "7" and final_answer(" 7 ") == "7"
    assert check_steps(p, p.worked()) == 1.0
    assert check_steps(p, "3+5=8 8+2=1 1+7=8 so 8") == pytest.approx(1 / 3)


def test_arith_splits_are_disjoint_and_seeded():
    tr = make_problems(300, seed=0)
    ev = make_problems(100, seed=0, split="eval")
    assert not {p.digits for p in tr} & {p.digits for p in ev}
    assert all(split_of(p) == "eval" for p in ev)
    assert make_problems(5, seed=3) == make_problems(5, seed=3)
    assert {p.steps for p in make_problems(200, steps=(2, 5), seed=1)} == {2, 5}
    with pytest.raises(ValueError, match="mod must be in 2..10"):
        make_problems(1, mod=11)
