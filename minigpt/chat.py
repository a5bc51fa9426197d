r"""`minigpt chat`: talk to any stage's checkpoint in the terminal.

One line in, one reply out. What the reply is depends on the stage, which is the point:

    pretrain  the line is the start of a document and the model continues it
              ("What is 23+45?" → " Sorting practice. 3 1 2 becomes..."): base models complete documents
    sft, ppo  the line is wrapped in the chat template and the model answers until <|end|>

Each line is a fresh single-turn conversation (the toy models have a context of ~72 tokens).
Reads stdin until EOF, so it also works in a pipe: `echo "What is 2+3?" | minigpt chat --ckpt ...`.

    minigpt chat --ckpt runs/pipeline/ppo/ckpt
    minigpt chat --ckpt runs/pipeline/pretrain/ckpt --temperature 0.8
"""
import sys
from dataclasses import dataclass

from minigpt.config import Config, nonnegative, positive
from minigpt.generate import sample_batch
from minigpt.stages.common import load_model
from minigpt.tokenizer.chat_template import chat_ids, decode_response, encode_prompt

CHAT_STAGES = ("sft", "ppo", "dpo", "grpo")
POLICY_STAGES = ("pretrain",) + CHAT_STAGES

# -----------------------------------------------------------------------------
# one reply


def reply(model, tok, stage, text, temperature=0.7, top_k=None, max_new_tokens=48, system=None, seed=0):
    """The model's reply to one line of text (a continuation for a base model, an answer otherwise)."""
    ids = chat_ids(tok)
    if stage in CHAT_STAGES:
        context = encode_prompt(tok, text, system)
        stops = (ids["end"], ids["eot"])
    else:
        context = [ids["eot"], *tok.encode_ordinary(text)]
        stops = (ids["eot"],)
    block_size = model.config.block_size
    if len(context) >= block_size:
        raise ValueError(f"the message is {len(context)} tokens with its template, but the context window is "
                         f"block_size={block_size}; write a shorter one")
    out = sample_batch(model, [context], max_new_tokens, stops, temperature=temperature, top_k=top_k, seed=seed)[0]
    return decode_response(tok, out)


# -----------------------------------------------------------------------------
# CLI

@dataclass
class ChatConfig(Config):
    ckpt: str  # checkpoint directory of a language model (pretrain, sft, ppo, dpo or grpo stage)
    temperature: float = 0.7  # sampling temperature (0 = greedy)
    top_k: int | None = None  # sample among the k most likely tokens (none = all)
    max_new_tokens: int = 48  # longest reply, in tokens
    system: str | None = None  # system message put before each turn (chat-tuned models only)
    seed: int = 0  # seed of the first reply (reply n uses seed + n)

    def validate(self):
        positive(self, "max_new_tokens")
        nonnegative(self, "temperature", "seed")
        if self.top_k is not None:
            positive(self, "top_k")


def main(args):
    """`minigpt chat`: one reply per line of stdin."""
    try:
        model, tok, config = load_model(args.ckpt, expect_stage=POLICY_STAGES)
        chat_ids(tok)
    except ValueError as e:
        raise ValueError(f"{e}. Chat needs a language model checkpoint (pretrain, sft or ppo); a reward model "
                         f"scores responses, it does not write them.") from None
    stage = config["stage"]
    interactive = sys.stdin.isatty()
    if interactive:
        kind = "answers in the chat template" if stage in CHAT_STAGES else "continues your text as a document"
        print(f"minigpt chat: {stage} model from {args.ckpt} ({kind}). Ctrl-D to quit.")
    for n, line in enumerate(_lines(interactive)):
        text = line.rstrip("\n")
        if not text.strip():
            continue
        try:
            out = reply(model, tok, stage, text, args.temperature, args.top_k, args.max_new_tokens, args.system,
                        seed=args.seed + n)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            continue
        print(f"{'assistant' if stage in CHAT_STAGES else 'model'}> {out}", flush=True)
    return 0


def _lines(interactive):
    while True:
        try:
            line = input("you> ") if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and line == "":
            return
        yield line
