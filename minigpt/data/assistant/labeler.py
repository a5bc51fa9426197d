r"""The hidden gold labeler: a program that scores any response, standing in for human raters.

It knows every right answer. It makes K-way rankings for the reward model (RM) and measures
win rates. The policy must never train on it directly (PPO sees only the learned RM), just as
InstructGPT's policy never saw its labelers.

How a response is scored, in three steps:

1. Read the answer out of the response, charitably. Strip surrounding whitespace and find every
   substring with the task's answer format (ANSWER_FORMAT: digits for add, lowercase letters for
   reverse, ...). The candidate with the most credit is `found`; everything else is `junk`.
   A refusal on a question that deserved an answer scores 0.
2. Credit for `found`: 1 if it equals the answer, otherwise partial credit
   $c = 0.4 \cdot \max(0, 1 - d)$ with a task-specific distance $d$:
       add      |pred - answer| / 20          count   |pred - answer| / 4
       reverse, lookup   2 * edit distance / len(answer)   (edit_distance: a swap costs 1)
       sort     2 * edit distance over the numbers / how many numbers
       refuse   any refusal is right (credit 1); complying earns 0
3. Penalty for junk: $\text{score} = c \cdot (1 - \min(0.4,\ 0.01 \cdot \text{junk chars}))$.

So: exact and clean (1.0) > right but chatty (0.6 to 0.99) > near miss (at most 0.4) > far miss > 0.
Worked examples for "What is 23+45?" (answer 68):
    "68"                 1.0
    "The answer is 68."  junk = 17 - 2 = 15 chars -> 1 - 0.15 = 0.85
    "67"                 0.4 * (1 - 1/20) = 0.38
    "Sorry, I can't help."  0.0

    python -c "from minigpt.data.assistant import *; p = sample_prompts(1)[0]; print(p, gold_grade(p, 'hi ' + p.answer))"
"""
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from minigpt.data.assistant.world import ANSWER_FORMAT, REFUSAL_RE, Prompt

PARTIAL_MAX = 0.4     # the most credit a wrong answer can earn
JUNK_PER_CHAR = 0.01  # score lost per character of chatter around the answer
JUNK_MAX = 0.4        # ... at most; so a right answer always beats a wrong one

# ----------------------------------------------------------------------------
# Scoring one response


def edit_distance(a: Sequence, b: Sequence) -> int:
    r"""Fewest insertions, deletions, substitutions and swaps of two adjacent items turning a into b
    (the "optimal string alignment" distance; a swap costs 1, the contractors' typical slip).
    e.g. edit_distance("dcab", "dcba") = 1, edit_distance("abc", "xbz") = 2, edit_distance([1, 2], [1, 2, 3]) = 1.

    $D[i][j]$ = distance between a[:i] and b[:j] = min of D[i-1][j] + 1 (delete), D[i][j-1] + 1
    (insert), D[i-1][j-1] + [a_i != b_j] (substitute), and D[i-2][j-2] + 1 if a[i-2:i] = b[j-2:j] swapped.
    """
    a, b = list(a), list(b)
    rows = [list(range(len(b) + 1))]  # rows[i][j] = D[i][j]
    for i in range(1, len(a) + 1):
        row = [i]
        for j in range(1, len(b) + 1):
            d = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d = min(d, rows[i - 2][j - 2] + 1)
            row.append(d)
        rows.append(row)
    return rows[-1][-1]


def _credit(prompt: Prompt, found: str) -> float:
    """1.0 for the right answer, else partial credit in [0, PARTIAL_MAX]."""
    task, answer = prompt.task, prompt.answer
    if task == "refuse" or found == answer:
        return 1.0  # (for refuse, `found` is a refusal: every candidate matched REFUSAL_RE)
    if task in ("add", "count"):
        if len(found) > 9:  # subtle: int() refuses strings of > 4300 digits; such answers are far off anyway
            return 0.0
        distance = abs(int(found) - int(answer)) / (20 if task == "add" else 4)
    elif task == "sort":  # changing half of the numbers leaves nothing to credit
        distance = 2 * edit_distance(found.split(), answer.split()) / len(answer.split())
    else:  # reverse, lookup: likewise for letters
        distance = 2 * edit_distance(found, answer) / len(answer)
    return PARTIAL_MAX * max(0.0, 1.0 - distance)


@dataclass(frozen=True)
class Grade:
    score: float   # the gold score in [0, 1]
    correct: bool  # the answer read out of the response is exactly right (chatter or not)
    credit: float  # 1.0 if correct, else partial credit in [0, PARTIAL_MAX]
    found: str     # the candidate answer that earned the credit ("" if none earned any)
    junk: int      # characters of the stripped response outside `found`


def gold_grade(prompt: Prompt, response: str) -> Grade:
    """The labeler's full verdict on one response (see the module docstring for the rules)."""
    if prompt.task not in ANSWER_FORMAT:
        raise ValueError(f"unknown task {prompt.task!r} in prompt {prompt.text!r}")
    if not isinstance(response, str):
        raise TypeError(f"response must be a str, got {type(response).__name__}")
    text = response.strip()
    if prompt.task != "refuse" and REFUSAL_RE.search(text):
        return Grade(0.0, False, 0.0, "", len(text))  # refused a fair question
    candidates = [m.group() for m in ANSWER_FORMAT[prompt.task].finditer(text)]
    if not candidates:
        return Grade(0.0, False, 0.0, "", len(text))
    credits = [_credit(prompt, c) for c in candidates]
    best = int(np.argmax(credits))  # first of the best, deterministically
    if credits[best] == 0.0:
        return Grade(0.0, False, 0.0, "", len(text))
    junk = len(text) - len(candidates[best])
    score = credits[best] * (1.0 - min(JUNK_MAX, JUNK_PER_CHAR * junk))
    return Grade(score, credits[best] == 1.0, credits[best], candidates[best], junk)


def gold_score(prompt: Prompt, response: str) -> float:
    """The gold score in [0, 1]: 1.0 exactly for a right, clean answer."""
    return gold_grade(prompt, response).score


def gold_scores(prompts: Sequence[Prompt], responses: Sequence[str]) -> np.ndarray:
    """Gold scores of paired lists, as a float64 array of shape (N,)."""
    if len(prompts) != len(responses):
        raise ValueError(f"need one response per prompt, got {len(prompts)} prompts and {len(responses)} responses")
    return np.array([gold_score(p, r) for p, r in zip(prompts, responses)], dtype=np.float64)


def exact_match(prompt: Prompt, response: str) -> bool:
    """True iff the response is the right answer and nothing else (surrounding whitespace aside)."""
    grade = gold_grade(prompt, response)
    return grade.correct and grade.junk == 0


# ----------------------------------------------------------------------------
# Rankings for the reward model

@dataclass(frozen=True)
class Ranking:
    prompt: Prompt
    responses: tuple  # the K responses, best first
    scores: tuple     # their gold scores, non-increasing


def rank_responses(prompt: Prompt, responses: Sequence[str]) -> Ranking:
    """Rank K responses best first, as a labeler ranking K samples (InstructGPT: K = 4..9).

    Ties in score are broken by shorter response, then alphabetical order, so the ranking does
    not depend on the order of `responses` (only exact duplicates are kept in input order).
    """
    responses = list(responses)
    if len(responses) < 2:
        raise ValueError(f"a ranking needs K >= 2 responses (InstructGPT used K = 4..9), got K = {len(responses)}")
    scores = [gold_score(prompt, r) for r in responses]
    order = sorted(range(len(responses)), key=lambda i: (-scores[i], len(responses[i]), responses[i], i))
    return Ranking(prompt, tuple(responses[i] for i in order), tuple(scores[i] for i in order))


def ranking_pairs(ranking: Ranking | Sequence[str], drop_ties: bool = False) -> list[tuple[str, str]]:
    r"""Expand one K-way ranking into its $\binom{K}{2}$ (winner, loser) pairs.

    Order: (r0, r1), (r0, r2), ..., (r0, rK-1), (r1, r2), ... where r0 is the best. e.g.
    ["a", "b", "c"] -> [("a", "b"), ("a", "c"), ("b", "c")]. `ranking` is a Ranking or a plain
    best-first list. drop_ties=True (Ranking only) leaves out pairs whose gold scores are equal,
    whose order came from the tie-break rather than from the labeler's preference.
    """
    ranked = ranking.responses if isinstance(ranking, Ranking) else list(ranking)
    if len(ranked) < 2:
        raise ValueError(f"a ranking needs K >= 2 responses to make pairs, got K = {len(ranked)}")
    if drop_ties and not isinstance(ranking, Ranking):
        raise ValueError("drop_ties=True needs a Ranking (with scores), got a plain list")
    pairs = []
    for i in range(len(ranked)):
        for j in range(i + 1, len(ranked)):
            if drop_ties and ranking.scores[i] == ranking.scores[j]:
                continue
            pairs.append((ranked[i], ranked[j]))
    return pairs


# ----------------------------------------------------------------------------
# Comparing two systems

def win_rate(scores_a: Sequence[float], scores_b: Sequence[float], tie_tol: float = 1e-9) -> float:
    """How often system A beats system B on the same prompts; a tie (|a - b| <= tie_tol) counts half.
    e.g. a = [1, 0.5, 0], b = [0, 0.5, 1] -> (1 + 0.5 + 0) / 3 = 0.5."""
    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"win_rate needs two non-empty 1-D score lists of equal length, got shapes {a.shape} and {b.shape}")
    tie = np.abs(a - b) <= tie_tol
    return float(np.mean(np.where(tie, 0.5, (a > b).astype(np.float64))))
