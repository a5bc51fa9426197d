r"""Self-Instruct / Alpaca at toy scale: a model writes new instructions, a stronger teacher answers them.

Alpaca (Taori et al. 2023) fine-tuned LLaMA-7B on 52k demonstrations written by a stronger
model: Self-Instruct (Wang et al. 2022) starts from 175 human-written seed tasks, shows a few of
them to the model, asks for new instructions, filters out invalid and near-duplicate ones, and
has the strong model answer them. Cheap demonstrations instead of contractors.

Toy version:
  1. seeds: a handful of the world's questions per task (the "175 seed tasks");
  2. generate: prompt a model with k seeds in the quiz format and sample a new "Q: ..." line;
  3. filter: keep lines that parse as a valid question of the world (`parse_prompt`), are new
     (no duplicates, not a seed) and are not held-out eval problems (no contamination);
  4. answer: the teacher — here the world's gold labeler, which knows every answer — writes a
     clean, correct response (contractors, by contrast, err and chatter).

    python -c "from minigpt.experiments.selfinstruct import parse_prompt; print(parse_prompt('What is 2+40?'))"
"""
import re

import numpy as np

from minigpt.data.assistant import FACTS, Prompt, sample_prompts, split_of
from minigpt.data.assistant.world import HARMS, REFUSAL
from minigpt.generate import sample_batch

_FACT = {c: (cap, cur) for c, cap, cur in FACTS}
_PATTERNS = (
    ("add", re.compile(r"What is (\d{1,2})\+(\d{1,2})\?")),
    ("reverse", re.compile(r"Reverse: ([a-f]{3,5})")),
    ("sort", re.compile(r"Sort: (\d(?: \d){2,4})")),
    ("count", re.compile(r"How many ([a-f]) in ([a-f]{4,7})\?")),
    ("lookup", re.compile(r"(Capital|Currency) of ([A-Z][a-z]+)\?")),
    ("refuse", re.compile(r"(?:How to|Help me|Best way to) ([a-z]+) a ([a-z]+)[?.]")),
)


def parse_prompt(text):
    """The world Prompt a question text stands for, or None if it is not a valid question.

    Example: "What is 2+40?" → Prompt("add", "What is 2+40?", "42", {"a": 2, "b": 40, "key": "add:2+40"}).
    """
    text = text.strip()
    for task, pat in _PATTERNS:
        m = pat.fullmatch(text)
        if not m:
            continue
        if task == "add":
            a, b = int(m[1]), int(m[2])
            return Prompt(task, text, str(a + b), {"a": a, "b": b, "key": f"add:{min(a, b)}+{max(a, b)}"})
        if task == "reverse":
            return Prompt(task, text, m[1][::-1], {"word": m[1], "key": f"reverse:{m[1]}"})
        if task == "sort":
            xs = tuple(int(x) for x in m[1].split())
            ys = " ".join(map(str, sorted(xs)))
            return Prompt(task, text, ys, {"numbers": xs, "key": f"sort:{ys}"})
        if task == "count":
            return Prompt(task, text, str(m[2].count(m[1])), {"letter": m[1], "word": m[2],
                                                              "key": f"count:{m[1]}:{m[2]}"})
        if task == "lookup":
            if m[2] not in _FACT:
                return None  # not a country of the world: the teacher would have to make it up
            rel = m[1].lower()
            return Prompt(task, text, _FACT[m[2]][rel == "currency"], {"country": m[2], "relation": rel,
                                                                       "key": f"lookup:{rel}:{m[2]}"})
        verb, noun = m[1], m[2]
        if verb in HARMS and noun in HARMS[verb][1]:
            return Prompt("refuse", text, REFUSAL, {"verb": verb, "noun": noun, "key": f"refuse:{verb}:{noun}"})
    return None


def seed_tasks(n=24, seed=0):
    """`n` train-split questions of the world's mix of tasks: the seed set."""
    return sample_prompts(n, seed=seed + 900)


def generation_prompt(examples):
    """Quiz-format context that invites one more question: "Quiz sheet.\\nQ: ...\\nQ: ...\\nQ:"."""
    return "Quiz sheet.\n" + "".join(f"Q: {e.text}\n" for e in examples) + "Q:"


def filter_instructions(texts, seeds=(), eval_fraction=0.2):
    """Keep the valid, new, train-split questions among generated texts (Self-Instruct's filter step).

    Returns (kept Prompts, counts {"generated", "invalid", "duplicate", "held_out", "kept"}).
    """
    seen = {s.text for s in seeds}
    kept, counts = [], {"generated": len(texts), "invalid": 0, "duplicate": 0, "held_out": 0, "kept": 0}
    for t in texts:
        p = parse_prompt(t)
        if p is None:
            counts["invalid"] += 1
        elif p.text in seen:
            counts["duplicate"] += 1
        elif split_of(p.meta["key"], eval_fraction) == "eval":
            counts["held_out"] += 1
        else:
            seen.add(p.text)
            kept.append(p)
            counts["kept"] += 1
    return kept, counts


def self_instruct(model, tok, n, seeds=None, k=4, temperature=1.0, seed=0, max_new_tokens=28):
    """Sample n candidate instructions from `model` (k random seeds shown each time) and filter them.

    Returns (kept Prompts, counts); the teacher's demonstrations are [(p.text, p.answer) for p in kept].
    """
    seeds = seed_tasks(seed=seed) if seeds is None else seeds
    rng = np.random.default_rng([seed, 61])
    contexts = []
    for _ in range(n):
        shown = [seeds[i] for i in rng.choice(len(seeds), size=min(k, len(seeds)), replace=False)]
        contexts.append([tok.eot_id] + tok.encode_ordinary(generation_prompt(shown)))
    newline = tok.encode_ordinary("\n")[0]
    outs = sample_batch(model, contexts, max_new_tokens, (newline, tok.eot_id), temperature=temperature, seed=seed)
    texts = [tok.decode([i for i in o if i not in (newline, tok.eot_id)]).strip() for o in outs]
    return filter_instructions(texts, seeds)
