"""Graded checks for exercise 06.1: sft_targets (solutions/ex06_sft.py)."""
import numpy as np
import pytest

pytestmark = pytest.mark.ex_06_1_sft_targets

U, A, E, P = 90, 91, 92, 0  # user marker, assistant start, end of reply, padding
X = -100


def targets_ref(row, start, end, ignore):
    """Token t is a reply token iff the closest start/end marker strictly before t is a start."""
    out = []
    for t in range(1, len(row)):
        markers = [tok for tok in row[:t] if tok in (start, end)]
        out.append(row[t] if markers and markers[-1] == start else ignore)
    return out


@pytest.mark.points(2)
def test_worked_example(impl):
    inputs, targets = impl.sft_targets(np.array([U, 7, A, 5, E, P]), A, E)
    np.testing.assert_array_equal(inputs, [U, 7, A, 5, E], err_msg="inputs = ids[:-1]")
    np.testing.assert_array_equal(targets, [X, X, 5, E, X], err_msg="targets = ids[1:] where the token is part of the reply (5 and the closing E), else -100")


@pytest.mark.points(2)
def test_shift_by_one(impl):
    """The logits at position t predict token t + 1: the reply token 5 sits at target index 2, not 3."""
    _, targets = impl.sft_targets(np.array([[A, 5, 6, E]]), A, E)
    np.testing.assert_array_equal(targets, [[5, 6, E]], err_msg="targets must be shifted by one: targets[t] = ids[t + 1]")


def test_two_turns_and_markers(impl):
    ids = np.array([[U, 1, A, 2, E, U, 3, A, 4, 4, E, P, P]])
    _, targets = impl.sft_targets(ids, A, E)
    np.testing.assert_array_equal(targets, [[X, X, 2, E, X, X, X, 4, 4, E, X, X]],
                                  err_msg="every reply counts, its closing end token included; user text, the assistant marker and padding do not")


def test_truncated_reply_and_no_reply(impl):
    _, targets = impl.sft_targets(np.array([[U, 1, A, 2, 3], [U, 1, 2, 3, 4]]), A, E)
    np.testing.assert_array_equal(targets, [[X, X, 2, 3], [X, X, X, X]], err_msg="a reply without an end token runs to the end; a row without a reply is all ignore_index")


def test_shapes_length_one_and_ignore_index(impl):
    inputs, targets = impl.sft_targets(np.array([[A], [U]]), A, E)
    assert np.shape(inputs) == (2, 0) and np.shape(targets) == (2, 0), f"length-1 rows give (B, 0) arrays, got {np.shape(inputs)}, {np.shape(targets)}"
    _, targets = impl.sft_targets(np.array([U, A, 5, E]), A, E, ignore_index=-1)
    np.testing.assert_array_equal(targets, [-1, 5, E], err_msg="use the ignore_index argument")


@pytest.mark.points(2)
def test_random_batch_against_reference(impl):
    rng = np.random.default_rng(601)
    ids = rng.choice([1, 2, 3, 4, U, A, E, P], size=(6, 15), p=[0.15, 0.15, 0.15, 0.15, 0.1, 0.1, 0.1, 0.1])
    inputs, targets = impl.sft_targets(ids, A, E)
    assert np.shape(targets) == (6, 14), f"targets must be (B, T - 1) = (6, 14), got {np.shape(targets)}"
    np.testing.assert_array_equal(inputs, ids[:, :-1], err_msg="inputs = ids[:, :-1]")
    for b in range(6):
        np.testing.assert_array_equal(targets[b], targets_ref(ids[b].tolist(), A, E, X), err_msg=f"row {b}: {ids[b].tolist()}")
