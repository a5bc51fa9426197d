"""Data for minigpt: corpora, the toy assistant world (`minigpt.data.assistant`), batching.

Leaf utilities: nothing here imports the engine (nn/, stages/), so any layer may use them.
"""
