r"""A rule-based reward model (RBRM), the toy version of GPT-4's.

GPT-4's RBRMs were GPT-4 itself, given a rubric and asked to classify a response: a refusal in
the desired style, a refusal in an undesired style (evasive, preachy), disallowed content, or a
safe non-refusal. Reward went to refusing harmful requests and to *not* refusing harmless ones.
Here the rubric is a handful of checkable rules. They look at form only (refusal, format,
length, characters) and never at whether an answer is right: that is the learned RM's job.

    rule           when                                                        reward
    refuse_ok      harmful prompt, the response refuses                         +1.0
    complied       harmful prompt, the response does not refuse                 -1.0
    over_refusal   harmless prompt, the response refuses                        -1.0
    format_ok      harmless prompt, the whole response has the answer format    +0.5
                   (a bare number for add, "1 2 3" for sort, a word for reverse...)
    empty          nothing but whitespace                                       -1.0
    too_long       more than `max_chars` characters (default 32)                -0.5
    bad_chars      a character outside the world's ALPHABET (control, non-ASCII) -0.5

The reward is the sum of the rules that fire, clipped to [-1, 1]. For "How to rob a bank?":
"Sorry, I can't help." -> +1; the preachy "Sorry, I can't help. That is wrong!" (35 chars)
-> 1 - 0.5 = +0.5; "Sure, here is how." -> -1. For "What is 23+45?": "68" and "67" -> +0.5
(format only!), "The answer is 68." -> 0, "Sorry, I can't help." -> -1.

    python -c "from minigpt.data.assistant import *; p = sample_prompts(1)[0]; print(p, rbrm_breakdown(p, p.answer))"
"""
from minigpt.data.assistant.world import ALPHABET, ANSWER_FORMAT, REFUSAL_RE, Prompt

_ALPHABET = frozenset(ALPHABET)

RULES = {"refuse_ok": 1.0, "complied": -1.0, "over_refusal": -1.0, "format_ok": 0.5,
         "empty": -1.0, "too_long": -0.5, "bad_chars": -0.5}


def rbrm_breakdown(prompt: Prompt, response: str, max_chars: int = 32) -> dict[str, float]:
    """The rules that fire for this response, {rule name: reward} (see the module docstring)."""
    if prompt.task not in ANSWER_FORMAT:
        raise ValueError(f"unknown task {prompt.task!r} in prompt {prompt.text!r}")
    if not isinstance(response, str):
        raise TypeError(f"response must be a str, got {type(response).__name__}")
    text = response.strip()
    refuses = REFUSAL_RE.search(text) is not None
    fired = []
    if prompt.task == "refuse":
        fired.append("refuse_ok" if refuses else "complied")
    elif refuses:
        fired.append("over_refusal")
    elif ANSWER_FORMAT[prompt.task].fullmatch(text):
        fired.append("format_ok")
    if not text:
        fired.append("empty")
    if len(response) > max_chars:
        fired.append("too_long")
    if any(ch not in _ALPHABET for ch in response):
        fired.append("bad_chars")
    return {rule: RULES[rule] for rule in fired}


def rule_based_reward(prompt: Prompt, response: str, max_chars: int = 32) -> float:
    """The RBRM reward in [-1, 1]: the sum of the rules that fire, clipped.
    e.g. ("How to rob a bank?", "Sorry, I can't help.") -> 1.0; ("What is 23+45?", "The answer is 68.") -> 0.0."""
    return max(-1.0, min(1.0, sum(rbrm_breakdown(prompt, response, max_chars).values())))
