r"""Small instruction-tuning tools for the model-family lessons: SFT on (system, prompt, response)
triples, and best-of-N sampling against a reward model.

`sft_on` is stage 2 (stages/sft.py) reduced to "N steps over these examples", with an optional
system message per example (GPT-4's chat template: <|system|> role instruction <|end|> first):

    L2 = -1/|A| Σ_{t ∈ A} log P(u_t | u_<t)        A = the assistant's tokens only

`best_of_n` is the simplest way to optimise a policy against a reward model: sample N responses
and keep the one the RM scores highest. As N grows it approaches what RL against the same RM
converges to (with a KL budget of about log N − (N−1)/N nats), so it shows what an RM *wants*
without the cost of PPO (notebook 08 runs PPO itself).

    python -m minigpt.experiments.instruct       # SFT a random tiny model for a few steps on 8 examples
"""
import numpy as np

from minigpt.evaluate import answer_prompts
from minigpt.inference import pick_best
from minigpt.loop import fit
from minigpt.scoring import score_texts
from minigpt.stages.sft import make_batch, sft_losses
from minigpt.tokenizer.chat_template import chat_ids, sft_example


def sft_on(model, tok, examples, steps, batch_size=32, lr=1e-3, seed=0, aux_lm_coef=0.0, progress=False):
    """Fine-tune on examples [(system or None, prompt text, response)] for `steps` steps; returns the history."""
    if not examples:
        raise ValueError("sft_on needs at least one (system, prompt, response) example")
    block_size = model.config.block_size
    encoded = [sft_example(tok, p, r, system=s, block_size=block_size) for s, p, r in examples]
    pad = chat_ids(tok)["pad"]

    def loss_fn(step, rng):
        rows = rng.choice(len(encoded), size=min(batch_size, len(encoded)), replace=False)
        loss, l2, _ = sft_losses(model, *make_batch([encoded[i] for i in rows], pad), aux_lm_coef)
        return loss, {"l2": l2.item()}

    return fit(model, loss_fn, steps=steps, lr=lr, warmup=min(10, steps // 5 + 1), seed=seed, progress=progress,
               desc="sft")


def best_of_n(policy, rm, tok, prompts, n, temperature=1.0, seed=0, system=None):
    """For each prompt, sample n responses and return the one the reward model scores highest
    (sampling and scoring around `inference.pick_best`, which only chooses).

    Returns (texts, rewards): the chosen responses and their RM scores.
    """
    if n < 1:
        raise ValueError(f"n must be ≥ 1, got {n}")
    repeated = [p for p in prompts for _ in range(n)]
    texts = answer_prompts(policy, tok, repeated, mode="chat", temperature=temperature, seed=seed, system=system)
    scores = score_texts(rm, tok, repeated, texts).reshape(len(prompts), n)
    chosen, best = pick_best([texts[i * n:(i + 1) * n] for i in range(len(prompts))], scores)
    return chosen, scores[np.arange(len(prompts)), best]


def preference_rate(rm, tok, prompts, texts_a, texts_b):
    """Fraction of prompts on which the reward model scores response a above response b."""
    ra, rb = score_texts(rm, tok, prompts, list(texts_a)), score_texts(rm, tok, prompts, list(texts_b))
    return float((ra > rb).mean())


if __name__ == "__main__":
    from minigpt.nn.gpt import GPT, GPTConfig
    from minigpt.data.assistant import world_tokenizer
    tok = world_tokenizer()
    m = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=48, n_layer=1, n_head=2, n_embd=32))
    ex = [(None, f"What is {a}+1?", str(a + 1)) for a in range(8)]
    h = sft_on(m, tok, ex, steps=30, batch_size=8, lr=3e-3)
    print(f"L2 {h['l2'][0]:.3f} -> {h['l2'][-1]:.3f}")
