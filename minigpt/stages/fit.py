r"""A small generic training loop: AdamW + warmup/cosine + clipping around any loss function.

The big stages (pretrain, sft, reward, ppo) have loops with checkpoints and resume; the model-family
experiments (masked LM, GPT-1 classifier, ...) only need "minimise this loss for N steps", so they
share this one:

    history = fit(model, lambda step, rng: (loss_tensor, {"acc": 0.9}), steps=200, lr=1e-3)
    history["loss"][-1], history["acc"][-1]

`loss_fn(step, rng)` builds the batch for `step` from `rng` (seeded by (seed, step), so a run is
reproducible) and returns the loss Tensor, or (loss, {name: float}) to log more numbers.

    python -m minigpt.stages.fit     # fits a tiny GPT to one repeated sequence
"""
import numpy as np
from tqdm.auto import tqdm

from minigpt.optim import AdamW, clip_grad_norm, cosine_lr


def fit(model, loss_fn, steps, lr=1e-3, min_lr=None, warmup=10, weight_decay=0.0, grad_clip=1.0, seed=0,
        params=None, progress=False, desc="train"):
    """Minimise `loss_fn` for `steps` AdamW steps; returns {"loss": [...], other logged names: [...]}."""
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    params = list(model.parameters() if params is None else params)
    opt = AdamW(params, lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
    min_lr = lr / 10 if min_lr is None else min_lr
    history = {"loss": []}
    was = model.training
    model.train()
    for step in tqdm(range(steps), desc=desc, disable=not progress):
        opt.lr = cosine_lr(step, lr, warmup, steps, min_lr)
        if hasattr(model, "reseed"):
            model.reseed(hash((seed, step)) % (2**32))
        out = loss_fn(step, np.random.default_rng([seed, step]))
        loss, extra = out if isinstance(out, tuple) else (out, {})
        loss.backward()
        if grad_clip > 0:
            clip_grad_norm(opt.params, grad_clip)
        opt.step()
        opt.zero_grad()
        history["loss"].append(loss.item())
        for k, v in extra.items():
            history.setdefault(k, []).append(float(v))
    model.train(was)
    return history


if __name__ == "__main__":
    from minigpt.nn.gpt import GPT, GPTConfig
    m = GPT(GPTConfig(vocab_size=8, block_size=8, n_layer=1, n_head=2, n_embd=16))
    seq = np.array([[1, 2, 3, 4, 5, 6, 7, 0, 1]])
    h = fit(m, lambda step, rng: m(seq[:, :-1], seq[:, 1:])[1], steps=100, lr=1e-2)
    print(f"loss {h['loss'][0]:.3f} -> {h['loss'][-1]:.3f}")
