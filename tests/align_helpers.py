"""Tiny models and checkpoints shared by the alignment tests (sft, reward, ppo, chat)."""
import numpy as np

from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.stages.common import save_stage


def world_tok():
    from minigpt.data.assistant import world_tokenizer
    return world_tokenizer()


def tiny_gpt(tok, seed=0, block_size=72, n_embd=32):
    return GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=block_size, n_layer=1, n_head=2, n_embd=n_embd), seed=seed)


def tiny_checkpoints(root):
    """Save untrained tiny pretrain / sft / reward checkpoints under root; returns their paths and the tokenizer."""
    from minigpt.nn.heads import RewardModel
    tok = world_tok()
    paths = {}
    for stage in ("pretrain", "sft"):
        paths[stage] = str(root / stage)
        save_stage(paths[stage], tiny_gpt(tok, seed=1), tok, stage)
    paths["reward"] = str(root / "reward")
    save_stage(paths["reward"], RewardModel.from_gpt(tiny_gpt(tok, seed=1), seed=2), tok, "reward")
    return paths, tok


def naive_log_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
