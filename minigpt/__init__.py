"""minigpt: a GPT-style assistant built end to end on a tiny NumPy autograd engine."""
__version__ = "0.1.0"
