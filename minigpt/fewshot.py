r"""Zero-, one- and few-shot prompting of a base model (GPT-2 / GPT-3), on the toy assistant world.

GPT-3 (Brown et al. 2020) showed that a big enough language model does a task it was never
fine-tuned on if the prompt shows it k solved examples first ("in-context learning"):

    k = 0 (zero-shot)   Q: What is 12+30?\nA:
    k = 1 (one-shot)    Q: What is 5+7?\nA: 12\nQ: What is 12+30?\nA:
    k = 3 (few-shot)    three solved examples, then the question

No weights change; the examples only condition the next-token distribution. Accuracy rises
with k, and rises faster for bigger models. The examples are drawn from the same task's train
split (never the question itself); the answer is read greedily up to the end of the line and
graded by the world's gold labeler. We also count answers in the right *format* (a number for
a sum, a capitalised word for a capital...): the first thing a tiny model picks up in context.

    from minigpt.fewshot import few_shot_eval
    few_shot_eval(model, tok, prompts, k=3)        # {"accuracy", "format", "per_task", "texts"}
"""
import numpy as np

from minigpt.data.assistant import ANSWER_FORMAT, gold_grade, sample_prompts
from minigpt.generate import sample_batch

HEADING = "Quiz sheet.\n"


def few_shot_text(examples, question, heading=HEADING):
    """The prompt text: heading, k solved "Q: ...\\nA: ..." examples, then the question and "A:".

    Example: few_shot_text([("What is 1+2?", "3")], "What is 4+4?")
             → "Quiz sheet.\\nQ: What is 1+2?\\nA: 3\\nQ: What is 4+4?\\nA:"
    """
    shots = "".join(f"Q: {q}\nA: {a}\n" for q, a in examples)
    return f"{heading}{shots}Q: {question}\nA:"


def pick_examples(prompt, k, pool, rng):
    """k examples of the same task as `prompt` from `pool` (train-split Prompts), never the prompt itself."""
    same = [p for p in pool if p.task == prompt.task and p.text != prompt.text]
    if len(same) < k:
        raise ValueError(f"the example pool has {len(same)} {prompt.task!r} prompts, fewer than k={k}")
    return [same[i] for i in rng.choice(len(same), size=k, replace=False)]


def few_shot_eval(model, tok, prompts, k, pool=None, seed=0, max_new_tokens=24, temperature=0.0):
    """Prompt the base model with k examples per question; grade the answers.

    Returns {"accuracy", "format", "per_task": {task: accuracy}, "texts", "fits"}; questions whose
    prompt does not fit the context window (with room for the answer) are skipped ("fits" counts them).
    """
    if k < 0:
        raise ValueError(f"k must be ≥ 0, got {k}")
    pool = sample_prompts(2000, seed=seed + 11, split="train") if pool is None else pool
    rng = np.random.default_rng([seed, k])
    eot, newline = tok.eot_id, tok.encode_ordinary("\n")[0]
    kept, contexts = [], []
    for p in prompts:
        shots = [(e.text, e.answer) for e in pick_examples(p, k, pool, rng)] if k else []
        ids = [eot] + tok.encode_ordinary(few_shot_text(shots, p.text))
        if len(ids) + max_new_tokens <= model.config.block_size:
            kept.append(p)
            contexts.append(ids)
    if not kept:
        raise ValueError(f"no prompt fits block_size={model.config.block_size} with k={k} examples")
    outs = sample_batch(model, contexts, max_new_tokens, (newline, eot), temperature=temperature, seed=seed)
    texts = [tok.decode([i for i in o if i not in (newline, eot)]).strip() for o in outs]
    correct = np.array([gold_grade(p, t).correct for p, t in zip(kept, texts)])
    form = np.array([bool(ANSWER_FORMAT[p.task].fullmatch(t)) for p, t in zip(kept, texts)])
    tasks = sorted({p.task for p in kept})
    per_task = {t: float(np.mean([c for p, c in zip(kept, correct) if p.task == t])) for t in tasks}
    return {"accuracy": float(correct.mean()), "format": float(form.mean()), "per_task": per_task,
            "texts": texts, "fits": len(kept)}
