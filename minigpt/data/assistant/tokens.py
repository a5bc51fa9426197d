"""The world's tokenizer and its pretraining token stream, shared by the pipeline, the course and the experiments.

    python -c "from minigpt.data.assistant import world_tokenizer; print(world_tokenizer().vocab_size)"
"""
from minigpt.data.assistant.corpus import make_pretrain_corpus
from minigpt.data.assistant.world import ALPHABET
from minigpt.data.tokens import encode_array, train_val_split
from minigpt.tokenizer import CHAT_SPECIAL_TOKENS, BPETokenizer, CharTokenizer


def world_tokenizer(spec="char", n_docs=4000, seed=0):
    """The world's tokenizer, with the chat special tokens.

    spec "char": one id per character of the world's alphabet. "bpe:N": notebook 01's byte-level BPE with N ids in
    all (256 bytes + merges + the special tokens), trained on the world's pretraining documents (n_docs, seed).
    """
    if spec == "char":
        return CharTokenizer.train(ALPHABET, special_tokens=CHAT_SPECIAL_TOKENS)
    if not spec.startswith("bpe:") or not spec[4:].isdigit():
        raise ValueError(f"tokenizer must be 'char' or 'bpe:N', got {spec!r}")
    return BPETokenizer.train("\n".join(make_pretrain_corpus(n_docs, seed=seed)), int(spec[4:]),
                              special_tokens=CHAT_SPECIAL_TOKENS)


def pretrain_tokens(tok, n_docs, seed):
    """The world's documents joined by <|endoftext|>, encoded: (train ids, val ids)."""
    text = "<|endoftext|>" + "<|endoftext|>".join(make_pretrain_corpus(n_docs, seed=seed))
    return train_val_split(encode_array(tok, text), 0.05)


def chars_per_token(tok, ids):
    """Characters of text per token in `ids`, special tokens left out (1.0 for the character tokenizer): what turns
    a loss per token into a loss per character, so that models with different tokenizers compare."""
    specials = set(getattr(tok, "special_tokens", {}).values())
    plain = [int(i) for i in ids if int(i) not in specials]
    return len(tok.decode(plain)) / max(1, len(plain))
