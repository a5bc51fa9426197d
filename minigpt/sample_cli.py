"""`minigpt sample`: continue a prompt with a trained checkpoint.

    minigpt sample --ckpt runs/pretrain/ckpt --prompt "Once" --max-new-tokens 200 --temperature 0.8 --top-k 20
"""
from dataclasses import dataclass

from minigpt.chat import POLICY_STAGES
from minigpt.config import Config, ConfigError, nonnegative, positive
from minigpt.generate import generate
from minigpt.stages.common import load_model


@dataclass
class SampleConfig(Config):
    ckpt: str  # checkpoint directory of a language model (pretrain, sft, ppo, dpo or grpo stage)
    prompt: str = ""  # text to continue (empty: start from <|endoftext|>)
    max_new_tokens: int = 200  # tokens to generate per sample
    temperature: float = 0.8  # sampling temperature (0 = greedy)
    top_k: int | None = None  # sample among the k most likely tokens (none = all)
    top_p: float | None = None  # sample from the smallest set of tokens whose probability reaches p (none = off)
    num_samples: int = 1  # how many continuations to print
    seed: int = 0  # seed of the first sample (sample i uses seed + i)

    def validate(self):
        positive(self, "max_new_tokens", "num_samples")
        nonnegative(self, "temperature", "seed")
        if self.top_k is not None:
            positive(self, "top_k")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError("top_p", f"must be in (0, 1], got {self.top_p}")


def main(cfg):
    model, tok, _ = load_model(cfg.ckpt, expect_stage=POLICY_STAGES)
    ids = tok.encode(cfg.prompt, allowed_special="all") if cfg.prompt else [tok.eot_id]
    ids = ids[-model.config.block_size:]
    for i in range(cfg.num_samples):
        out = generate(model, ids, cfg.max_new_tokens, cfg.temperature, cfg.top_k, cfg.top_p,
                       stop_ids=[tok.eot_id], seed=cfg.seed + i)
        print(cfg.prompt + tok.decode(out))
        print("-" * 40)
    return 0
