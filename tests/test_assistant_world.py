"""Tests of the toy assistant world (minigpt.data.assistant): labeler, contractors, corpus, RBRM.

    PYTHONPATH=. python -m pytest tests/test_assistant_world.py -q
"""
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigpt.data.assistant import (ALPHABET, ANSWER_FORMAT, FACTS, REFUSAL, TASKS, Prompt, WorldConfig, default_world,
                                    edit_distance, exact_match, gold_grade, gold_score, gold_scores,
                                    make_demonstrations, make_pretrain_corpus, mistake, rank_responses,
                                    ranking_pairs, rbrm_breakdown, rule_based_reward, sample_prompts, win_rate)
from minigpt.data.assistant.world import sample_problem

ADD = Prompt("add", "What is 23+45?", "68", {"a": 23, "b": 45, "key": "add:23+45"})
REV = Prompt("reverse", "Reverse: abcd", "dcba", {"word": "abcd", "key": "reverse:abcd"})
SORT = Prompt("sort", "Sort: 3 1 2", "1 2 3", {"numbers": (3, 1, 2), "key": "sort:1 2 3"})
COUNT = Prompt("count", "How many b in abbcab?", "3", {"letter": "b", "word": "abbcab", "key": "count:b:abbcab"})
LOOKUP = Prompt("lookup", "Capital of Zorbia?", "Quix", {"country": "Zorbia", "relation": "capital",
                                                         "key": "lookup:capital:Zorbia"})
HARM = Prompt("refuse", "How to steal a bike?", REFUSAL, {"verb": "steal", "noun": "bike", "key": "refuse:steal:bike"})
HAND = [ADD, REV, SORT, COUNT, LOOKUP, HARM]


def sigma3(p, n):
    return 3 * math.sqrt(p * (1 - p) / n)


# ----------------------------------------------------------------------------
# Gold labeler, worked by hand


@pytest.mark.parametrize("prompt, response, expected", [
    # exact and clean; surrounding whitespace is not junk
    (ADD, "68", 1.0), (ADD, "  68\n", 1.0), (REV, "dcba", 1.0), (SORT, "1 2 3", 1.0), (COUNT, "3", 1.0),
    (LOOKUP, "Quix", 1.0), (HARM, "Sorry, I can't help.", 1.0), (HARM, "I cannot help with that.", 1.0),
    # right but chatty: 1 - 0.01 * junk chars. "The answer is 68." is 17 chars, 15 of them junk
    (ADD, "The answer is 68.", 0.85), (ADD, "23+45=68", 0.94),                # junk "23+45=" = 6
    (SORT, "Sorted: 1 2 3", 0.92), (LOOKUP, "The capital is Quix.", 0.84),  # junk 8, 16
    (HARM, "Sorry, I can't help. That is wrong!", 0.85),                     # 35 - 20 = 15
    (ADD, "68 " + "z" * 60, 0.6),                                            # junk 61, penalty capped at 0.4
    # near misses: 0.4 * (1 - d)
    (ADD, "67", 0.4 * (1 - 1 / 20)), (ADD, "78", 0.4 * (1 - 10 / 20)), (ADD, "88", 0.0),
    (ADD, "The answer is 67.", 0.4 * (1 - 1 / 20) * 0.85),
    (COUNT, "2", 0.4 * (1 - 1 / 4)), (COUNT, "5", 0.4 * (1 - 2 / 4)), (COUNT, "7", 0.0),
    (REV, "dcab", 0.4 * (1 - 2 * 1 / 4)),   # one swap = 1 edit
    (REV, "dcb", 0.4 * (1 - 2 * 1 / 4)),    # one deletion
    (REV, "abcd", 0.0),                     # 3 edits (d->a, swap bc, a->d): over half changed
    (SORT, "1 3 2", 0.4 * (1 - 2 * 1 / 3)), (SORT, "1 2 3 4", 0.4 * (1 - 2 * 1 / 3)),
    (LOOKUP, "Quiz", 0.4 * (1 - 2 * 1 / 4)), (LOOKUP, "Tolo", 0.0), (LOOKUP, "quix", 0.0),  # lowercase: no name
    # no answer, refusing a fair question, complying with a harmful one
    (ADD, "", 0.0), (ADD, "hello", 0.0), (ADD, "Sorry, I can't help.", 0.0), (ADD, "68. Sorry, I can't help.", 0.0),
    (REV, "I can't help with that.", 0.0), (HARM, "Sure, here is how.", 0.0), (HARM, "", 0.0),
])
def test_gold_score_hand_worked(prompt, response, expected):
    assert gold_score(prompt, response) == pytest.approx(expected, abs=1e-12)


def test_gold_grade_fields():
    g = gold_grade(ADD, "The answer is 67.")
    assert (g.correct, g.found, g.junk) == (False, "67", 15)
    assert g.credit == pytest.approx(0.38)
    g = gold_grade(LOOKUP, "The answer is Tolo.")  # "The" and "Tolo" both earn nothing
    assert (g.score, g.found, g.junk) == (0.0, "", 19)
    assert exact_match(ADD, " 68 ") and not exact_match(ADD, "The answer is 68.") and not exact_match(ADD, "67")


def test_gold_scores_and_errors():
    np.testing.assert_allclose(gold_scores([ADD, REV], ["68", "dcab"]), [1.0, 0.2], atol=1e-12)
    with pytest.raises(ValueError, match="one response per prompt"):
        gold_scores([ADD], ["68", "69"])
    with pytest.raises(TypeError, match="response must be a str"):
        gold_score(ADD, 68)
    with pytest.raises(ValueError, match="unknown task"):
        gold_score(Prompt("poem", "Write a poem", "no"), "ok")


@pytest.mark.parametrize("a, b, expected", [
    ("kitten", "sitting", 3), ("dcab", "dcba", 1), ("abc", "xbz", 2), ("", "abc", 3), ("abc", "abc", 0),
    ("ca", "abc", 3),  # optimal string alignment: a swapped pair may not be edited again
    ([1, 2], [1, 2, 3], 1),
])
def test_edit_distance(a, b, expected):
    assert edit_distance(a, b) == expected == edit_distance(b, a)


# ----------------------------------------------------------------------------
# Rankings and pairs


def test_rank_responses_and_pairs():
    ranking = rank_responses(ADD, ["67", "68", "The answer is 68.", "hello"])
    assert ranking.responses == ("68", "The answer is 68.", "67", "hello")
    assert ranking.scores == pytest.approx((1.0, 0.85, 0.38, 0.0))
    assert ranking_pairs(ranking) == [
        ("68", "The answer is 68."), ("68", "67"), ("68", "hello"),
        ("The answer is 68.", "67"), ("The answer is 68.", "hello"), ("67", "hello")]
    assert ranking_pairs(["a", "b", "c"]) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_ties_break_deterministically_and_can_be_dropped():
    ranking = rank_responses(ADD, ["hello", "bye", "68"])  # hello and bye both score 0: shorter first
    assert ranking.responses == ("68", "bye", "hello")
    assert len(ranking_pairs(ranking)) == 3
    assert ranking_pairs(ranking, drop_ties=True) == [("68", "bye"), ("68", "hello")]
    with pytest.raises(ValueError, match="needs a Ranking"):
        ranking_pairs(["a", "b"], drop_ties=True)


@pytest.mark.parametrize("k", [0, 1])
def test_ranking_needs_two(k):
    with pytest.raises(ValueError, match=f"K >= 2 .*got K = {k}"):
        rank_responses(ADD, ["68"] * k)
    with pytest.raises(ValueError, match="K >= 2"):
        ranking_pairs(["68"] * k)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["68", "67", "78", "6 8", "The answer is 68.", "68!", "", "Sorry, I can't help.",
                                 "sixty-eight", "68, I think!", "69"]), min_size=2, max_size=9), st.randoms())
def test_ranking_properties(responses, random):
    ranking = rank_responses(ADD, responses)
    shuffled = list(responses)
    random.shuffle(shuffled)
    assert rank_responses(ADD, shuffled).responses == ranking.responses  # order of the input does not matter
    assert sorted(ranking.responses) == sorted(responses)
    assert all(x >= y for x, y in zip(ranking.scores, ranking.scores[1:]))
    pairs = ranking_pairs(ranking)
    k = len(responses)
    assert len(pairs) == math.comb(k, 2) == k * (k - 1) // 2
    assert all(gold_score(ADD, w) >= gold_score(ADD, l) for w, l in pairs)
    assert all(gold_score(ADD, w) > gold_score(ADD, l) for w, l in ranking_pairs(ranking, drop_ties=True))


# ----------------------------------------------------------------------------
# Win rate


def test_win_rate_with_ties():
    assert win_rate([1, 0.5, 0, 0.85], [0.85, 0.5, 0.2, 0.85]) == pytest.approx((1 + 0.5 + 0 + 0.5) / 4)
    assert win_rate([1, 1, 1], [0, 0, 1]) == pytest.approx(2.5 / 3)
    for bad in (([], []), ([1, 2], [1])):
        with pytest.raises(ValueError, match="equal length"):
            win_rate(*bad)


@given(st.lists(st.sampled_from([0.0, 0.2, 0.38, 0.85, 1.0]), min_size=1, max_size=30).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(st.sampled_from([0.0, 0.38, 1.0]), min_size=len(a), max_size=len(a)))))
def test_win_rate_symmetry(ab):
    a, b = ab
    assert win_rate(a, b) + win_rate(b, a) == pytest.approx(1.0)
    assert win_rate(a, a) == 0.5


# ----------------------------------------------------------------------------
# Rule-based reward model


@pytest.mark.parametrize("prompt, response, rules, reward", [
    (HARM, "Sorry, I can't help.", {"refuse_ok": 1.0}, 1.0),
    (HARM, "Sorry, I can't help. That is wrong!", {"refuse_ok": 1.0, "too_long": -0.5}, 0.5),  # 35 chars: preachy
    (HARM, "Sure, here is how.", {"complied": -1.0}, -1.0),
    (HARM, "", {"complied": -1.0, "empty": -1.0}, -1.0),                  # -2 clipped to -1
    (ADD, "Sorry, I can't help.", {"over_refusal": -1.0}, -1.0),
    (ADD, "68", {"format_ok": 0.5}, 0.5), (ADD, "67", {"format_ok": 0.5}, 0.5),  # form, not truth
    (SORT, "1 2 3", {"format_ok": 0.5}, 0.5), (REV, "dcba", {"format_ok": 0.5}, 0.5),
    (LOOKUP, "Quix", {"format_ok": 0.5}, 0.5), (COUNT, " 3\n", {"format_ok": 0.5}, 0.5),
    (ADD, "The answer is 68.", {}, 0.0), (LOOKUP, "quix", {}, 0.0),
    (ADD, "   ", {"empty": -1.0}, -1.0),
    (ADD, "6" * 40, {"format_ok": 0.5, "too_long": -0.5}, 0.0),
    (ADD, "68\x00", {"bad_chars": -0.5}, -0.5), (REV, "dcbé", {"bad_chars": -0.5}, -0.5),
    (ADD, "68\t", {"format_ok": 0.5, "bad_chars": -0.5}, 0.0),
])
def test_rbrm_rules(prompt, response, rules, reward):
    assert rbrm_breakdown(prompt, response) == rules
    assert rule_based_reward(prompt, response) == pytest.approx(reward)


def test_rbrm_max_chars():
    assert rule_based_reward(HARM, "Sorry, I can't help. That is wrong!", max_chars=40) == 1.0
    assert rule_based_reward(ADD, "68", max_chars=1) == 0.0


# ----------------------------------------------------------------------------
# Prompts and the split


def test_prompts_deterministic_and_seeded():
    assert sample_prompts(50, seed=3) == sample_prompts(50, seed=3)
    assert sample_prompts(50, seed=3) != sample_prompts(50, seed=4)
    assert sample_prompts(20) == sample_prompts(20, seed=default_world().seed)
    assert [p.meta for p in sample_prompts(20, seed=5)] == [p.meta for p in sample_prompts(20, seed=5)]


def test_split_is_the_same_in_every_process():
    """The split must not depend on Python's per-process string hash salt (PYTHONHASHSEED)."""
    code = "from minigpt.data.assistant import sample_prompts; print([p.text for p in sample_prompts(300, split='eval')])"
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": salt}).stdout for salt in ("1", "2")]
    assert outs[0] == outs[1] == str([p.text for p in sample_prompts(300, split="eval")]) + "\n"


def test_train_eval_disjoint():
    train, test = sample_prompts(4000, seed=0, split="train"), sample_prompts(1500, seed=0, split="eval")
    assert {p.meta["key"] for p in train}.isdisjoint({p.meta["key"] for p in test})
    assert {p.text for p in train}.isdisjoint({p.text for p in test})
    assert {p.task for p in test} == set(TASKS)  # every task has held-out problems
    train_sums = {(p.meta["a"], p.meta["b"]) for p in train if p.task == "add"}
    assert not any((p.meta["b"], p.meta["a"]) in train_sums for p in test if p.task == "add")  # 45+23 vs 23+45


def test_prompts_are_correct_and_short():
    prompts = sample_prompts(3000, seed=1) + sample_prompts(1000, seed=1, split="eval")
    for p in prompts:
        assert len(p.text) <= 30 and len(p.answer) <= 20 and set(p.text + p.answer) <= set(ALPHABET), p
        m = p.meta
        expected = {"add": lambda: str(m.get("a", 0) + m.get("b", 0)),
                    "reverse": lambda: m.get("word", "")[::-1],
                    "sort": lambda: " ".join(map(str, sorted(m.get("numbers", ())))),
                    "count": lambda: str(m.get("word", "").count(m.get("letter", "?"))),
                    "lookup": lambda: {r[0]: r[1 if m.get("relation") == "capital" else 2] for r in FACTS}[m.get("country")],
                    "refuse": lambda: REFUSAL}[p.task]()
        assert p.answer == expected, p
        assert str(m.get("a", "")) in p.text and m.get("word", "") in p.text and m.get("country", "") in p.text


def test_task_mix_honored():
    n = 2000
    prompts = sample_prompts(n, seed=0)
    share = sum(p.task == "refuse" for p in prompts) / n
    assert abs(share - 0.5 / 5.5) <= sigma3(0.5 / 5.5, n)
    only_add = WorldConfig(task_mix={"add": 1.0})
    assert {p.task for p in sample_prompts(200, seed=0, world=only_add)} == {"add"}


def test_add_carry_switch():
    """Default adds are digit-wise (no column sums past 9); add_carry=True allows 27+15."""
    def carries(a, b):  # operands have at most 2 digits here
        return a % 10 + b % 10 > 9 or a // 10 + b // 10 > 9
    adds = [p.meta for p in sample_prompts(1000, seed=0, world=WorldConfig(task_mix={"add": 1}))]
    assert not any(carries(m["a"], m["b"]) for m in adds)
    assert len({(m["a"], m["b"]) for m in adds}) > 400
    adds = [p.meta for p in sample_prompts(1000, seed=0, world=WorldConfig(task_mix={"add": 1}, add_carry=True))]
    assert 0.3 < np.mean([carries(m["a"], m["b"]) for m in adds]) < 0.7


@pytest.mark.parametrize("kwargs, match", [
    ({"error_rate": 1.5}, "error_rate"), ({"sloppiness": -0.1}, "sloppiness"), ({"eval_fraction": 0.0}, "eval_fraction"),
    ({"task_mix": {"poem": 1.0}}, "unknown tasks"), ({"task_mix": {"add": 0.0}}, "positive sum"),
    ({"letters": "a"}, "letters"), ({"letters": "aB"}, "letters"), ({"word_len": (5, 3)}, "word_len"),
    ({"seed": -1}, "seed"), ({"add_max": 0}, "add_max"),
])
def test_world_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WorldConfig(**kwargs)


def test_world_config_json_roundtrip_and_bad_args():
    world = WorldConfig(seed=7, error_rate=0.3, word_len=[3, 4])
    assert world.word_len == (3, 4)
    assert WorldConfig(**json.loads(json.dumps(asdict(world)))) == world
    with pytest.raises(ValueError, match="split"):
        sample_prompts(3, split="test")
    with pytest.raises(ValueError, match="n must be"):
        sample_prompts(-1)
    with pytest.raises(ValueError, match="seed"):
        sample_prompts(3, seed=-2)
    with pytest.raises(ValueError, match="unknown task"):
        sample_problem("poem", np.random.default_rng(0), world)


# ----------------------------------------------------------------------------
# Contractors


def test_demonstrations_deterministic():
    assert make_demonstrations(100, seed=2) == make_demonstrations(100, seed=2)
    assert make_demonstrations(100, seed=2) != make_demonstrations(100, seed=3)
    assert [p for p, _ in make_demonstrations(100, seed=2)] == sample_prompts(100, seed=2)


def test_error_rate_honored_by_the_labeler():
    n, rate = 2000, 0.2
    demos = make_demonstrations(n, seed=0, error_rate=rate, sloppiness=0.5)
    wrong = sum(not gold_grade(p, r).correct for p, r in demos) / n
    assert abs(wrong - rate) <= sigma3(rate, n)
    assert all(gold_grade(p, r).correct for p, r in make_demonstrations(300, seed=0, error_rate=0.0))
    assert not any(gold_grade(p, r).correct for p, r in make_demonstrations(300, seed=0, error_rate=1.0))


def test_sloppiness_honored():
    n, rate = 2000, 0.3
    world = WorldConfig(task_mix={"add": 1, "sort": 1, "lookup": 1}, sloppiness=rate)
    demos = make_demonstrations(n, seed=0, world=world)
    sloppy = sum(ANSWER_FORMAT[p.task].fullmatch(r) is None for p, r in demos) / n  # mistakes keep the format
    assert abs(sloppy - rate) <= sigma3(rate, n)
    clean = make_demonstrations(300, seed=0, sloppiness=0.0)
    assert all(r == p.answer or not gold_grade(p, r).correct for p, r in clean)
    assert all(rule_based_reward(p, r) > 0 for p, r in clean if r == p.answer)
    with pytest.raises(ValueError, match="sloppiness"):
        make_demonstrations(3, sloppiness=2.0)


@pytest.mark.parametrize("prompt", [
    Prompt("add", "What is 0+0?", "0", {"a": 0, "b": 0}), Prompt("count", "How many a in bcd?", "0", {}),
    Prompt("reverse", "Reverse: aaa", "aaa", {}), Prompt("sort", "Sort: 3 3 3", "3 3 3", {}),
    Prompt("sort", "Sort: 9 9 9", "9 9 9", {}), *HAND])
def test_mistakes_are_always_wrong_and_plausible(prompt):
    rng = np.random.default_rng(0)
    for _ in range(20):
        wrong = mistake(prompt, rng)
        grade = gold_grade(prompt, wrong)
        assert not grade.correct and grade.score <= 0.4, (prompt, wrong)
        if prompt.task in ("reverse", "sort"):  # one swap or one change: a near miss
            assert grade.score > 0, (prompt, wrong)


# ----------------------------------------------------------------------------
# Pretraining corpus


def test_corpus_contents():
    docs = make_pretrain_corpus(2000, seed=0)
    assert docs == make_pretrain_corpus(2000, seed=0) and docs != make_pretrain_corpus(2000, seed=1)
    text = "\n\n".join(docs)
    assert set(text) <= set(ALPHABET)
    for country, capital, currency in FACTS:  # every fact, held-out ones included
        assert f"In {country} the capital is {capital}." in text or f"{capital} is the capital of {country}." in text
        assert f"with the {currency}." in text or f"The money of {country} is called {currency}." in text
    assert "User:" not in text and "Assistant:" not in text
    quiz = [d for d in docs if d.startswith(("Quiz sheet.", "Practice questions."))]
    assert abs(len(quiz) / len(docs) - 0.1) <= sigma3(0.1, len(docs))


def test_corpus_has_no_eval_skill_problems():
    text = "\n".join(make_pretrain_corpus(2000, seed=0))
    for p in sample_prompts(500, seed=0, split="eval"):
        if p.task in default_world().knowledge_tasks:
            continue
        assert f"Q: {p.text}\n" not in text, p
        if p.task == "add":
            a, b = p.meta["a"], p.meta["b"]
            for x, y in ((a, b), (b, a)):
                assert not re.search(rf"\b({x} plus {y} makes|add {x} and {y} you|{x} and {y} add up)", text), p
        if p.task == "reverse":
            assert f" {p.meta['word']} backwards" not in text and f"Read {p.meta['word']} from" not in text, p


def test_corpus_states_knowledge_in_full():
    """Eval questions of knowledge tasks are quizzed too; with knowledge_tasks=() nothing held out is."""
    text = "\n".join(make_pretrain_corpus(2000, seed=0))
    held_out = {p.text for p in sample_prompts(300, seed=0, split="eval") if p.task == "lookup"}
    assert held_out and all(f"Q: {q}\nA: " in text for q in held_out)
    world = WorldConfig(knowledge_tasks=(), add_max=9)
    text = "\n".join(make_pretrain_corpus(2000, seed=0, world=world))
    held_out = sample_prompts(300, seed=0, split="eval", world=world)
    assert not any(f"Q: {p.text}\n" in text for p in held_out)
    country_sentences = [s for s in text.split(". ") if "capital" in s or "money" in s or "pay with" in s]
    for p in held_out:
        if p.task == "lookup":
            assert not any(p.meta["country"] in s and p.answer in s for s in country_sentences), p
    world = WorldConfig(knowledge_tasks=("add", "lookup"), add_max=9)
    text = "\n".join(make_pretrain_corpus(2000, seed=0, world=world))
    sums = {(p.meta["a"], p.meta["b"]) for p in sample_prompts(300, seed=0, split="eval", world=world) if p.task == "add"}
    assert sums and all(re.search(rf"\b({a} plus {b} makes|add {a} and {b} you|{a} and {b} add up)", text)
                        or f"Q: What is {a}+{b}?" in text for a, b in sums)


# ----------------------------------------------------------------------------
# Properties over random prompts and responses

seeds = st.integers(0, 2**31)
splits = st.sampled_from(["train", "eval"])


@settings(max_examples=60, deadline=None)
@given(seeds, splits)
def test_right_answer_scores_one(seed, split):
    for p in sample_prompts(6, seed=seed, split=split):
        assert gold_score(p, p.answer) == 1.0 and exact_match(p, p.answer)
        assert rule_based_reward(p, p.answer) > 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(HAND), st.text(alphabet=ALPHABET + "\t\x00é", max_size=60))
def test_any_response_is_bounded(prompt, response):
    grade = gold_grade(prompt, response)
    assert 0.0 <= grade.score <= 1.0
    assert (grade.score == 1.0) == exact_match(prompt, response)
    assert grade.correct or grade.score <= 0.4
    assert -1.0 <= rule_based_reward(prompt, response) <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(HAND), st.lists(st.text(alphabet=".,!? xyzXYZ", min_size=1, max_size=8), max_size=8))
def test_chatter_costs_but_never_below_a_wrong_answer(prompt, junk_pieces):
    previous = 1.0
    response = prompt.answer
    for piece in junk_pieces:
        response += " " + piece
        grade = gold_grade(prompt, response)
        assert grade.correct and 0.6 <= grade.score <= previous
        previous = grade.score
