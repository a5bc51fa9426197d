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

from minigpt.autograd import no_grad
from minigpt.backend import to_numpy, xp
from minigpt.data.assistant import gold_grade, rule_based_reward, win_rate
from minigpt.generate import sample_batch
from minigpt.rl_math import entropy
from minigpt.scoring import response_logprobs
from minigpt.tokenizer.chat_template import chat_ids, decode_response, encode_prompt, pad_batch

BASE_PREFIX = "Quiz sheet.\n"

# -----------------------------------------------------------------------------
# answering


def base_prompt_ids(tok, text, shots=()):
    """The document-style prompt for a base model: <|endoftext|>Quiz sheet.\\nQ: {text}\\nA: (zero-shot).

    With `shots`, a list of solved (question, answer) examples, the examples replace the heading
    (few-shot prompting, GPT-3 style): <|endoftext|>Q: {q1}\\nA: {a1}\\n ... Q: {text}\\nA: (no heading).
    """
    if not shots:
        return [tok.eot_id, *tok.encode_ordinary(f"{BASE_PREFIX}Q: {text}\nA: ")]
    solved = "".join(f"Q: {q}\nA: {a}\n" for q, a in shots)
    return [tok.eot_id, *tok.encode_ordinary(f"{solved}Q: {text}\nA: ")]


def answer_prompts(model, tok, prompts, mode="chat", temperature=1.0, seed=0, max_new_tokens=40, system=None,
                   top_k=None, shots=None):
    """Sample one answer text per prompt (Prompt objects or strings).

    shots (mode "base" only): one list of solved (question, answer) examples per prompt, for
    few-shot prompting (base_prompt_ids); None or empty lists for zero-shot.
    """
    texts = [p if isinstance(p, str) else p.text for p in prompts]
    if shots and (mode != "base" or len(shots) != len(texts)):
        raise ValueError(f"shots are for mode 'base', one list per prompt: got mode {mode!r}, {len(shots)} lists "
                         f"for {len(texts)} prompts")
    ids = chat_ids(tok)
    if mode == "chat":
        contexts = [encode_prompt(tok, t, system) for t in texts]
        stops = (ids["end"], ids["eot"])
    elif mode == "base":
        contexts = [base_prompt_ids(tok, t, shots[i] if shots else ()) for i, t in enumerate(texts)]
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


# -----------------------------------------------------------------------------
# how far RL moved the policy

def kl_to_reference(policy, ref, tok, prompts, seed=0, max_new_tokens=40, batch_size=64):
    r"""Monte-Carlo KL(π ‖ π_ref) per response, on responses y ~ π (temperature 1):

        KL ≈ mean_y Σ_t [log π(y_t | x, y_<t) - log π_ref(y_t | x, y_<t)]      (nats per response)

    and the mean per-token entropy of π and of π_ref on the same tokens (nats).
    """
    ids = chat_ids(tok)
    contexts = [encode_prompt(tok, p if isinstance(p, str) else p.text) for p in prompts]
    responses = sample_batch(policy, contexts, max_new_tokens, (ids["end"], ids["eot"]), seed=seed)
    kls, h_pi, h_ref, weights = [], [], [], []
    with no_grad():
        for s in range(0, len(contexts), batch_size):
            c, r = contexts[s:s + batch_size], responses[s:s + batch_size]
            x, _ = pad_batch([a + b for a, b in zip(c, r)], ids["pad"])
            plens, rlens = np.array([len(a) for a in c]), np.array([len(b) for b in r])
            lp, lg, mask = response_logprobs(policy, xp.asarray(x), plens, rlens)
            lr, lg_ref, _ = response_logprobs(ref, xp.asarray(x), plens, rlens)
            kls += list(((to_numpy(lp.data) - to_numpy(lr.data)) * mask).sum(axis=1))
            h_pi.append(entropy(to_numpy(lg), mask))
            h_ref.append(entropy(to_numpy(lg_ref), mask))
            weights.append(mask.sum())
    w = np.array(weights) / np.sum(weights)
    return {"kl": float(np.mean(kls)), "kl_stderr": float(np.std(kls) / np.sqrt(len(kls))),
            "entropy": float(np.dot(w, h_pi)), "ref_entropy": float(np.dot(w, h_ref))}


# -----------------------------------------------------------------------------
# the report card

def format_report_card(report):
    """The pipeline's report card as text (report: the dict pipeline.run_pipeline returns)."""
    lines = [f"minigpt pipeline report card — {report.get('title', '')}".rstrip(" —"), ""]
    if report.get("config", {}).get("quick"):
        lines[-1:] = ["quick mode: tiny models trained for seconds — these numbers show that the code runs, not what",
                      "the recipe achieves (run `minigpt pipeline` without --quick for that)", ""]
    lines.append(f"{'stage':<10}{'wall s':>9}{'cpu s':>9}   result")
    for name, st in report["stages"].items():
        lines.append(f"{name:<10}{st['wall_s']:>9.1f}{st['cpu_s']:>9.1f}   {st.get('summary', '')}")
    tot = report["total"]
    lines.append(f"{'total':<10}{tot['wall_s']:>9.1f}{tot['cpu_s']:>9.1f}")
    lines += ["", f"held-out prompts: {report['n_eval']} × {report['eval_samples']} samples at temperature "
                  f"{report['eval_temperature']}, graded by the gold labeler",
              f"{'model':<8}{'accuracy':>10}{'exact':>8}{'gold':>8}{'RBRM':>8}{'chars':>8}"]
    for name, m in report["models"].items():
        lines.append(f"{name:<8}{m['accuracy']:>10.3f}{m['exact_match']:>8.3f}{m['gold_score']:>8.3f}"
                     f"{m['rbrm']:>8.2f}{m['mean_chars']:>8.1f}")
    lines.append("")
    for name, w in report["win_rates"].items():
        lines.append(f"win rate {name:<12} {w['win_rate']:.3f} ± {w['stderr']:.3f}  "
                     f"({w['wins']} wins, {w['ties']} ties, {w['losses']} losses; ties count half)")
    rm = report["reward_model"]
    lines.append(f"reward model held-out pairwise accuracy {rm['eval_accuracy']:.3f} on {rm['eval_pairs']} pairs "
                 f"(train {rm['train_accuracy']:.3f})")
    kl = report["kl"]
    lines.append(f"KL(PPO ‖ SFT) {kl['kl']:.2f} ± {kl['kl_stderr']:.2f} nats/response; entropy per token "
                 f"SFT {kl['ref_entropy']:.3f} → PPO {kl['entropy']:.3f} nats")
    return "\n".join(lines)
