"""Experiments beyond the four stages: notebook 09's (shared with benchmarks/beyond.py) and notebook 11's.

Each module has a config dataclass (full sizes by default, `.quick()` for CI) and a `run_*` function
returning a JSON-able dict of numbers (plus the trained models under "models" where useful):

    alignment.py   PPO vs DPO vs GRPO from one SFT model and reward model; best-of-N; reflection
    blocks.py      GPT-2 block vs LLaMA block (RMSNorm, SwiGLU, RoPE); INT8/INT4 quantization; LoRA SFT
    reasoning.py   chain of thought on multi-step modular addition; self-consistency; checked retries
    rag.py         retrieval-augmented reading vs no retrieval (hallucination) on a toy knowledge base

    python benchmarks/beyond.py --quick

The model-family tools of notebook 11 (functions, no config):

    mlm.py           BERT's masked language model on the same engine
    classify.py      GPT-1: fine-tune to classify with the LM loss as an auxiliary; linear probes
    instruct.py      SFT on (system, prompt, response) triples; best-of-N against a reward model
    selfinstruct.py  Self-Instruct / Alpaca: a model writes instructions, the gold labeler answers
"""
