"""Benchmark: the numbers of notebook 09 ("beyond the four stages"); prints JSON.

Sections (minigpt/experiments/): alignment (PPO vs DPO vs GRPO win rate vs SFT, KL, time; best-of-N
curve; reflection), blocks (GPT-2 vs LLaMA blocks; INT8/INT4 quantization; LoRA vs full SFT),
reasoning (chain-of-thought accuracy vs steps; self-consistency), rag (retrieval vs no retrieval).
`--out` also writes the JSON to a file (sections run later are merged into it), which notebook 09
shows next to its own quick-mode numbers.

    python benchmarks/beyond.py --quick                                   # smoke sizes, ~1 minute
    python benchmarks/beyond.py --out benchmarks/results/beyond.json      # full sizes (~12 min on 2 idle cores)
    python benchmarks/beyond.py --sections rag reasoning --out benchmarks/results/beyond.json
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time

SECTIONS = ("alignment", "blocks", "reasoning", "rag")


def _strip(d):
    """Drop models/tokenizers/arrays: keep what JSON can hold."""
    import numpy as np
    if isinstance(d, dict):
        return {str(k): _strip(v) for k, v in d.items() if k not in ("models", "tokenizer", "reader", "reward_model",
                                                                     "val_ids", "histories", "loss_curves")}
    if isinstance(d, (list, tuple)):
        return [_strip(v) for v in d]
    if isinstance(d, (np.floating, np.integer, np.bool_)):
        return d.item()
    return d


def _summary(name, res):
    """The headline numbers of a section."""
    if name == "alignment":
        t = res["table"]
        return {m: {k: round(t[m][k], 4) for k in ("win_rate_vs_sft", "kl_to_sft", "train_s", "accuracy")}
                for m in ("ppo", "grpo", "dpo")}
    if name == "blocks":
        q = res["quantization"]
        return {"val_loss": {k: round(v["val_loss"], 4) for k, v in res["blocks"].items()},
                "int8_rel_loss_change": q["int8"]["rel_change"],
                "lora_trainable_fraction": (res["lora"]["lora"]["trainable_params"]
                                            / res["lora"]["lora"]["total_params"])}
    if name == "reasoning":
        a, trained = res["accuracy"], res["config"]["train_steps"]
        return {"cot_gain_on_trained_lengths": sum(a["cot"][k] - a["direct"][k] for k in trained) / len(trained),
                "cot": a["cot"], "direct": a["direct"]}
    if name == "rag":
        return res["accuracy"]
    return {}


def run_section(name, quick, out_root, log, reuse=False):
    from minigpt.experiments import alignment, blocks, rag, reasoning
    spec = {"alignment": (alignment.AlignConfig, alignment.run_alignment),
            "blocks": (blocks.BlocksConfig, blocks.run_blocks),
            "reasoning": (reasoning.ReasoningConfig, reasoning.run_reasoning),
            "rag": (rag.RagConfig, rag.run_rag)}[name]
    cls, fn = spec
    cfg = cls.quick(out_dir=os.path.join(out_root, name)) if quick else cls(out_dir=os.path.join(out_root, name))
    if name == "alignment":
        cfg.reuse = reuse  # keep the SFT and reward models of an earlier run in the same --run-dir
    return fn(cfg, log=log)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    parser.add_argument("--out", default=None, help="also write (merge) the JSON into this file")
    parser.add_argument("--run-dir", default=None, help="where checkpoints go (default: a temporary directory); "
                        "world models found there are reused")
    args = parser.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    result = {}
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            result = json.load(f)
    result.update({"benchmark": "beyond", "quick": args.quick})
    result.setdefault("sections", {})
    with tempfile.TemporaryDirectory() as tmp:
        root = args.run_dir or tmp
        for name in args.sections:
            load0, t0 = os.getloadavg(), time.time()
            res = run_section(name, args.quick, root, log, reuse=args.run_dir is not None)
            result["sections"][name] = {"summary": _summary(name, res), **_strip(res),
                                        "wall_s": round(time.time() - t0, 1),
                                        "loadavg_start": [round(x, 2) for x in load0],
                                        "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
            if args.out:
                from minigpt.checkpoint import save_json
                save_json(args.out, {**result, "machine": _machine()})
    result["machine"] = _machine()
    print(json.dumps(result, indent=1))
    return 0


def _machine():
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}


if __name__ == "__main__":
    sys.exit(main())
