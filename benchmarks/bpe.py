"""BPE speed: training (incremental vs naive recount) and encode/decode against tiktoken, same ranks.

Prints one JSON object. Only measured figures, no extrapolation:

- training: the fast trainer (bpe_train.py) and the naive one (bpe_naive.py) each learn the same
  merges; with --naive-merges N both are timed on exactly the first N merges (the naive trainer
  stops there, the fast one is asked for 256 + N tokens), so the ratio compares equal work. Each
  run says how many merges it learned: a text can run out of pairs before vocab_size (toy-web at
  4096 stops near 1.1k), and then the trainer warns.
- encode/decode: one tokenizer trained on English + Chinese text, exported to tiktoken with the
  same ranks and pattern (tiktoken is in the dev extra); held-out English and Chinese text encoded
  by both, ids checked equal, repeats alternating between the two, best time of each. "cold" is
  minigpt's first pass (a fresh tokenizer, empty caches), alternated with tiktoken's encode of the
  same text, each pair's ratio kept as well as the ratio of the bests; "warm" a repeat; tiktoken
  has no such cache. Building either tokenizer from the ranks (minigpt's includes its pair table
  for the batch merge) is timed apart, as construct_seconds.
- long_chunk: one pre-split chunk (Han characters without punctuation, or a long number) of
  growing length: the time should grow about linearly (it grew quadratically before).

The English text is the first --chars of Shakespeare when prepared (`minigpt data shakespeare`),
else toy-web text (said in the JSON). Times are CPU seconds of this process (time.process_time):
every timed call is single-threaded, and on a shared machine the wall clock would also count the
time other processes held the core. The load average is printed beside them.

    PYTHONPATH=. python benchmarks/bpe.py
    PYTHONPATH=. python benchmarks/bpe.py --naive-merges 300 --vocab 4096     # quicker
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings

from minigpt.data import DataUnavailableError, shakespeare, toyweb
from minigpt.data.chinese import parallel_text
from minigpt.tokenizer import BPETokenizer
from minigpt.tokenizer.bpe_naive import train_bpe_naive
from minigpt.tokenizer.bpe_train import count_chunks, train_bpe


def load_text(n_chars, download):
    try:
        return shakespeare.load_text(download=download)[:n_chars], "shakespeare"
    except DataUnavailableError:
        return toyweb.generate_corpus(n_chars=n_chars, seed=0)[:n_chars], "toyweb (shakespeare unavailable)"


CLOCK = time.process_time   # see the module docstring


def sig(seconds, digits=4):
    """Seconds to `digits` significant figures: a fast run of a few ms keeps its precision (rounding to
    fixed decimals would move a ratio of two such times by up to 10%)."""
    return float(f"{seconds:.{digits}g}")


def timed(fn, *args, repeat=1, **kw):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = CLOCK()
        out = fn(*args, **kw)
        best = min(best, CLOCK() - t)
    return best, out


def best_interleaved(fns: dict, repeat: int) -> dict:
    """Best seconds of each zero-argument function, calling them in turn `repeat` times."""
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t = CLOCK()
            f()
            best[k] = min(best[k], CLOCK() - t)
    return best


# ----------------------------------------------------------------------------
def bench_training(text, vocab_sizes, naive_merges):
    runs = {}
    for v in vocab_sizes:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _, (vocab, merges) = timed(train_bpe, text, v)
        learned = len(merges)
        n = learned if naive_merges is None else min(naive_merges, learned)
        fast_s, (_, fast_merges) = timed(train_bpe, text, 256 + n, repeat=3)     # exactly n merges
        naive_s, (_, naive_m) = timed(train_bpe_naive, text, 256 + n)
        runs[str(v)] = {"merges_asked": v - 256, "merges_learned": learned,
                        "stopped_short_warning": next((str(w.message) for w in caught), None),
                        "timed_merges": n, "fast_seconds": sig(fast_s), "naive_seconds": sig(naive_s),
                        "speedup_at_equal_merges": round(naive_s / fast_s, 1), "identical_merges": fast_merges == naive_m}
        print(f"vocab {v}: {n} merges, fast {fast_s:.2f} s, naive {naive_s:.1f} s", file=sys.stderr)
    return runs


def bench_encode(en_text, repeat):
    n = len(en_text) // 2
    en_train, en_test = en_text[:n], en_text[n:]
    zh_train, zh_test = parallel_text(4000, seed=0)[1], parallel_text(8000, seed=1)[1]
    tok = BPETokenizer.train(en_train + "\n" + zh_train, 4096, special_tokens=[])
    enc = tok.to_tiktoken()
    out = {"vocab": tok.vocab_size}
    build_s, _ = timed(BPETokenizer, tok.vocab, {}, repeat=repeat)         # construction (pair table)
    build_tk_s, _ = timed(tok.to_tiktoken, repeat=repeat)
    out["construct_seconds"] = {"minigpt": round(build_s, 4), "tiktoken": round(build_tk_s, 4)}
    for name, text in (("english", en_test), ("chinese", zh_test)):
        cold_runs = []               # every pair: (minigpt's first pass, tiktoken's encode right after it)
        for _ in range(repeat):      # first passes, each on a fresh tokenizer (empty caches), alternating with tiktoken
            fresh = BPETokenizer(tok.vocab, {})
            t = CLOCK()
            ids = fresh.encode_ordinary(text)
            cold = CLOCK() - t
            t = CLOCK()
            enc.encode_ordinary(text)
            cold_runs.append((cold, CLOCK() - t))
        assert ids == enc.encode_ordinary(text), "minigpt and tiktoken disagree"
        cold_s, tk_cold_s = min(c for c, _ in cold_runs), min(t for _, t in cold_runs)
        best = best_interleaved({"minigpt_warm": lambda: tok.encode_ordinary(text),
                                 "tiktoken": lambda: enc.encode_ordinary(text),
                                 "minigpt_decode": lambda: tok.decode(ids),
                                 "tiktoken_decode": lambda: enc.decode(ids)}, repeat)
        out[name] = {"chars": len(text), "tokens": len(ids),
                     "minigpt_cold_seconds": round(cold_s, 4), "tiktoken_seconds_beside_cold": round(tk_cold_s, 4),
                     "minigpt_warm_seconds": round(best["minigpt_warm"], 4),
                     "tiktoken_seconds": round(best["tiktoken"], 4),
                     "encode_ratio_cold": round(tk_cold_s / cold_s, 2),       # minigpt speed / tiktoken's
                     "encode_ratio_cold_each_pair": [round(t / c, 2) for c, t in cold_runs],
                     "encode_ratio_cold_median": round(statistics.median(t / c for c, t in cold_runs), 2),
                     "encode_ratio_warm": round(best["tiktoken"] / best["minigpt_warm"], 2),
                     "decode_seconds": round(best["minigpt_decode"], 4),
                     "tiktoken_decode_seconds": round(best["tiktoken_decode"], 4),
                     "decode_slowdown": round(best["minigpt_decode"] / best["tiktoken_decode"], 2)}
        print(f"{name}: encode {out[name]['encode_ratio_cold']}x (cold) {out[name]['encode_ratio_warm']}x (warm) "
              f"of tiktoken, decode {out[name]['decode_slowdown']}x its time", file=sys.stderr)
    return tok, enc, out


def bench_long_chunk(tok, enc, lengths):
    han = "".join(c for c in parallel_text(2000, seed=2)[1] if "\u4e00" <= c <= "\u9fff")
    out = {}
    for kind, source in (("han", han), ("digits", "31415926535897932384626433832795028841971")):
        rows = []
        for n in lengths:
            text = (source * (n // len(source) + 1))[:n]
            fresh = BPETokenizer(tok.vocab, {})
            s, ids = timed(fresh.encode_ordinary, text)
            t, ref = timed(enc.encode_ordinary, text)
            assert ids == ref
            rows.append({"chars": n, "minigpt_seconds": round(s, 4), "tiktoken_seconds": round(t, 4)})
        out[kind] = rows
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=1_000_000)
    ap.add_argument("--vocab", type=int, nargs="+", default=[512, 4096])
    ap.add_argument("--naive-merges", type=int, default=None, help="time both trainers on only this many merges")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved repeats of each encode/decode timing")
    ap.add_argument("--long", type=int, nargs="*", default=[2000, 8000, 32000], help="single-chunk lengths")
    ap.add_argument("--no-download", action="store_true")
    ap.add_argument("--skip-training", action="store_true")
    args = ap.parse_args(argv)

    load_start = round(os.getloadavg()[0], 2)
    text, source = load_text(args.chars, download=not args.no_download)
    res = {"text": source, "text_chars": len(text), "distinct_chunks": len(count_chunks(text)),
           "python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine()}
    if not args.skip_training:
        res["training"] = bench_training(text, args.vocab, args.naive_merges)
    try:
        import tiktoken  # noqa: F401
    except ImportError:
        res["encode"] = "skipped: tiktoken not installed (pip install -e '.[dev]')"
    else:
        tok, enc, res["encode"] = bench_encode(text, args.repeat)
        res["long_chunk"] = bench_long_chunk(tok, enc, args.long)
    res["clock"] = "process CPU time"
    res["load_average_1min"] = {"start": load_start, "end": round(os.getloadavg()[0], 2)}   # above the cpu count: disturbed
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
