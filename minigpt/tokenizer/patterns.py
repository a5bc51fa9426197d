r"""Regex pre-split patterns: cut text into chunks before BPE, so merges never cross chunk borders.

Without a pre-split, BPE happily learns tokens like "dog." and "dog!" and "dog?" (one per
punctuation mark) and merges across word boundaries. GPT-2 first splits text into

    contractions  's 't 're 've 'm 'll 'd
    letters       ` ?\p{L}+`             an optional leading space + a run of letters (any script)
    numbers       ` ?\p{N}+`             an optional leading space + a run of digits
    punctuation   ` ?[^\s\p{L}\p{N}]+`   an optional leading space + other symbols
    whitespace    `\s+(?!\S)|\s+`        runs of whitespace, leaving the last space to the next word

and BPE runs inside each chunk. `\p{L}` / `\p{N}` are Unicode classes, which the stdlib `re`
module lacks; we use the `regex` package (tiktoken uses the same syntax).

    python -c "import regex; from minigpt.tokenizer.patterns import GPT2_PATTERN as P; print(regex.findall(P, \"I'll pay 1234 dollars!!  ok\"))"

A tokenizer file names its pattern, and a regex can be made to backtrack for seconds per
character, so a loaded tokenizer must use one of the known patterns below (`check_pattern`).
To try your own pattern, add it to `PATTERNS` first.
"""

# GPT-2's pattern (also r50k/p50k). Note: numbers are split only at non-digits, so "1234567" is one chunk.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# GPT-4-style pattern (cl100k): case-insensitive contractions, digits in groups of at most 3,
# newlines kept apart from other whitespace.
GPT4_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"""
                r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")

PATTERNS = {"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN}


def check_pattern(pattern: str) -> str:
    """Return `pattern` if it is one of `PATTERNS`' values, else raise ValueError naming the known ones.

    subtle: a crafted regex in a tokenizer.json could take seconds per character (catastrophic
    backtracking), so patterns are compared as strings and never run before they pass.
    """
    if pattern in PATTERNS.values():
        return pattern
    shown = pattern if len(pattern) <= 80 else pattern[:77] + "..."
    raise ValueError(f"unknown pre-split pattern {shown!r}: a BPE tokenizer must use one of the known patterns "
                     f"({', '.join(PATTERNS)} in minigpt/tokenizer/patterns.py); add yours to PATTERNS to use it")
