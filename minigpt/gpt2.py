r"""A bridge to a real model: load OpenAI's GPT-2 weights into minigpt's own GPT and sample from them.

minigpt's GPT (nn/gpt.py) is GPT-2's architecture: learned positions, pre-LN blocks, tanh-GELU MLP,
LayerNorm ε = 1e-5, biases everywhere, output head tied to the token embedding. So the released
weights load as they are, after renaming and one transpose. This module reads the Hugging Face
layout of `GPT2LMHeadModel` (`model.safetensors`, as published in the `openai-community/gpt2` repo):

    Hugging Face name                shape            minigpt name               note
    wte.weight                       (V, C)           wte.weight                 also the output head
    wpe.weight                       (T, C)           wpe.weight
    h.N.ln_1.weight / .bias          (C,)             blocks.N.ln1.weight / .bias
    h.N.attn.c_attn.weight / .bias   (C, 3C) / (3C,)  blocks.N.attn.qkv.*        Conv1D: weight stored (in, out)
    h.N.attn.c_proj.weight / .bias   (C, C) / (C,)    blocks.N.attn.proj.*       Conv1D
    h.N.ln_2.weight / .bias          (C,)             blocks.N.ln2.*
    h.N.mlp.c_fc.weight / .bias      (C, 4C) / (4C,)  blocks.N.mlp.fc.*          Conv1D
    h.N.mlp.c_proj.weight / .bias    (4C, C) / (C,)   blocks.N.mlp.proj.*        Conv1D
    ln_f.weight / .bias              (C,)             ln_f.*

Subtle: GPT-2's `Conv1D` computes y = x W + b with W stored as (in, out); minigpt's `Linear` computes
y = x Wᵀ + b with W stored as (out, in). Every Conv1D weight is transposed on the way in. The fused
c_attn output is [q | k | v], each split into heads the same way minigpt's packed attention splits it.
Names may carry a `transformer.` prefix (files saved by newer `transformers`); `lm_head.weight` (the
tied head, a copy of wte) and the causal-mask buffers `h.N.attn.bias` / `masked_bias` are skipped.

Get the real 124M checkpoint (548 MB; the one download in this module is yours to run):

    pip install huggingface_hub tiktoken
    huggingface-cli download openai-community/gpt2 model.safetensors config.json --local-dir gpt2
    python -m minigpt.gpt2 gpt2 --prompt "The meaning of life is" --max-new-tokens 40

(or fetch https://huggingface.co/openai-community/gpt2/resolve/main/model.safetensors and config.json
with any browser). Tokens are GPT-2's byte-level BPE, through tiktoken's "gpt2" encoding.
"""
import argparse
import os
import re
import sys

import numpy as np

from minigpt.checkpoint import load_json, load_tensors
from minigpt.generate import generate
from minigpt.nn.gpt import GPT, GPTConfig

CONV1D = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")  # stored (in, out): transpose
RENAME = {"ln_1": "ln1", "ln_2": "ln2", "attn.c_attn": "attn.qkv", "attn.c_proj": "attn.proj",
          "mlp.c_fc": "mlp.fc", "mlp.c_proj": "mlp.proj"}
SKIP = re.compile(r"^(lm_head\.weight|h\.\d+\.attn\.(bias|masked_bias))$")  # tied head copy, mask buffers
BLOCK = re.compile(r"^h\.(\d+)\.(ln_1|ln_2|attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.(weight|bias)$")


# -----------------------------------------------------------------------------
# names and shapes

def convert_state(hf_state):
    """Hugging Face GPT-2 tensors {name: array} → minigpt GPT state {name: float32 array}.

    Example: 'h.0.attn.c_attn.weight' (C, 3C) → 'blocks.0.attn.qkv.weight' (3C, C), transposed.
    Unknown names raise (a LLaMA or BERT file is not silently half-loaded).
    """
    out = {}
    for name, a in hf_state.items():
        name = name[len("transformer."):] if name.startswith("transformer.") else name
        if SKIP.match(name):
            continue
        m = BLOCK.match(name)
        if m:
            layer, part, kind = m.groups()
            if part in CONV1D and kind == "weight":
                if a.ndim != 2:
                    raise ValueError(f"GPT-2 weight {name} should be 2-D (Conv1D, in × out), got shape {a.shape}")
                a = a.T  # (in, out) → (out, in)
            out[f"blocks.{layer}.{RENAME[part]}.{kind}"] = a
        elif name in ("wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias"):
            out[name] = a
        else:
            raise ValueError(f"unexpected tensor {name!r}: not a GPT-2 (GPT2LMHeadModel) checkpoint?")
    for need in ("wte.weight", "wpe.weight"):
        if need not in out:
            raise ValueError(f"no {need} in the file: not a GPT-2 (GPT2LMHeadModel) checkpoint?")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def infer_config(state, n_head=None, hf_config=None):
    """GPTConfig for a converted state. Shapes give V, T, C and the layer count; the head count does not
    show in any shape, so it comes from the Hugging Face config.json (n_head), else `n_head`, else GPT-2's
    convention of 64-wide heads (C / 64: 12 for the 124M model)."""
    V, C = state["wte.weight"].shape
    T = state["wpe.weight"].shape[0]
    layers = {int(k.split(".")[1]) for k in state if k.startswith("blocks.")}
    L = max(layers) + 1 if layers else 0
    if layers != set(range(L)):
        raise ValueError(f"blocks {sorted(set(range(L)) - layers)} are missing from the file")
    hf_config = hf_config or {}
    eps = hf_config.get("layer_norm_epsilon", 1e-5)
    if abs(eps - 1e-5) > 1e-12:
        raise ValueError(f"layer_norm_epsilon {eps} in config.json: minigpt's LayerNorm uses 1e-5 (GPT-2's)")
    act = hf_config.get("activation_function", "gelu_new")
    if act not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"activation_function {act!r} in config.json: minigpt's GELU is the tanh one (gelu_new)")
    n_head = hf_config.get("n_head") or n_head or max(1, C // 64)
    return GPTConfig(vocab_size=V, block_size=T, n_layer=L, n_head=n_head, n_embd=C, bias=True, dropout=0.0)


def load_gpt2(path, n_head=None):
    """minigpt GPT with GPT-2 weights from `path`: a model.safetensors file, or a directory holding one
    (and, optionally, Hugging Face's config.json next to it). Returns the model in eval mode."""
    path = os.fspath(path)
    file = os.path.join(path, "model.safetensors") if os.path.isdir(path) else path
    if not os.path.exists(file):
        raise FileNotFoundError(f"no GPT-2 weights at {file}: download model.safetensors first "
                                f"(python -m minigpt.gpt2 --help says how)")
    cfg_path = os.path.join(os.path.dirname(os.path.abspath(file)), "config.json")
    hf_config = load_json(cfg_path) if os.path.exists(cfg_path) else None
    state = convert_state(load_tensors(file))
    model = GPT(infer_config(state, n_head, hf_config))
    model.load_state_dict(state)
    return model.eval()


# -----------------------------------------------------------------------------
# tokens and text

def gpt2_encoding():
    """tiktoken's "gpt2" encoding (GPT-2's 50,257-token byte-level BPE); a clear error without tiktoken.
    tiktoken fetches the vocabulary once and caches it (set TIKTOKEN_CACHE_DIR to choose where)."""
    try:
        import tiktoken
    except ImportError as e:
        raise ImportError("GPT-2's tokenizer comes from tiktoken: pip install tiktoken") from e
    try:
        return tiktoken.get_encoding("gpt2")
    except Exception as e:  # offline and not cached yet: tiktoken raises requests' errors
        raise RuntimeError(f"tiktoken could not load the 'gpt2' vocabulary (it downloads it once, then caches "
                           f"it): {type(e).__name__}") from e


def complete(model, enc, prompt, max_new_tokens=40, temperature=0.8, top_k=40, seed=0):
    """Continue `prompt` with `model` (encode with `enc`, sample with minigpt's sampler, decode)."""
    eot = enc.eot_token
    ids = enc.encode(prompt) if prompt else [eot]
    ids = ids[-model.config.block_size:]
    out = generate(model, ids, max_new_tokens, temperature, top_k, stop_ids=[eot], seed=seed)
    return enc.decode([i for i in out if i != eot])


# -----------------------------------------------------------------------------
# CLI

def add_cli_args(p):
    p.add_argument("weights", help="model.safetensors of GPT2LMHeadModel, or the directory holding it")
    p.add_argument("--prompt", default="The meaning of life is", help="text to continue (default: %(default)s)")
    p.add_argument("--max-new-tokens", type=int, default=40, help="tokens per sample (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=0.8, help="sampling temperature, 0 = greedy (default: %(default)s)")
    p.add_argument("--top-k", type=int, default=40, help="sample among the k most likely tokens (default: %(default)s)")
    p.add_argument("--num-samples", type=int, default=1, help="how many continuations (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first sample (default: %(default)s)")


def cli_main(args):
    try:
        model = load_gpt2(args.weights)
        enc = gpt2_encoding()
    except (FileNotFoundError, ValueError, ImportError, RuntimeError) as e:
        print(f"minigpt gpt2: {e}", file=sys.stderr)
        return 2
    c = model.config
    print(f"GPT-2 in minigpt: {model.num_parameters():,} parameters, {c.n_layer} blocks, {c.n_head} heads, "
          f"width {c.n_embd}, context {c.block_size}", file=sys.stderr)
    for i in range(args.num_samples):
        print(args.prompt + complete(model, enc, args.prompt, args.max_new_tokens, args.temperature, args.top_k,
                                     seed=args.seed + i))
        print("-" * 40)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog="download: huggingface-cli download openai-community/gpt2 model.safetensors "
                                       "config.json --local-dir gpt2")
    add_cli_args(p)
    return cli_main(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
