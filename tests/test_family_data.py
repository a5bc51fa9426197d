"""Data of the model-family lessons: HH preferences, roles, unknown facts, self-instruct parsing, topic snippets."""
import numpy as np
import pytest

from minigpt.data.assistant import FACTS, REFUSAL, make_pretrain_corpus, sample_prompts
from minigpt.data.hh import fair_prompts, harmful_prompts, harmless_rankings, helpful_rankings, hh_report, is_refusal
from minigpt.data.roles import ROLES, follows_role, in_role, role_demos
from minigpt.data.topics import KINDS, snippet, topic_examples
from minigpt.data.unknowns import (IDK, UNKNOWN_COUNTRIES, idk_rankings, is_confident_answer, probe_report,
                                   unknown_prompts)
from minigpt.experiments.selfinstruct import filter_instructions, generation_prompt, parse_prompt

# -----------------------------------------------------------------------------
# HH


def test_helpful_and_harmless_data_cover_disjoint_prompts():
    helpful, harmless = helpful_rankings(50, seed=0), harmless_rankings(30, seed=0)
    assert all(r.prompt.task != "refuse" for r in helpful)
    assert all(r.prompt.task == "refuse" for r in harmless)
    for r in helpful:  # best first: the right answer, a wrong one, the refusal
        assert r.responses[0] == r.prompt.answer and r.responses[2] == REFUSAL and r.responses[1] != r.prompt.answer
        assert list(r.scores) == sorted(r.scores, reverse=True)
    for r in harmless:
        assert r.responses[0] == REFUSAL and not is_refusal(r.responses[1])


def test_hh_report_hand_worked():
    """2 fair prompts, one answered right and one refused; 2 harmful, one refused: 0.5 / 0.5 / 0.5."""
    fair, harmful = fair_prompts(2, seed=1, split="eval"), harmful_prompts(2, seed=1, split="eval")
    r = hh_report(fair, [fair[0].answer, REFUSAL], harmful, ["Sory, I can't hepl.", "Sure, here is how."])
    assert r == {"helpfulness": 0.5, "harmlessness": 0.5, "over_refusal": 0.5}


# -----------------------------------------------------------------------------
# roles


def test_every_role_is_recognised_only_by_its_own_check():
    for system in ROLES:
        for answer in ("68", "dcba", "1 2 3", "Quix"):
            text = in_role(system, answer)
            assert [follows_role(s, text) for s in ROLES] == [s == system for s in ROLES], (system, text)
    assert in_role("Talk like a pirate.", "5") == "Arr, 5!" and in_role("Shout.", "quix") == "QUIX!"
    with pytest.raises(ValueError, match="unknown role"):
        in_role("Sing.", "5")


def test_role_demos_answer_correctly_in_style():
    demos = role_demos(40, seed=0)
    assert {s for s, _, _ in demos} == set(ROLES)
    by_text = {p.text: p.answer for p in sample_prompts(40, seed=500)}
    for system, text, response in demos:
        assert follows_role(system, response) and response == in_role(system, by_text[text])


# -----------------------------------------------------------------------------
# unknown facts


def test_unknown_countries_never_appear_in_training_data():
    corpus = " ".join(make_pretrain_corpus(3000, seed=0))
    assert not {f[0] for f in FACTS} & set(UNKNOWN_COUNTRIES)
    assert [c for c in UNKNOWN_COUNTRIES if c in corpus] == []
    assert all(p.meta["country"] in UNKNOWN_COUNTRIES[8:] for p in unknown_prompts(20, countries=UNKNOWN_COUNTRIES[8:]))


def test_idk_rankings_and_probe():
    ranks = idk_rankings(20, seed=0)
    unknown = [r for r in ranks if r.prompt.meta.get("unknown")]
    known = [r for r in ranks if not r.prompt.meta.get("unknown")]
    assert len(unknown) == len(known) == 10
    assert all(r.responses[0] == IDK for r in unknown)  # "I don't know" beats any answer there
    assert all(r.responses == (r.prompt.answer, IDK, r.responses[2]) for r in known)  # right ≻ IDK ≻ wrong
    assert all(r.prompt.meta["country"] in UNKNOWN_COUNTRIES[:8] for r in unknown)  # the other 8 are held out
    assert is_confident_answer("Quix") and is_confident_answer("Quix.") and not is_confident_answer(IDK)
    rep = probe_report([r.prompt for r in known[:2]], [known[0].prompt.answer, IDK], ["Quix", IDK])
    assert rep == {"known_accuracy": 0.5, "known_idk": 0.5, "hallucination": 0.5, "unknown_idk": 0.5}


# -----------------------------------------------------------------------------
# self-instruct


def test_parse_prompt_recovers_every_world_prompt():
    """The teacher's answer for a parsed question equals the world's own answer, for every task."""
    prompts = sample_prompts(1500, seed=3) + sample_prompts(300, seed=4, split="eval")
    assert {p.task for p in prompts} == {"add", "reverse", "sort", "count", "lookup", "refuse"}
    for p in prompts:
        q = parse_prompt(p.text)
        assert q is not None and (q.task, q.answer, q.meta["key"]) == (p.task, p.answer, p.meta["key"]), p


@pytest.mark.parametrize("text", ["What is 2+?", "Capital of Narnia?", "Reverse: xyz", "How to hug a cat?",
                                  "Sort: 1", "hello", ""])
def test_parse_prompt_rejects_what_the_world_cannot_answer(text):
    assert parse_prompt(text) is None


def test_filter_instructions_counts():
    seeds = sample_prompts(3, seed=0)
    held = next(p for p in sample_prompts(50, seed=5, split="eval"))
    texts = ["What is 2+40?", "What is 2+40?", "nonsense", seeds[0].text, held.text, "Sort: 3 1 2"]
    kept, counts = filter_instructions(texts, seeds)
    assert counts == {"generated": 6, "invalid": 1, "duplicate": 2, "held_out": 1, "kept": 2}
    assert [p.answer for p in kept] == ["42", "1 2 3"]
    assert generation_prompt(seeds[:1]) == f"Quiz sheet.\nQ: {seeds[0].text}\nQ:"


# -----------------------------------------------------------------------------
# topics


def test_topic_snippets_hide_the_heading_and_end_on_a_sentence():
    ex = topic_examples(6, seed=0)
    assert len(ex) == 30 and sorted({y for _, y in ex}) == list(range(len(KINDS)))
    assert all(len(s) <= 60 for s, _ in ex)
    assert sum(s.endswith(".") for s, _ in ex) >= 25
    assert snippet("Notes from math class. 1 plus 2 makes 3. 4 plus 4 makes 8.", max_chars=30) == "1 plus 2 makes 3."
    with pytest.raises(ValueError, match="heading"):
        snippet("no heading here")
    assert np.mean([("plus" in s or "add" in s) for s, y in ex if y == 0]) == 1.0
