r"""Exercise for notebook 06 (supervised fine-tuning): train only on what the assistant says.

An SFT example is a whole chat rendered into one token sequence. The model still does
next-token prediction, but the loss only counts the assistant's reply tokens; prompt tokens
become `ignore_index`, which `cross_entropy` (exercise 05.1) skips.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_06_1_sft_targets
"""
from __future__ import annotations

import numpy as np


# -----------------------------------------------------------------------------
def sft_targets(token_ids, assistant_start_id, end_id, ignore_index=-100):
    r"""Exercise 06.1: next-token inputs and targets for SFT, with the loss masked to the replies.

    A chat is one sequence of token ids, for example
        <user> 2 + 3 ? <assistant> 5 <end> <user> 1 + 1 ? <assistant> 2 <end> <pad> <pad>
    The model reads inputs = ids[:, :-1] and must predict targets = ids[:, 1:]: the logits at
    position t predict token t + 1. The loss counts only tokens the assistant writes: the tokens
    after each assistant_start_id, up to and including the end_id that closes that reply (so the
    model learns to stop). Every other target (system and user text, the assistant_start_id
    marker itself, padding) becomes ignore_index. A reply cut off by truncation (no end_id)
    runs to the end of the sequence. Rows are well-formed chats: padding sits before the first
    turn or after the last one (either side), never inside a reply, and a reply always ends with
    end_id unless truncation cut it; the checks only use such rows.

    Args:
        token_ids: (B, T) or (T,) integer ids.
    Returns:
        (inputs, targets), each of shape (B, T − 1) (or (T − 1,) for 1-D input); targets holds
        the next token where the loss counts and ignore_index elsewhere.

    Example, with U = user, A = assistant_start_id, E = end_id, P = pad:
        ids     = [U, 7, A, 5, E, P]
        inputs  = [U, 7, A, 5, E]
        targets = [-100, -100, 5, E, -100]      (5 and E are the reply)
    """
    ### BEGIN SOLUTION
    ids = np.asarray(token_ids)
    if ids.ndim not in (1, 2):
        raise ValueError(f"token_ids must be (T,) or (B, T), got shape {ids.shape}")
    rows = ids.reshape(-1, ids.shape[-1])  # (B, T)
    in_reply = np.zeros(rows.shape, dtype=bool)  # (B, T): token t was written by the assistant
    for b in range(rows.shape[0]):
        inside = False
        for t, tok in enumerate(rows[b]):
            if inside:
                in_reply[b, t] = True
                if tok == end_id:
                    inside = False
            elif tok == assistant_start_id:
                inside = True
    inputs = rows[:, :-1]  # (B, T-1)
    targets = np.where(in_reply[:, 1:], rows[:, 1:], ignore_index)  # (B, T-1): target t is token t+1
    if ids.ndim == 1:
        return inputs[0], targets[0]
    return inputs, targets
    ### END SOLUTION
