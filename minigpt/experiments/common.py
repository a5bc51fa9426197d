"""Helpers shared by the experiments: train a fresh chat model on (prompt, response) pairs, answer prompts."""
import os

from minigpt.evaluate import answer_prompts
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.stages import sft


def train_chat_model(tok, demos, out_dir, n_layer=2, n_head=4, n_embd=64, block_size=64, epochs=2, lr=2e-3,
                     batch_size=32, seed=0, progress=False, **gpt_options):
    """A GPT trained from scratch with SFT (prompt-masked loss) on demos; returns (model, SFT result dict)."""
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head,
                          n_embd=n_embd, **gpt_options), seed=seed)
    cfg = sft.SFTConfig(out_dir=os.path.join(out_dir), epochs=epochs, batch_size=batch_size, lr=lr, min_lr=lr / 10,
                        warmup_iters=20, eval_interval=10**9, seed=seed)
    res = sft.train(cfg, model, tok, demos, progress=progress)
    return model, res


def greedy_answers(model, tok, prompts, max_new_tokens=48, temperature=0.0, seed=0):
    """One decoded response per prompt string (greedy unless a temperature is given)."""
    return answer_prompts(model, tok, prompts, temperature=temperature, seed=seed, max_new_tokens=max_new_tokens)
