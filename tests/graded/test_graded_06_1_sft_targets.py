"""Graded checks for exercise 06.1: sft_targets (solutions/ex06_sft.py)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from _props import expect_equal

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


@st.composite
def chats(draw):
    """A batch of well-formed chats: turns U <user text> A <reply> E, the last reply possibly cut off by
    truncation, padding on the left or the right (never inside a reply)."""
    B = draw(st.integers(1, 4))
    rows = []
    for _ in range(B):
        row = []
        for turn in range(draw(st.integers(0, 3))):
            row += [U] + draw(st.lists(st.integers(1, 4), max_size=3)) + [A] + draw(st.lists(st.integers(1, 4), max_size=3)) + [E]
        truncated = draw(st.booleans()) and row
        if truncated:
            row = row[:-1] + draw(st.lists(st.integers(1, 4), max_size=2))  # the last reply runs to the end
        rows.append((row, truncated))
    T = max(2, max(len(r) for r, _ in rows) + draw(st.integers(0, 2)))
    out = []
    for row, truncated in rows:
        pad = [P] * (T - len(row))
        out.append(pad + row if truncated or draw(st.booleans()) else row + pad)
    return np.array(out, dtype=draw(st.sampled_from([np.int64, np.int32])))


@pytest.mark.points(2)
@given(ids=chats())
def test_property_random_chats(impl, ids):
    """targets[t] = ids[t+1] where token t+1 is inside a reply (after A, up to and including its E), else ignore_index."""
    inputs, targets = impl.sft_targets(ids, A, E)
    expect_equal(np.asarray(inputs), ids[:, :-1], "inputs = ids[:, :-1]", {"ids": ids})
    expected = np.array([targets_ref(row.tolist(), A, E, X) for row in ids]).reshape(ids.shape[0], ids.shape[1] - 1)
    expect_equal(np.asarray(targets), expected, "targets[t] = ids[t+1] for reply tokens (their closing E included), else -100", {"ids": ids})
