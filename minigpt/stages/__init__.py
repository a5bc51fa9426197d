"""The training stages of the recipe: pretrain → sft → reward → ppo, and dpo, grpo (each a config dataclass + a function).

Only stages live here; what they share sits below them (tokenizer/chat_template.py, generate.py,
scoring.py, rl_math.py) and the lessons built on them sit above (experiments/).
"""
