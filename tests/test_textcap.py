"""minigpt.textcap.cap_lines: one cap for every feedback message (the grader's table and the graded conftest)."""
from minigpt.textcap import cap_lines


def test_short_text_is_unchanged():
    assert cap_lines("ACTUAL: 1.5\nEXPECTED: 2.5", 100) == "ACTUAL: 1.5\nEXPECTED: 2.5"


def test_long_text_keeps_whole_lines_from_head_and_tail():
    text = "\n".join(f"line {i}: 0.{i:06d}" for i in range(500))
    out = cap_lines(text, 200, "rerun verbosely")
    assert len(out) <= 200 + 60
    kept = out.splitlines()
    marker = next(i for i, ln in enumerate(kept) if ln.startswith("..."))
    assert kept[0] == "line 0: 0.000000" and kept[-1] == "line 499: 0.000499"
    assert all(ln in text.splitlines() for ln in kept[:marker] + kept[marker + 1:]), "no line is cut in the middle"
    cut = 500 - len(kept) + 1
    assert kept[marker] == f"... [{cut} lines cut: rerun verbosely] ..."


def test_one_enormous_line_keeps_both_ends():
    text = "x" * 50 + "y" * 1000 + "z" * 50
    out = cap_lines(text, 100)
    assert out.startswith("x" * 50) and out.endswith("z" * 50) and "[1000 characters cut]" in out
