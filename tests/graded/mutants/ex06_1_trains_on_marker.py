"""Mutant of 06.1: also trains on the assistant_start marker, which belongs to the prompt."""
import numpy as np

from _sft_common import reply_mask


def sft_targets(token_ids, assistant_start_id, end_id, ignore_index=-100):
    ids = np.asarray(token_ids)
    rows = ids.reshape(-1, ids.shape[-1])
    mask = reply_mask(rows, assistant_start_id, end_id, include_start=True)
    targets = np.where(mask[:, 1:], rows[:, 1:], ignore_index)
    return (rows[:, :-1][0], targets[0]) if ids.ndim == 1 else (rows[:, :-1], targets)
