"""What every stage shares: JSONL metrics, saving and loading a stage's checkpoint.

A stage's checkpoint directory holds `config.json` (with "stage", "model" = GPTConfig fields,
"tokenizer" = file name of the tokenizer JSON next to it), `model.safetensors` and optionally
`optim.safetensors`.

    from minigpt.stages.common import load_model
    model, tok, cfg = load_model("runs/pipeline/pretrain/ckpt")
"""
import os

from minigpt.checkpoint import checkpoint_dir, load_checkpoint, save_checkpoint
from minigpt.loop import MetricsLog, read_metrics  # noqa: F401  (re-exported: notebooks read metrics from here)
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.tokenizer import load_tokenizer

# -----------------------------------------------------------------------------
# checkpoints of a stage

def save_stage(directory, model, tokenizer, stage, extra=None, optimizer=None, extra_files=None):
    """Save model weights + config (+ optimizer, + extra files) and the tokenizer as one checkpoint unit."""
    config = {"stage": stage, "model": model.config.to_dict(), "tokenizer": "tokenizer.json", **(extra or {})}
    save_checkpoint(directory, model.state_dict(), config,
                    optim_state=None if optimizer is None else optimizer.state_dict(),
                    extra_files={"tokenizer.json": tokenizer.save, **(extra_files or {})})


def load_model(directory, expect_stage=None, model_cls=GPT):
    """(model, tokenizer, config) from a stage checkpoint directory; checks the stage if asked."""
    config, state = load_checkpoint(directory)
    stage = config.get("stage")
    if expect_stage is not None and stage not in ((expect_stage,) if isinstance(expect_stage, str) else expect_stage):
        raise ValueError(f"{directory} is a {stage!r} checkpoint, expected {expect_stage!r}")
    if "model" not in config:
        raise ValueError(f"{directory}/config.json has no 'model' section: not a minigpt model checkpoint")
    fields = {("flash_tile" if k == "flash_block" else k): v for k, v in config["model"].items()}  # its old name
    model = model_cls(GPTConfig.from_dict(fields))
    model.load_state_dict(state)
    tok = load_tokenizer(os.path.join(checkpoint_dir(directory), config.get("tokenizer", "tokenizer.json")))
    if tok.vocab_size != model.config.vocab_size:
        raise ValueError(f"tokenizer in {directory} has {tok.vocab_size} tokens but the model expects "
                         f"vocab_size={model.config.vocab_size}: mismatched tokenizer/checkpoint")
    return model, tok, config
