"""Mutant of 04.1 (the learned position embeddings (T, C) forgotten)."""


def gpt_param_count(vocab_size, block_size, n_layer, n_embd, bias=True, tied_head=True):
    if isinstance(n_embd, float) or min(vocab_size, block_size, n_embd) < 1 or n_layer < 0:
        raise ValueError("bad config")
    V, T, L, C = int(vocab_size), int(block_size), int(n_layer), int(n_embd)
    b = 1 if bias else 0
    ln = 2 * C if bias else C
    block = ln + (3 * C * C + b * 3 * C) + (C * C + b * C) + ln + (4 * C * C + b * 4 * C) + (4 * C * C + b * C)
    return V * C + L * block + ln + (0 if tied_head else C * V)
