"""`fit` moved into the one training loop (minigpt/loop.py); this name stays for existing imports."""
from minigpt.loop import fit  # noqa: F401
