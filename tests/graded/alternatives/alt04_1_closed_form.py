"""04.1 gpt_param_count by the closed form N = L(12C² + 13C) + VC + TC + 2C, with the bias and head terms adjusted."""
import numbers


def gpt_param_count(vocab_size, block_size, n_layer, n_embd, bias=True, tied_head=True):
    vals = (vocab_size, block_size, n_layer, n_embd)
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in vals):
        raise ValueError(f"config sizes must be integers, got {vals}")
    V, T, L, C = (int(v) for v in vals)
    if min(V, T, C) < 1 or L < 0:
        raise ValueError(f"need vocab_size, block_size, n_embd >= 1 and n_layer >= 0, got {vals}")
    per_block = 12 * C * C + (13 * C if bias else 2 * C)  # without biases only the two LayerNorm gains remain
    final_norm = 2 * C if bias else C
    return L * per_block + V * C + T * C + final_norm + (0 if tied_head else V * C)
