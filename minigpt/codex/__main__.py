"""`python -m minigpt.codex [PROGRAM [X]]`: run a Toy program on x, or show a few problems and pass@k."""
import sys

from minigpt.codex.lang import run_program
from minigpt.codex.tasks import demo

if len(sys.argv) > 1:
    print(run_program(sys.argv[1], {"x": int(sys.argv[2]) if len(sys.argv) > 2 else 0}))
else:
    demo()
