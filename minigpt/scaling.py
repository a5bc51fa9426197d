r"""Predictable scaling: fit loss against compute on small runs, then predict a bigger run.

The GPT-4 technical report (OpenAI 2023, §3) predicted the final loss of GPT-4 from runs using
up to 10,000× less compute, by fitting a power law with an irreducible term:

    L(C) = a · C^(−b) + L∞

We do the same at toy scale. A ladder of small GPTs (widths n_embd) is trained on the toy web,
each for D = k·N tokens, where N is the number of non-embedding parameters (Kaplan et al. 2020)
and k a fixed number of tokens per parameter (Chinchilla used ~20). A transformer spends about

    C ≈ 6·N·D   FLOPs on training     (2·N per token forward, 4·N backward)

so the ladder spans a range of compute. Every run is scored on the same held-out documents,
each seen whole from its first character (`document_loss`), so the irreducible loss L∞ is
known exactly: the toy web's entropy per token (`minigpt.data.toyweb.loss_floor`). With L∞
known, log(L − L∞) = log a − b·log C is a straight line; `fit_power_law` fits it (or also fits
L∞ when it is not given). The fit is extrapolated to a wider model's compute, which is then
trained for real and compared.

Layer: like a stage (it trains with minigpt.stages.pretrain).

    python benchmarks/scaling.py --quick        # JSON: runs, fit, predicted vs actual loss
"""
import math
import tempfile
from dataclasses import dataclass, replace

import numpy as np

from minigpt.autograd import no_grad
from minigpt.backend import xp
from minigpt.data.toyweb import EOT, generate_documents, loss_floor
from minigpt.nn.gpt import GPTConfig, count_params
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
            y = np.full((len(chunk), T), -100, dtype=np.int64)  # (B, T) targets, -100 = padding
            for j, r in enumerate(chunk):
                x[j, :len(r) - 1], y[j, :len(r) - 1] = r[:-1], r[1:]
            n = int((y != -100).sum())
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
    widths: tuple = (16, 24, 32, 48)  # n_embd of the small runs (the fit)
    target_width: int = 64  # n_embd of the big run (the prediction)
    n_layer: int = 2  # same depth for every run
    n_head: int = 2  # same number of heads (head size = width / n_head)
    tokens_per_param: float = 10.0  # D = k·N training tokens
    steps: int = 0  # if > 0: every run takes this many steps instead (the same D for all sizes)
    tokenizer: str = "char"  # char | bpe:<vocab size> (trained on the corpus)
    block_size: int = 128  # context; eval documents longer than this are left out
    batch_size: int = 8  # sequences per step
    lr: float = 3e-3  # peak learning rate (warmup 10% of the steps, cosine to lr/10)
    n_chars: int = 1_000_000  # training corpus size (characters of toy web)
    eval_docs: int = 400  # held-out documents drawn for scoring (those that fit are kept)
    seed: int = 0


def run_one(cfg: ScalingConfig, width, tok, train_ids, val_ids, eval_docs, progress=False):
    """Train one GPT of this width for k·N tokens; returns its row (params, tokens, compute, loss)."""
    mcfg = GPTConfig(vocab_size=tok.vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer,
                     n_head=cfg.n_head, n_embd=width)
    N = non_embedding_params(mcfg)
    tokens_per_step = cfg.batch_size * cfg.block_size
    steps = cfg.steps or max(1, math.ceil(cfg.tokens_per_param * N / tokens_per_step))
    with tempfile.TemporaryDirectory(prefix="minigpt-scaling-") as out:
        pcfg = PretrainConfig(out_dir=out, n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=width,
                              block_size=cfg.block_size, batch_size=cfg.batch_size, max_iters=steps,
                              lr=cfg.lr, min_lr=cfg.lr / 10, warmup_iters=max(1, steps // 10),
                              eval_interval=steps, eval_iters=2, ckpt_interval=10**9, seed=cfg.seed)
        res = train(pcfg, tok, train_ids, val_ids, progress=progress)
    D = steps * tokens_per_step
    return {"n_embd": width, "n_layer": cfg.n_layer, "params": N, "tokens": D, "steps": steps,
            "compute": 6.0 * N * D, "loss": document_loss(res["model"], tok, eval_docs),
            "seconds": res["seconds"], "history": res["history"]}


def run_scaling(cfg: ScalingConfig = ScalingConfig(), progress=False, log=print):
    """Train the ladder, fit L(C) with the known floor, predict the big run, train it, compare."""
    tok, train_ids, val_ids = prepare(PretrainConfig(data="toyweb", tokenizer=cfg.tokenizer, n_chars=cfg.n_chars,
                                                     seed=cfg.seed))
    docs, floor = fitting_documents(tok, cfg.block_size, cfg.eval_docs, seed=cfg.seed + 1)
    runs = []
    for w in list(cfg.widths) + [cfg.target_width]:
        runs.append(run_one(cfg, w, tok, train_ids, val_ids, docs, progress=progress))
        r = runs[-1]
        log(f"n_embd={w:4d}  N={r['params']:8,d}  D={r['tokens']:10,d}  C={r['compute']:.2e}  "
            f"loss={r['loss']:.4f}  ({r['seconds']:.1f}s)")
    small, big = runs[:-1], runs[-1]
    C = [r["compute"] for r in small]
    L = [r["loss"] for r in small]
    fit = fit_power_law(C, L, floor=floor)
    fit_free = fit_power_law(C, L)
    predicted = float(predict(fit, big["compute"]))
    return {"config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(cfg).items()},
            "floor": floor, "eval_docs": len(docs), "runs": runs, "fit": fit, "fit_free_floor": fit_free,
            "predicted": predicted, "predicted_free_floor": float(predict(fit_free, big["compute"])),
            "actual": big["loss"], "error": big["loss"] - predicted}


QUICK = ScalingConfig(widths=(8, 12, 16, 24), target_width=32, tokens_per_param=10.0, n_chars=400_000)


def quick_config(**kw):
    """The ladder used in quick mode (CI): smaller widths, same recipe."""
    return replace(QUICK, **kw)
