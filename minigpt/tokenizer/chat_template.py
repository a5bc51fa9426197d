r"""The chat template: how a conversation becomes one token sequence, and which tokens train.

A turn is wrapped in role markers, special tokens that user text can never spell:

    [<|system|> {system} <|end|>]  <|user|> {prompt} <|end|>  <|assistant|> {response} <|end|>
     ─────────── optional ──────   ──────── context (mask 0) ─────────────  ── trained (mask 1) ─

Supervised fine-tuning trains only on the assistant's tokens ("prompt masking"): the model
should learn to answer, not to imitate users. The closing <|end|> is trained too, so the model
learns when to stop; at sampling time it is the stop (EOS) token. Ragged batches are padded
with <|pad|>, which is never trained on and never attended to by a real token (padding goes
on the right, and attention is causal).

    python -m minigpt.tokenizer.chat_template
"""
import numpy as np

from minigpt.ops import IGNORE_INDEX  # the target id cross_entropy skips

SYSTEM, USER, ASSISTANT, END, PAD = "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|pad|>"


# -----------------------------------------------------------------------------
# special ids

def chat_ids(tok):
    """{'system', 'user', 'assistant', 'end', 'pad', 'eot'} -> id; a clear error if the tokenizer lacks them."""
    out = {}
    for name, s in (("system", SYSTEM), ("user", USER), ("assistant", ASSISTANT), ("end", END), ("pad", PAD),
                    ("eot", "<|endoftext|>")):
        if s not in getattr(tok, "special_tokens", {}):
            raise ValueError(f"tokenizer has no special token {s}: chat needs {SYSTEM} {USER} {ASSISTANT} {END} "
                             f"{PAD} (build it with minigpt.tokenizer.CHAT_SPECIAL_TOKENS)")
        out[name] = tok.special_tokens[s]
    return out


# -----------------------------------------------------------------------------
# encoding

def encode_prompt(tok, prompt, system=None):
    """Ids of the context the assistant answers: [<|system|> s <|end|>] <|user|> p <|end|> <|assistant|>.

    User and system text are encoded as ordinary text (a typed "<|end|>" cannot forge a turn).
    """
    ids = chat_ids(tok)
    out = []
    if system is not None:
        out += [ids["system"], *tok.encode_ordinary(system), ids["end"]]
    out += [ids["user"], *tok.encode_ordinary(prompt), ids["end"], ids["assistant"]]
    return out


def encode_chat(tok, prompt, response, system=None):
    """(ids, mask) for one exchange: mask[i] = 1 where ids[i] is an assistant token to train on.

    Example (char tokenizer): prompt "Hi", response "yo" →
    ids  = <|user|> H i <|end|> <|assistant|> y o <|end|>
    mask =    0     0 0    0         0        1 1    1
    """
    context = encode_prompt(tok, prompt, system)
    answer = tok.encode_ordinary(response) + [chat_ids(tok)["end"]]
    return context + answer, [0] * len(context) + [1] * len(answer)


def sft_example(tok, prompt, response, system=None, block_size=None):
    """(input ids, targets) for next-token training; targets are IGNORE_INDEX where the mask is 0.

    inputs = ids[:-1], targets = ids[1:] masked: position t predicts ids[t+1], trained only if
    ids[t+1] is an assistant token. Raises if the exchange does not fit in `block_size` + 1.
    """
    ids, mask = encode_chat(tok, prompt, response, system)
    if block_size is not None and len(ids) - 1 > block_size:
        raise ValueError(f"chat example of {len(ids)} tokens does not fit the context window block_size={block_size} "
                         f"(prompt {prompt!r}); raise block_size or shorten the prompt/response")
    targets = [t if m else IGNORE_INDEX for t, m in zip(ids[1:], mask[1:])]
    return ids[:-1], targets


def pad_batch(rows, pad_id, dtype=np.int64):
    """Right-pad a list of id lists to one (B, T_max) array; also returns the lengths (B,)."""
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    out = np.full((len(rows), int(lengths.max())), pad_id, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out, lengths


# -----------------------------------------------------------------------------
# decoding

def decode_response(tok, ids):
    """Text of a sampled response: up to (not including) the first <|end|>, other specials dropped."""
    ids_ = chat_ids(tok)
    out = []
    for i in ids:
        i = int(i)
        if i == ids_["end"] or i == ids_["eot"]:
            break
        if i in tok.special_tokens.values():
            continue
        out.append(i)
    return tok.decode(out)


if __name__ == "__main__":
    from minigpt.tokenizer import CHAT_SPECIAL_TOKENS, CharTokenizer
    tok = CharTokenizer.train("abcdefghijklmnopqrstuvwxyz ?0123456789+W", special_tokens=CHAT_SPECIAL_TOKENS)
    ids, mask = encode_chat(tok, "What is 2+2?", "4")
    print(tok.decode(ids))
    print("".join("^" if m else "." for m in mask), "(^ = trained)")
