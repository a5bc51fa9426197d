r"""Chain of thought on multi-step modular addition (data/arith.py), plus self-consistency and checked retries.

Two models of the same size are trained with the same problems, epochs and learning rate; one
sees only the answer ("7"), the other the worked steps ("3+5=8 8+2=0 0+7=7 so 7"). Both answer
held-out problems with 1..6 steps (5 and 6 longer than anything trained: length
generalisation). For the chain-of-thought model also:

    self-consistency   N samples at temperature 1, majority vote over their final answers
    checked retries    sample, let a program recompute every written step, retry (≤ tries) if one is wrong

    python -c "from minigpt.experiments.reasoning import *; print(run_reasoning(ReasoningConfig.quick())['accuracy'])"
"""
import dataclasses
import os
import time
from dataclasses import dataclass, field

import numpy as np
from minigpt.data.arith import ALPHABET, check_steps, final_answer, make_problems
from minigpt.experiments.common import greedy_answers, train_chat_model
from minigpt.inference import reflect, sample_responses, self_consistency
from minigpt.nn.gpt import GPTConfig
from minigpt.tokenizer import CHAT_SPECIAL_TOKENS, CharTokenizer


@dataclass
class ReasoningConfig:
    out_dir: str = "runs/beyond/reasoning"
    seed: int = 0
    mod: int = 10  # modulus of the sums
    train_steps: tuple = (1, 2, 3, 4)  # steps (additions) in training problems
    eval_steps: tuple = (1, 2, 3, 4, 5, 6)  # 5 and 6: longer than anything trained
    n_train: int = 12000  # training problems
    epochs: int = 4
    lr: float = 2e-3
    model: GPTConfig = field(  # the chat model trained from scratch (vocab_size comes from the tokenizer)
        default_factory=lambda: GPTConfig(n_layer=2, n_head=4, n_embd=64, block_size=80))
    n_eval: int = 100  # held-out problems per number of steps
    samples: int = 8  # self-consistency votes
    tries: int = 4  # checked retries

    @classmethod
    def quick(cls, **kw):
        small = dict(n_train=1200, epochs=1, eval_steps=(1, 2, 4, 6), n_eval=20, samples=3, tries=2,
                     out_dir="runs/beyond/reasoning_quick")
        return cls(**{**small, **kw})


def arith_tokenizer():
    return CharTokenizer.train(ALPHABET, special_tokens=CHAT_SPECIAL_TOKENS)


def run_reasoning(cfg, progress=False, log=print):
    t0 = time.time()
    tok = arith_tokenizer()
    train = make_problems(cfg.n_train, cfg.train_steps, seed=cfg.seed, mod=cfg.mod)
    evals = {k: make_problems(cfg.n_eval, (k,), seed=cfg.seed + 100 + k, split="eval", mod=cfg.mod)
             for k in cfg.eval_steps}
    models, seconds, losses = {}, {}, {}
    for name, cot in (("direct", False), ("cot", True)):
        t = time.time()
        models[name], res = train_chat_model(
            tok, [(p.prompt, p.response(cot)) for p in train], os.path.join(cfg.out_dir, name), cfg.model,
            epochs=cfg.epochs, lr=cfg.lr, seed=cfg.seed,
            progress=progress)
        seconds[name], losses[name] = time.time() - t, res["history"]["l2"]
        log(f"{name}: trained {len(losses[name])} steps in {seconds[name]:.0f}s, final loss {res['train_loss']:.3f}")
    acc = {m: {} for m in ("direct", "cot", "cot_self_consistency", "cot_checked_retries")}
    examples = {}
    for k, probs in evals.items():
        prompts = [p.prompt for p in probs]
        for name in ("direct", "cot"):
            texts = greedy_answers(models[name], tok, prompts)
            acc[name][k] = float(np.mean([final_answer(t) == p.answer for t, p in zip(texts, probs)]))
            examples.setdefault(k, {})[name] = texts[0]
        votes = self_consistency(sample_responses(models["cot"], tok, prompts, cfg.samples, max_new_tokens=48,
                                                  seed=cfg.seed + k), extract=final_answer)
        acc["cot_self_consistency"][k] = float(np.mean([v == p.answer for v, p in zip(votes, probs)]))
        by_prompt = dict(zip(prompts, probs))
        texts, _, _ = reflect(
            lambda ps, a: greedy_answers(models["cot"], tok, ps, temperature=0.0 if a == 0 else 1.0, seed=a),
            lambda ps, ts: [check_steps(by_prompt[p], t) for p, t in zip(ps, ts)], prompts, 1.0, cfg.tries)
        acc["cot_checked_retries"][k] = float(np.mean([final_answer(t) == p.answer for t, p in zip(texts, probs)]))
        examples[k]["prompt"], examples[k]["answer"] = probs[0].prompt, probs[0].answer
        log(f"{k} steps: " + ", ".join(f"{m} {acc[m][k]:.2f}" for m in acc))
    return {"config": dataclasses.asdict(cfg), "accuracy": acc, "chance": 1 / cfg.mod, "seconds": seconds,
            "loss_curves": losses, "examples": examples, "wall_s": time.time() - t0, "models": models,
            "tokenizer": tok}
