"""The training stages of the recipe: pretrain → sft → reward → ppo (each a config dataclass + a function)."""
