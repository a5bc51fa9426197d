"""Tokenizers: byte-level BPE (GPT-2 style, tiktoken-compatible) and character-level.

    from minigpt.tokenizer import BPETokenizer, CHAT_SPECIAL_TOKENS
    tok = BPETokenizer.train(text, vocab_size=1024)          # specials: CHAT_SPECIAL_TOKENS
    ids = tok.encode("hello<|endoftext|>", allowed_special="all")
    tok.save("tok.json"); tok = load_tokenizer("tok.json")

Files: base.py (special tokens, save/load), patterns.py (regex pre-split), bpe_train.py (fast
training), bpe_naive.py (the readable reference loop), bpe.py (BPETokenizer), char.py
(CharTokenizer), show.py (coloured token display for notebooks).
"""
from .base import CHAT_SPECIAL_TOKENS, EOT, Tokenizer, load_tokenizer
from .bpe import BPETokenizer
from .bpe_train import train_bpe
from .char import CharTokenizer
from .patterns import GPT2_PATTERN, GPT4_PATTERN

__all__ = ["BPETokenizer", "CharTokenizer", "Tokenizer", "load_tokenizer", "train_bpe",
           "CHAT_SPECIAL_TOKENS", "EOT", "GPT2_PATTERN", "GPT4_PATTERN"]
