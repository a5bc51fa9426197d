"""06.1 sft_targets without a state machine: token t is in a reply when the last assistant_start_id
before it comes after the last end_id before it (running maxima of their positions)."""
import numpy as np


def sft_targets(token_ids, assistant_start_id, end_id, ignore_index=-100):
    ids = np.asarray(token_ids)
    if ids.ndim not in (1, 2):
        raise ValueError(f"token_ids must be 1-D or 2-D, got shape {ids.shape}")
    rows = np.atleast_2d(ids)  # (B, T)
    pos = np.arange(rows.shape[1])
    last_start = np.maximum.accumulate(np.where(rows == assistant_start_id, pos, -1), axis=1)
    last_end = np.maximum.accumulate(np.where(rows == end_id, pos, -1), axis=1)
    # the target at t is token t + 1: in a reply iff, up to and including token t, a start came after the last end
    in_reply = last_start[:, :-1] > last_end[:, :-1]
    inputs, targets = rows[:, :-1], np.where(in_reply, rows[:, 1:], ignore_index)
    return (inputs[0], targets[0]) if ids.ndim == 1 else (inputs, targets)
