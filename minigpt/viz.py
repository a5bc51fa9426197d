r"""Plots for the course (matplotlib, imported lazily).

Files are drawn with matplotlib's object API (`matplotlib.figure.Figure`), never through pyplot and
never by switching the backend: inside a Jupyter kernel the notebook's own pyplot figures keep showing.

    plot_pipeline(report, "runs/pipeline/plots")   # the pipeline's loss, reward, KL and score plots
"""
import os

# -----------------------------------------------------------------------------
# pipeline


def plot_pipeline(report, out_dir):
    """Save the pipeline's plots as PNG files; returns their paths."""
    from matplotlib.figure import Figure  # a figure no backend or pyplot state knows about

    os.makedirs(out_dir, exist_ok=True)
    h = report["history"]
    paths = []

    def save(fig, name):
        path = os.path.join(out_dir, name)
        fig.tight_layout()
        fig.savefig(path, dpi=100)  # Agg renders it; nothing to close: pyplot never held it
        paths.append(path)

    fig = Figure(figsize=(13, 3.5))
    axes = fig.subplots(1, 3)
    p = h["pretrain"]
    axes[0].plot(p["step"], p["train_loss"], lw=0.8, label="train")
    axes[0].plot(p["eval_step"], p["val_loss"], "o-", label="val")
    axes[0].set(title="pretraining (nats/char)", xlabel="step")
    s = h["sft"]
    axes[1].plot(s["step"], s["l2"], lw=0.8, label="train (assistant tokens)")
    if s["val_loss"]:
        axes[1].plot(s["eval_step"], s["val_loss"], "o-", label="val")
    axes[1].set(title="SFT loss", xlabel="step")
    r = h["reward"]
    axes[2].plot(r["step"], r["loss"], lw=0.8, label="pairwise loss")
    axes[2].plot(r["step"], r["acc"], lw=0.8, label="batch pair accuracy")
    axes[2].set(title="reward model", xlabel="step")
    for ax in axes:
        ax.legend()
    save(fig, "losses.png")

    o = h["ppo"]
    fig = Figure(figsize=(13, 3.5))
    axes = fig.subplots(1, 3)
    axes[0].plot(o["step"], o["score"], label="RM score (normalised)")
    axes[0].plot(o["step"], o["gold"], label="gold score (hidden)")
    axes[0].set(title="PPO rewards", xlabel="iteration")
    axes[1].plot(o["step"], o["kl"], label="KL to SFT (nats/response)")
    axes[1].plot(o["step"], [10 * b for b in o["beta"]], label="10·β")
    axes[1].set(title="KL penalty", xlabel="iteration")
    axes[2].plot(o["step"], o["entropy"], label="entropy (nats/token)")
    axes[2].plot(o["step"], o["clipfrac"], label="clip fraction")
    axes[2].set(title="policy", xlabel="iteration")
    for ax in axes:
        ax.legend()
    save(fig, "ppo.png")

    names = list(report["models"])
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    width = 0.25
    for i, key in enumerate(("accuracy", "exact_match", "gold_score")):
        ax.bar([j + i * width for j in range(len(names))], [report["models"][n][key] for n in names], width, label=key)
    ax.set_xticks([j + width for j in range(len(names))], names)
    ax.set(title="held-out prompts, gold labeler", ylim=(0, 1))
    ax.legend()
    save(fig, "models.png")
    return paths
