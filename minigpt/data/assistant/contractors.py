r"""Demonstrations written by imperfect contractors, the data of supervised fine-tuning (SFT).

InstructGPT hired labelers to write the answers the model should imitate. Ours are imperfect
in two independent, configurable ways:

- with probability `error_rate` the answer is wrong, in a plausible way: a sum off by one in
  one digit (68 -> 67 or 78), a count off by one, one adjacent pair swapped (dcba -> dcab,
  1 2 3 -> 1 3 2), another country's capital; on a harmful request, complying instead of refusing;
- with probability `sloppiness` the answer is wrapped in chatter: "The answer is 68.",
  "68, I think!", or a preachy refusal "Sorry, I can't help. That is wrong!".

SFT imitates these flaws; the gold labeler (labeler.py) penalises them, which leaves room for
RL to do better than its teachers. (Wrong harmful-request answers are compliance texts, which
have their own chatter, so sloppiness only touches correct refusals there.)

    python -c "from minigpt.data.assistant import make_demonstrations; print(*make_demonstrations(8), sep='\n')"
"""
import numpy as np

from minigpt.data.assistant.world import FACTS, RELATIONS, Prompt, WorldConfig, _seeded_rng, default_world, sample_prompts

# ----------------------------------------------------------------------------
# Flaws

# chatter around an answer {a}, with weights: contractors have a favourite "house style"
SLOPPY_STYLES = (("The answer is {a}.", 4), ("{a}, I think!", 2), ("Sure! {a}", 2),
                 ("{a}. Hope that helps!", 1), ("Hmm, {a}?", 1))
PREACHY_REFUSALS = ("{a} That is wrong!", "No way. {a}", "{a} Shame on you.")
COMPLIANCE = ("Sure, here is how.", "Easy, just do it.", "First, find a {noun}.")


def _pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def _swap_adjacent(items: list, rng) -> list | None:
    """Swap one random adjacent pair of *different* items; None if all items are equal."""
    spots = [i for i in range(len(items) - 1) if items[i] != items[i + 1]]
    if not spots:
        return None
    i = _pick(rng, spots)
    items = list(items)
    items[i], items[i + 1] = items[i + 1], items[i]
    return items


def mistake(prompt: Prompt, rng: np.random.Generator, world: WorldConfig | None = None) -> str:
    """A plausible wrong response to `prompt`; never equal to its answer.
    e.g. "What is 23+45?" -> one of 67, 69, 58, 78."""
    world = world or default_world()
    task, answer = prompt.task, prompt.answer
    if task in ("add", "count"):
        steps = (1, -1, 10, -10) if task == "add" else (1, -1)
        value = int(answer)
        wrong = str(value + _pick(rng, [d for d in steps if value + d >= 0]))
    elif task == "reverse":
        swapped = _swap_adjacent(list(answer), rng)
        if swapped is None:  # "aaa": change one letter instead
            i = int(rng.integers(0, len(answer)))
            swapped = list(answer)
            swapped[i] = _pick(rng, [c for c in world.letters if c != answer[i]])
        wrong = "".join(swapped)
    elif task == "sort":
        swapped = _swap_adjacent(answer.split(), rng)
        if swapped is None:  # "3 3 3": change one number by one instead
            swapped = answer.split()
            i = int(rng.integers(0, len(swapped)))
            swapped[i] = str(int(swapped[i]) + (1 if swapped[i] != "9" else -1))
        wrong = " ".join(swapped)
    elif task == "lookup":
        column = 1 + RELATIONS.index(prompt.meta["relation"])
        wrong = _pick(rng, [row[column] for row in FACTS if row[column] != answer])
    elif task == "refuse":
        wrong = _pick(rng, COMPLIANCE).format(noun=prompt.meta["noun"])
    else:
        raise ValueError(f"unknown task {task!r} in prompt {prompt.text!r}")
    assert wrong != answer, (prompt, wrong)
    return wrong


def sloppify(prompt: Prompt, response: str, rng: np.random.Generator) -> str:
    """Wrap `response` in chatter, e.g. "68" -> "The answer is 68." or "68, I think!"."""
    if prompt.task == "refuse":
        return _pick(rng, PREACHY_REFUSALS).format(a=response)
    weights = np.array([w for _, w in SLOPPY_STYLES], dtype=np.float64)
    style = SLOPPY_STYLES[int(rng.choice(len(SLOPPY_STYLES), p=weights / weights.sum()))][0]
    return style.format(a=response)


# ----------------------------------------------------------------------------
# Demonstrations

def make_demonstrations(n: int, seed: int | None = None, *, error_rate: float | None = None,
                        sloppiness: float | None = None, split: str = "train",
                        world: WorldConfig | None = None) -> list[tuple[Prompt, str]]:
    """`n` (prompt, response) pairs written by imperfect contractors.

    The prompts are exactly `sample_prompts(n, seed, split, world)`. Each response is wrong with
    probability `error_rate` and sloppy with probability `sloppiness`, independently (None: take
    the rate from `world`). Deterministic in all arguments.
    """
    world = world or default_world()
    error_rate = world.error_rate if error_rate is None else error_rate
    sloppiness = world.sloppiness if sloppiness is None else sloppiness
    for name, rate in (("error_rate", error_rate), ("sloppiness", sloppiness)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {rate!r}")
    prompts = sample_prompts(n, seed, split, world)
    rng = _seeded_rng(seed, world, stream=2)
    demos = []
    for prompt in prompts:
        wrong, sloppy = rng.random() < error_rate, rng.random() < sloppiness
        response = mistake(prompt, rng, world) if wrong else prompt.answer
        if sloppy and not (wrong and prompt.task == "refuse"):
            response = sloppify(prompt, response, rng)
        demos.append((prompt, response))
    return demos
