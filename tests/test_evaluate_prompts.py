"""How evaluate.py prompts a base model: zero-shot with a heading, few-shot with solved examples."""
import pytest

from align_helpers import tiny_gpt, world_tok
from minigpt.evaluate import answer_prompts, base_prompt_ids


def test_base_prompt_zero_and_few_shot():
    tok = world_tok()
    zero = base_prompt_ids(tok, "What is 2+3?")
    assert zero[0] == tok.eot_id and tok.decode(zero[1:]) == "Quiz sheet.\nQ: What is 2+3?\nA: "
    two = base_prompt_ids(tok, "What is 2+3?", shots=[("What is 1+1?", "2"), ("Sort: 2 1", "1 2")])
    assert two[0] == tok.eot_id
    assert tok.decode(two[1:]) == "Q: What is 1+1?\nA: 2\nQ: Sort: 2 1\nA: 1 2\nQ: What is 2+3?\nA: "


def test_answer_prompts_with_shots_checks_its_arguments():
    tok = world_tok()
    model = tiny_gpt(tok)
    out = answer_prompts(model, tok, ["What is 2+3?", "Sort: 2 1"], mode="base", max_new_tokens=3,
                         shots=[[("What is 1+1?", "2")], []])
    assert len(out) == 2 and all(isinstance(t, str) and "\n" not in t for t in out)
    with pytest.raises(ValueError, match="one list per prompt"):
        answer_prompts(model, tok, ["What is 2+3?"], mode="base", shots=[[], []])
    with pytest.raises(ValueError, match="mode 'base'"):
        answer_prompts(model, tok, ["What is 2+3?"], mode="chat", shots=[[("a", "b")]])
