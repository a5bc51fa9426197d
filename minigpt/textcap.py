r"""Cap long feedback text as a whole, at line ends: never inside a number.

A failed graded check's message can hold a whole input array and ACTUAL vs EXPECTED. Cutting it
at a fixed character count (as `text[:200]`) loses the end and can split a number. `cap_lines`
keeps the first and the last lines that fit, half of `limit` each, and says how many lines it cut:

    cap_lines("\n".join(map(str, range(1000))), 40, "see --verbose")
    # '0\n1\n...\n... [992 lines cut: see --verbose] ...\n996\n...\n999'

Used by the grader's score table (minigpt/grade.py) and by the graded checks' conftest, which caps
each message before it travels to the grader.
"""
from __future__ import annotations


def cap_lines(text: str, limit: int, hint: str = "") -> str:
    """`text` if it has at most `limit` characters, else its head and tail lines (limit/2 each) around a cut marker.

    hint: said inside the marker, e.g. how to see everything. One enormous line keeps its first
    and last limit/2 characters instead.
    """
    if len(text) <= limit:
        return text
    lines = text.splitlines()
    head, size = [], 0
    for line in lines:
        if size + len(line) + 1 > limit // 2:
            break
        head.append(line)
        size += len(line) + 1
    tail, size = [], 0
    for line in reversed(lines[len(head):]):
        if size + len(line) + 1 > limit // 2:
            break
        tail.insert(0, line)
        size += len(line) + 1
    note = f": {hint}" if hint else ""
    if not head and not tail:
        return text[: limit // 2] + f" ... [{len(text) - limit} characters cut{note}] ... " + text[-(limit // 2):]
    return "\n".join(head + [f"... [{len(lines) - len(head) - len(tail)} lines cut{note}] ..."] + tail)
