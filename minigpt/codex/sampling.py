r"""Sample Toy programs from a code model and score them by execution: pass@k per temperature.

Codex's evaluation loop (Chen et al. 2021, §2): for each problem, sample n programs at temperature
τ, run each against the hidden unit tests, count the c that pass, and report the unbiased pass@k.
Higher τ gives more diverse samples: pass@1 prefers a low τ (the single most likely program),
pass@k for large k a higher one (more different tries) — Codex's Figure 5.

Layer: beside generate.py, below the stages (it samples with minigpt.generate.sample_batch).

    from minigpt.codex.sampling import code_tokenizer, sample_programs, pass_at_k_table
"""
import numpy as np

from minigpt.codex.tasks import check_program, mean_pass_at_k
from minigpt.generate import sample_batch
from minigpt.tokenizer import CharTokenizer

# every character a spec or a Toy program of the problem set can contain
CODE_ALPHABET = "".join(sorted(set("abcdefghijklmnopqrstuvwxyz0123456789 ,#=+-*/%<>(){};\n")))


def code_tokenizer():
    """Character tokenizer over CODE_ALPHABET (+ <|endoftext|> to separate documents)."""
    return CharTokenizer.train(CODE_ALPHABET, special_tokens=["<|endoftext|>"])


def sample_programs(model, tok, problems, n, temperature, seed=0, max_new_tokens=None):
    """n sampled programs (strings, one line each) per problem → list of lists."""
    newline = tok.encode_ordinary("\n")[0]
    contexts = [[tok.eot_id] + tok.encode_ordinary(p.prompt) for p in problems]
    max_new = max_new_tokens or model.config.block_size - max(len(c) for c in contexts)
    outs = sample_batch(model, [c for c in contexts for _ in range(n)], max_new, (newline, tok.eot_id),
                        temperature=temperature, seed=seed)
    texts = [tok.decode([i for i in o if i not in (newline, tok.eot_id)]) for o in outs]
    return [texts[i * n:(i + 1) * n] for i in range(len(problems))]


def pass_at_k_table(model, tok, problems, n, temperatures, ks=(1, 10), seed=0):
    """{temperature: {"pass@k": value, ..., "correct": [c per problem]}} from n samples per problem."""
    out = {}
    for j, tau in enumerate(temperatures):
        samples = sample_programs(model, tok, problems, n, tau, seed=seed + j)
        counts = [sum(check_program(s, p) for s in ss) for p, ss in zip(problems, samples)]
        out[tau] = {f"pass@{k}": mean_pass_at_k(counts, n, k) for k in ks if k <= n}
        out[tau]["correct"] = counts
        out[tau]["samples"] = samples
    return out


def best_temperature(table, k):
    """The temperature with the highest pass@k in a `pass_at_k_table`."""
    return max(table, key=lambda t: table[t][f"pass@{k}"])


def distinct_fraction(samples):
    """Mean fraction of distinct programs among a problem's samples (diversity)."""
    return float(np.mean([len(set(s)) / len(s) for s in samples]))
