r"""System messages at toy scale (GPT-4): a role instruction before the user's turn changes the style.

GPT-4's chat format puts a *system message* first; the model is trained to follow it for the
whole conversation. Here the demonstrations carry one of a few role instructions, each with a
style that a program can check:

    system              response to "What is 2+3?"
    (none)              5
    Shout.              5!                 (capitals, ends with "!")
    Talk like a pirate. Arr, 5!
    Be polite.          5, thank you.

`role_demos` writes demonstrations (the gold answer in the role's style); `follows_role` checks
a response. A model fine-tuned on them follows the system message on held-out questions.

    python -c "from minigpt.data.roles import *; print(*role_demos(4), sep='\n')"
"""
import numpy as np

from minigpt.data.assistant import sample_prompts

ROLES = {
    None: ("{a}", lambda t: not (t.endswith("!") or t.startswith("Arr") or "thank you" in t)),
    "Shout.": ("{A}!", lambda t: t.endswith("!") and t == t.upper() and not t.startswith("ARR")),
    "Talk like a pirate.": ("Arr, {a}!", lambda t: t.startswith("Arr, ") and t.endswith("!")),
    "Be polite.": ("{a}, thank you.", lambda t: t.endswith(", thank you.")),
}


def in_role(system, answer):
    """The answer written in the style of a role. Example: in_role("Talk like a pirate.", "5") → "Arr, 5!"."""
    if system not in ROLES:
        raise ValueError(f"unknown role {system!r}; expected one of {list(ROLES)}")
    return ROLES[system][0].format(a=answer, A=answer.upper())


def follows_role(system, text):
    """Does `text` have the style the system message asks for?"""
    return bool(ROLES[system][1](text.strip()))


def role_demos(n, seed=0, split="train"):
    """[(system, prompt text, response)] with a random role (or none) per prompt, answers from the gold labeler."""
    rng = np.random.default_rng([seed, 47])
    roles = list(ROLES)
    out = []
    for p in sample_prompts(n, seed=seed + 500, split=split):
        system = roles[int(rng.integers(len(roles)))]
        out.append((system, p.text, in_role(system, p.answer)))
    return out
