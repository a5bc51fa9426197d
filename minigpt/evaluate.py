r"""Evaluation: answer held-out prompts, grade them with the gold labeler, compare systems.

Three ways to ask a model a question of the toy world:

    mode "chat"  <|user|>What is 23+45?<|end|><|assistant|>   → read up to <|end|>   (SFT, PPO)
    mode "base"  <|endoftext|>Quiz sheet.\nQ: What is 23+45?\nA:   → read up to the newline
                 (the base model has never seen a chat token; we prompt it with the document
                 format it knows best, like InstructGPT's "GPT-3 prompted" baseline)

Every answer is graded by the hidden gold labeler: accuracy (right answer, chatter allowed),
exact match (right and clean), mean gold score; two systems on the same prompts are compared
by win rate (ties count half). Also: the reward model's pairwise accuracy, and the report card.

    from minigpt.evaluate import answer_prompts, grade_answers
    texts = answer_prompts(model, tok, prompts, mode="chat")
    print(grade_answers(prompts, texts))
"""
import numpy as np

from minigpt.data.assistant import gold_grade, rule_based_reward, win_rate
from minigpt.stages.chat_template import chat_ids, decode_response, encode_prompt
from minigpt.stages.rollout import sample_batch

BASE_PREFIX = "Quiz sheet.\n"

# -----------------------------------------------------------------------------
# answering


def base_prompt_ids(tok, text):
    """The document-style prompt for a base model: <|endoftext|>Quiz sheet.\\nQ: {text}\\nA: """
    return [tok.eot_id, *tok.encode_ordinary(f"{BASE_PREFIX}Q: {text}\nA: ")]


def answer_prompts(model, tok, prompts, mode="chat", temperature=1.0, seed=0, max_new_tokens=40, system=None,
                   top_k=None):
    """Sample one answer text per prompt (Prompt objects or strings)."""
    texts = [p if isinstance(p, str) else p.text for p in prompts]
    ids = chat_ids(tok)
    if mode == "chat":
        contexts = [encode_prompt(tok, t, system) for t in texts]
        stops = (ids["end"], ids["eot"])
    elif mode == "base":
        contexts = [base_prompt_ids(tok, t) for t in texts]
        stops = (tok.encode_ordinary("\n")[0], ids["eot"])
    else:
        raise ValueError(f"mode must be 'chat' or 'base', got {mode!r}")
    responses = sample_batch(model, contexts, max_new_tokens, stops, temperature=temperature, top_k=top_k, seed=seed)
    if mode == "chat":
        return [decode_response(tok, r) for r in responses]
    specials = set(tok.special_tokens.values())
    return [tok.decode([i for i in r if i not in stops and i not in specials]) for r in responses]


# -----------------------------------------------------------------------------
# grading

def grade_answers(prompts, texts):
    """Gold-labeler summary of answers: accuracy, exact match, mean score, per-task accuracy, RBRM."""
    grades = [gold_grade(p, t) for p, t in zip(prompts, texts)]
    scores = np.array([g.score for g in grades])
    correct = np.array([g.correct for g in grades])
    exact = np.array([g.correct and g.junk == 0 for g in grades])
    tasks = sorted({p.task for p in prompts})
    per_task = {t: float(np.mean([c for p, c in zip(prompts, correct) if p.task == t])) for t in tasks}
    return {"accuracy": float(correct.mean()), "exact_match": float(exact.mean()), "gold_score": float(scores.mean()),
            "rbrm": float(np.mean([rule_based_reward(p, t) for p, t in zip(prompts, texts)])),
            "mean_chars": float(np.mean([len(t) for t in texts])), "per_task_accuracy": per_task,
            "scores": scores.tolist()}


def evaluate_model(model, tok, prompts, mode="chat", temperature=1.0, seed=0, n_samples=1):
    """Answer every prompt `n_samples` times (different seeds) and grade; scores are per (sample, prompt)."""
    all_prompts, all_texts = [], []
    for s in range(n_samples):
        all_texts += answer_prompts(model, tok, prompts, mode=mode, temperature=temperature, seed=seed + s)
        all_prompts += list(prompts)
    out = grade_answers(all_prompts, all_texts)
    out["texts"] = all_texts
    return out


def compare(scores_a, scores_b):
    """Win rate of A over B on the same prompts (ties half), with its standard error."""
    a, b = np.asarray(scores_a), np.asarray(scores_b)
    w = win_rate(a, b)
    per = np.where(np.abs(a - b) <= 1e-9, 0.5, (a > b).astype(float))
    return {"win_rate": w, "stderr": float(per.std(ddof=0) / np.sqrt(len(per))),
            "wins": int((per == 1).sum()), "ties": int((per == 0.5).sum()), "losses": int((per == 0).sum())}
