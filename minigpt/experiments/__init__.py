"""Experiments of notebook 09 ("beyond the four stages"), shared by the notebook and benchmarks/beyond.py.

Each module has a config dataclass (full sizes by default, `.quick()` for CI) and a `run_*` function
returning a JSON-able dict of numbers (plus the trained models under "models" where useful):

    alignment.py   PPO vs DPO vs GRPO from one SFT model and reward model; best-of-N; reflection
    blocks.py      GPT-2 block vs LLaMA block (RMSNorm, SwiGLU, RoPE); INT8/INT4 quantization; LoRA SFT
    reasoning.py   chain of thought on multi-step modular addition; self-consistency; checked retries
    rag.py         retrieval-augmented reading vs no retrieval (hallucination) on a toy knowledge base

    python benchmarks/beyond.py --quick
"""
