r"""Predictable scaling: fit loss against compute on small runs, then predict a bigger run.

The GPT-4 technical report (OpenAI 2023, §3) predicted the final loss of GPT-4 from runs using
up to 10,000× less compute, by fitting a power law with an irreducible term:

    L(C) = a · C^(−b) + L∞

We do the same at toy scale. A ladder of small GPTs (2 blocks, widths n_embd = 8 … 32) is
trained on the toy web with the same recipe and the same number of steps, so each sees the same
D tokens and the training compute grows with the number N of non-embedding parameters (Kaplan
et al. 2020). A transformer spends about

    C ≈ 6·N·D   FLOPs on training     (2·N per token forward, 4·N backward)

Every run is scored on the same held-out documents, each seen whole from its first token
(`document_loss`), so the irreducible loss L∞ is known exactly: the toy web's entropy per token
(`minigpt.data.toyweb.loss_floor`). With L∞ known, log(L − L∞) = log a − b·log C is a straight
line; `fit_power_law` fits it (and can fit L∞ too, as a check). The line is extrapolated to
wider models' compute *before* they are trained; then they are trained and compared.
(`tokens_per_param` switches to a Chinchilla-style D = k·N per run instead.)

Layer: like a stage (it trains with minigpt.stages.pretrain).

    python benchmarks/scaling.py --quick        # JSON: runs, fit, predicted vs actual loss
"""
import dataclasses
import math
import tempfile
from dataclasses import dataclass, field

import numpy as np

from minigpt.autograd import no_grad
from minigpt.backend import xp
from minigpt.data.toyweb import EOT, generate_documents, loss_floor
from minigpt.nn.gpt import GPTConfig, count_params
from minigpt.ops import IGNORE_INDEX
from minigpt.stages.pretrain import PretrainConfig, prepare, train


# -----------------------------------------------------------------------------
# the fit

def fit_power_law(compute, loss, floor=None):
    r"""Fit L = a·C^(−b) + L∞ to points (C_i, L_i); returns {"a", "b", "floor", "rmse"}.

    floor given: least squares on the line log(L − L∞) = log a − b·log C (needs every L_i > L∞).
    floor None: L∞ is fitted too, by a search over 0 ≤ L∞ < min L_i that minimises the squared
    error in L (for each candidate, a and b come from the straight-line fit above).
    Example: C = [1, 10, 100], L = [3, 1.2, 1.02], floor=1 → a = 2, b = 1.
    """
    C = np.asarray(compute, dtype=np.float64)
    L = np.asarray(loss, dtype=np.float64)
    if C.shape != L.shape or C.ndim != 1 or len(C) < 2:
        raise ValueError(f"need two 1-D arrays of equal length ≥ 2, got shapes {C.shape} and {L.shape}")
    if np.any(C <= 0):
        raise ValueError("compute values must be positive")

    def line(f):
        slope, icept = np.polyfit(np.log(C), np.log(L - f), 1)
        a, b = math.exp(icept), -slope
        return a, b, float(np.sqrt(np.mean((a * C ** (-b) + f - L) ** 2)))

    if floor is not None:
        if np.any(L <= floor):
            raise ValueError(f"every loss must be above the floor {floor:.4f} to fit log(L − L∞); "
                             f"got min loss {L.min():.4f}")
        a, b, rmse = line(float(floor))
        return {"a": a, "b": b, "floor": float(floor), "rmse": rmse}
    # subtle: as L∞ → min L the log blows up, so stop the grid just short of it, then refine
    hi = float(L.min())
    grid = hi * (1.0 - np.logspace(-6, 0, 400))  # dense near hi, down to 0
    best = min(grid, key=lambda f: line(f)[2])
    lo_f, hi_f = max(0.0, best - hi / 200), min(hi * (1 - 1e-9), best + hi / 200)
    best = min(np.linspace(lo_f, hi_f, 401), key=lambda f: line(f)[2])
    a, b, rmse = line(float(best))
    return {"a": a, "b": b, "floor": float(best), "rmse": rmse}


def predict(fit, compute):
    """L(C) = a·C^(−b) + L∞ for a fit from `fit_power_law` (scalar or array C)."""
    return fit["a"] * np.asarray(compute, dtype=np.float64) ** (-fit["b"]) + fit["floor"]


# -----------------------------------------------------------------------------
# measuring a run

def non_embedding_params(cfg: GPTConfig) -> int:
    """N of Kaplan et al.: all parameters except the token and position embeddings."""
    return count_params(cfg) - cfg.vocab_size * cfg.n_embd - cfg.block_size * cfg.n_embd


def document_loss(model, tok, docs, batch_size=32):
    r"""Mean next-token loss (nats/token) over whole documents, each seen from its start.

    Each document is fed as <|endoftext|> doc and must predict doc <|endoftext|>, so every token
    has its whole document before it: the loss the toy web's entropy floor refers to.
    """
    eot = tok.eot_id
    rows = [[eot] + tok.encode(d) + [eot] for d in docs]
    T_max = model.config.block_size
    long = [len(r) - 1 for r in rows if len(r) - 1 > T_max]
    if long:
        raise ValueError(f"{len(long)} documents need a context of up to {max(long)} tokens; "
                         f"block_size is {T_max} (use `fitting_documents` first)")
    total, count = 0.0, 0
    was = model.training
    model.eval()
    with no_grad():
        for i in range(0, len(rows), batch_size):
            chunk = rows[i:i + batch_size]
            T = max(len(r) for r in chunk) - 1
            x = np.full((len(chunk), T), eot, dtype=np.int64)  # (B, T) padded inputs
            y = np.full((len(chunk), T), IGNORE_INDEX, dtype=np.int64)  # (B, T) targets, padding ignored
            for j, r in enumerate(chunk):
                x[j, :len(r) - 1], y[j, :len(r) - 1] = r[:-1], r[1:]
            n = int((y != IGNORE_INDEX).sum())
            total += model(xp.asarray(x), xp.asarray(y))[1].item() * n
            count += n
    model.train(was)
    return total / count


def fitting_documents(tok, block_size, n_docs, seed):
    """`n_docs` fresh toy-web documents (seeded) that fit the context window, and their floor."""
    docs = [d.text for d in generate_documents(n_docs, seed=seed)]
    docs = [d for d in docs if len(tok.encode(d)) + 1 <= block_size]
    floor = loss_floor("".join(d + EOT for d in docs), tok)["nats_per_token"]
    return docs, floor


# -----------------------------------------------------------------------------
# the ladder

@dataclass
class ScalingConfig:
    widths: tuple = (8, 12, 16, 24, 32)  # n_embd of the small runs (they make the fit)
    targets: tuple = (48, 64)  # n_embd of the bigger runs (predicted first, then trained)
    model: GPTConfig = field(  # every run's model: same depth, heads and context; n_embd = the run's width
        default_factory=lambda: GPTConfig(n_layer=2, n_head=2, block_size=64))
    steps: int = 600  # optimizer steps of every run (the same D tokens for every size)
    tokens_per_param: float = 0.0  # if > 0: D = k·N tokens per run instead of a fixed number of steps
    tokenizer: str = "bpe:512"  # char | bpe:<vocab size> (trained on the corpus)
    batch_size: int = 8  # sequences per step
    lr: float = 1e-2  # peak learning rate (warmup 10% of the steps, cosine to lr/10)
    n_chars: int = 1_000_000  # training corpus size (characters of toy web)
    eval_docs: int = 400  # held-out documents drawn for scoring (those that fit are kept)
    seed: int = 0  # corpus, tokenizer, init and batches


QUICK = ScalingConfig(widths=(8, 12, 16, 24), targets=(32,), steps=300, n_chars=600_000)  # CI: ~20 s on 2 cores


def scaling_data(cfg: ScalingConfig):
    """(tokenizer, train ids, val ids, eval documents, floor in nats/token) for a ladder."""
    tok, train_ids, val_ids = prepare(PretrainConfig(data="toyweb", tokenizer=cfg.tokenizer, n_chars=cfg.n_chars,
                                                     seed=cfg.seed))
    docs, floor = fitting_documents(tok, cfg.model.block_size, cfg.eval_docs, seed=cfg.seed + 1)
    return tok, train_ids, val_ids, docs, floor


def model_of(cfg: ScalingConfig, width):
    """The GPTConfig of one rung of the ladder: cfg.model at this width."""
    return dataclasses.replace(cfg.model, n_embd=width)


def budget(cfg: ScalingConfig, width, vocab_size):
    """What a run of this width costs, before training it: {"params" N, "steps", "tokens" D, "compute" 6ND}."""
    N = non_embedding_params(dataclasses.replace(model_of(cfg, width), vocab_size=vocab_size))
    tokens_per_step = cfg.batch_size * cfg.model.block_size
    steps = math.ceil(cfg.tokens_per_param * N / tokens_per_step) if cfg.tokens_per_param > 0 else cfg.steps
    steps = max(1, steps)
    D = steps * tokens_per_step
    return {"params": N, "steps": steps, "tokens": D, "compute": 6.0 * N * D}


def run_one(cfg: ScalingConfig, width, data, progress=False):
    """Train one GPT of this width; returns its row (params N, tokens D, compute 6ND, document loss)."""
    tok, train_ids, val_ids, docs, _ = data
    b = budget(cfg, width, tok.vocab_size)
    steps = b["steps"]
    with tempfile.TemporaryDirectory(prefix="minigpt-scaling-") as out:
        pcfg = PretrainConfig(out_dir=out, model=model_of(cfg, width), batch_size=cfg.batch_size, max_iters=steps,
                              optim=dict(lr=cfg.lr, min_lr=cfg.lr / 10, warmup_iters=max(1, steps // 10)),
                              eval_interval=steps, eval_iters=2, ckpt_interval=10**9, seed=cfg.seed)
        res = train(pcfg, None, tok, train_ids, val_ids, progress=progress)
    return {"n_embd": width, "n_layer": cfg.model.n_layer, **b, "loss": document_loss(res["model"], tok, docs),
            "seconds": res["seconds"]}


def _say(r):
    return (f"n_embd={r['n_embd']:4d}  N={r['params']:8,d}  D={r['tokens']:9,d}  C={r['compute']:.2e}  "
            f"loss={r['loss']:.4f}  ({r['seconds']:.1f}s)")


def run_scaling(cfg: ScalingConfig = QUICK, progress=False, log=print):
    """Train the small runs, fit L(C) with the known floor, predict the targets, train them, compare."""
    data = scaling_data(cfg)
    floor = data[4]
    runs = []
    for w in cfg.widths:
        runs.append(run_one(cfg, w, data, progress=progress))
        log(_say(runs[-1]))
    C, L = [r["compute"] for r in runs], [r["loss"] for r in runs]
    fit, fit_free = fit_power_law(C, L, floor=floor), fit_power_law(C, L)
    targets = []
    for w in cfg.targets:
        r = run_one(cfg, w, data, progress=progress)
        pred, pred_free = float(predict(fit, r["compute"])), float(predict(fit_free, r["compute"]))
        log(_say(r) + f"   predicted {pred:.4f} (free floor: {pred_free:.4f})")
        targets.append({**r, "predicted": pred, "predicted_free_floor": pred_free,
                        "error": r["loss"] - pred, "rel_error": (r["loss"] - pred) / r["loss"]})
    return {"config": dataclasses.asdict(cfg),
            "floor": floor, "eval_docs": len(data[3]), "runs": runs, "fit": fit, "fit_free_floor": fit_free,
            "targets": targets}
