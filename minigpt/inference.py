r"""Inference-time techniques: spend compute when answering instead of when training.

    best-of-N         sample N responses, keep the one the reward model scores highest
                      (InstructGPT's RM as a reranker; WebGPT used best-of-64). More N → better
                      picks, until the RM's errors dominate (over-optimisation of a proxy).
    majority vote     sample N answers and return the most frequent one ("self-consistency",
                      Wang et al. 2022): right answers agree, wrong ones scatter. Needs a final
                      answer to compare, e.g. the end of a chain of thought.
    chain of thought  let the model write intermediate steps before its answer (Wei et al. 2022);
                      it is trained into the model (data/arith.py has a task with and without
                      worked steps) and `final_answer` reads the answer off the end.
    reflection        generate, score (reward model, or a program that checks the work), and try
                      again for the answers that score below a threshold, keeping the best.

All of them wrap a sampler; nothing here changes the weights.

    python -c "from minigpt.inference import majority_vote; print(majority_vote(['7', '3', '7', '1']))"
"""
from collections import Counter

import numpy as np

from minigpt.generate import sample_batch
from minigpt.tokenizer.chat_template import chat_ids, decode_response, encode_prompt

# -----------------------------------------------------------------------------
# sampling many answers


def sample_responses(model, tok, prompts, n, temperature=1.0, max_new_tokens=40, seed=0):
    """n sampled responses per prompt (texts in the chat template): a list of P lists of n strings."""
    ids = chat_ids(tok)
    texts = [p if isinstance(p, str) else p.text for p in prompts]
    contexts = [encode_prompt(tok, t) for t in texts for _ in range(n)]
    out = sample_batch(model, contexts, max_new_tokens, (ids["end"], ids["eot"]), temperature=temperature, seed=seed)
    flat = [decode_response(tok, r) for r in out]
    return [flat[i * n:(i + 1) * n] for i in range(len(texts))]


# -----------------------------------------------------------------------------
# best-of-N

def pick_best(samples, scores):
    """Best-of-N's choice: (chosen text per prompt, its index): the highest-scoring of each row (the first one on ties).

    Example: samples [['a', 'b', 'c']], scores [[0.1, 0.9, 0.9]] → (['b'], [1]).
    """
    scores = np.asarray(scores, dtype=np.float64)
    pick = scores.argmax(axis=1)  # argmax returns the first maximum
    return [row[i] for row, i in zip(samples, pick)], pick


def best_of_n_curve(proxy, gold, ns):
    r"""Mean gold score of best-of-n picks for each n in `ns`, using the first n samples of each prompt.

    proxy: (P, N) scores used to choose (the reward model); gold: (P, N) scores that judge (the
    gold labeler). Also returns the oracle curve (pick by gold itself: the ceiling) and n = 1's mean.
    Example: proxy [[0, 1]], gold [[1, 0]] → n=1: 1.0, n=2: 0.0 (the proxy picked the worse one).
    """
    proxy, gold = np.asarray(proxy, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    if proxy.shape != gold.shape or max(ns) > proxy.shape[1]:
        raise ValueError(f"proxy and gold must have the same shape (P, N ≥ max n); got {proxy.shape}, {gold.shape}, "
                         f"max n {max(ns)}")
    rows = np.arange(len(proxy))
    picked = {n: float(gold[rows, proxy[:, :n].argmax(axis=1)].mean()) for n in ns}
    oracle = {n: float(gold[:, :n].max(axis=1).mean()) for n in ns}
    return {"n": list(ns), "best_of_n": [picked[n] for n in ns], "oracle": [oracle[n] for n in ns]}


# -----------------------------------------------------------------------------
# majority vote / self-consistency

def majority_vote(answers):
    """The most frequent answer; ties go to the one that appeared first. Empty answers don't vote.

    Example: ['7', '3', '7', '1'] → '7';  ['3', '1', '1', '3'] → '3' (tie: '3' came first).
    """
    votes = Counter(a for a in answers if a != "")
    if not votes:
        return ""
    best = max(votes.values())
    return next(a for a in answers if votes.get(a) == best)


def self_consistency(samples, extract=lambda s: s.strip()):
    """Majority vote over the final answers `extract`ed from each prompt's samples (a list of lists)."""
    return [majority_vote([extract(s) for s in row]) for row in samples]


# -----------------------------------------------------------------------------
# reflection: generate, score, retry

def reflect(generate, score, prompts, threshold, max_tries=3):
    r"""Answer every prompt; while an answer scores below `threshold`, try again (up to `max_tries`
    attempts in all), keeping the best-scoring attempt.

    generate(prompts, attempt) → one text per prompt (use `attempt` to vary the seed);
    score(prompts, texts) → one float per text (a reward model, or a program checking the work).
    Returns (texts, scores, tries per prompt).
    """
    n = len(prompts)
    best_text, best_score = [None] * n, np.full(n, -np.inf)
    tries = np.zeros(n, dtype=np.int64)
    todo = list(range(n))
    for attempt in range(max_tries):
        if not todo:
            break
        sub = [prompts[i] for i in todo]
        texts = generate(sub, attempt)
        scores = np.asarray(score(sub, texts), dtype=np.float64)
        for i, t, s in zip(todo, texts, scores):
            tries[i] += 1
            if s > best_score[i]:
                best_text[i], best_score[i] = t, s
        todo = [i for i in todo if best_score[i] < threshold]
    return best_text, best_score, tries
