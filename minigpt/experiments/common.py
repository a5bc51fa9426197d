"""Helpers shared by the experiments: train a fresh chat model on (prompt, response) pairs, answer prompts."""
import dataclasses
import os

from minigpt.evaluate import answer_prompts
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.stages import sft


def train_chat_model(tok, demos, out_dir, model: GPTConfig, epochs=2, lr=2e-3, batch_size=32, seed=0, progress=False):
    """A GPT of config `model` (its vocab_size set from `tok`) trained from scratch with SFT (prompt-masked loss)
    on demos; returns (model, SFT result dict)."""
    model = GPT(dataclasses.replace(model, vocab_size=tok.vocab_size), seed=seed)
    cfg = sft.SFTConfig(out_dir=os.path.join(out_dir), epochs=epochs, batch_size=batch_size,
                        optim=dict(lr=lr, min_lr=lr / 10, warmup_iters=20), eval_interval=10**9, seed=seed)
    res = sft.train(cfg, model, tok, demos, progress=progress)
    return model, res


def greedy_answers(model, tok, prompts, max_new_tokens=48, temperature=0.0, seed=0):
    """One decoded response per prompt string (greedy unless a temperature is given)."""
    return answer_prompts(model, tok, prompts, temperature=temperature, seed=seed, max_new_tokens=max_new_tokens)
