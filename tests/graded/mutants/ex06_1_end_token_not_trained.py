"""Mutant of 06.1: leaves the closing end token out of the loss, so the model never learns to stop."""
import numpy as np

from _sft_common import reply_mask


def sft_targets(token_ids, assistant_start_id, end_id, ignore_index=-100):
    ids = np.asarray(token_ids)
    rows = ids.reshape(-1, ids.shape[-1])
    mask = reply_mask(rows, assistant_start_id, end_id, include_end=False)
    targets = np.where(mask[:, 1:], rows[:, 1:], ignore_index)
    return (rows[:, :-1][0], targets[0]) if ids.ndim == 1 else (rows[:, :-1], targets)
