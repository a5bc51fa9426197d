"""`python -m minigpt ...` is the `minigpt` command (for when its script is not on PATH)."""
import sys

from minigpt.cli import main

if __name__ == "__main__":
    sys.exit(main())
