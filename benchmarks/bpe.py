"""BPE training speed: incremental pair counts (bpe_train.py) vs recount-every-merge (bpe_naive.py).

Trains vocabularies of 512 and 4096 tokens on 1 MB of text and prints one JSON object: seconds for
each trainer, the speedup, whether both learned identical merges, and encoding speed. The text is
the first 1 MB of the Shakespeare corpus (prepared or downloaded via `minigpt data shakespeare`),
or 1 MB of toy web text when that is unavailable (said in the JSON).

The naive trainer is timed in full by default (a few minutes at 4096). With --naive-merges N it
runs only the first N merges and extrapolates linearly; that overstates its time (later merges
are cheaper as words shrink), and the JSON says so.

    PYTHONPATH=. python benchmarks/bpe.py
    PYTHONPATH=. python benchmarks/bpe.py --naive-merges 300      # quicker, extrapolated
"""
import argparse
import json
import os
import platform
import sys
import time

from minigpt.data import DataUnavailableError, shakespeare, toyweb
from minigpt.tokenizer import BPETokenizer
from minigpt.tokenizer.bpe_naive import train_bpe_naive
from minigpt.tokenizer.bpe_train import count_chunks, train_bpe


def load_text(n_chars, download):
    try:
        return shakespeare.load_text(download=download)[:n_chars], "shakespeare"
    except DataUnavailableError:
        return toyweb.generate_corpus(n_chars=n_chars, seed=0)[:n_chars], "toyweb (shakespeare unavailable)"


def timed(fn, *args, repeat=1, **kw):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args, **kw)
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=1_000_000)
    ap.add_argument("--vocab", type=int, nargs="+", default=[512, 4096])
    ap.add_argument("--naive-merges", type=int, default=None, help="time only this many naive merges")
    ap.add_argument("--no-download", action="store_true")
    args = ap.parse_args(argv)

    text, source = load_text(args.chars, download=not args.no_download)
    res = {"text": source, "text_chars": len(text), "text_bytes": len(text.encode()),
           "distinct_chunks": len(count_chunks(text)), "special_tokens": 0,
           "python": platform.python_version(), "cpus": os.cpu_count(), "runs": {}}
    for v in args.vocab:
        n_merges = v - 256
        fast_s, (vocab, merges) = timed(train_bpe, text, v, repeat=3)
        limit = None if args.naive_merges is None else min(args.naive_merges, n_merges)
        naive_s, (_, naive_merges) = timed(train_bpe_naive, text, v, max_merges=limit)
        done = len(naive_merges)
        naive_full_s = naive_s * n_merges / done
        res["runs"][str(v)] = {
            "merges": n_merges,
            "fast_seconds": round(fast_s, 3),
            "naive_seconds": round(naive_full_s, 3),
            "naive_timed_merges": done,
            "naive_extrapolated": done < n_merges,
            "speedup": round(naive_full_s / fast_s, 1),
            "identical_merges": merges[:done] == naive_merges,
        }
        if done < n_merges:
            res["runs"][str(v)]["extrapolation"] = ("linear from the first merges; overstates the naive "
                                                    "time since later merges touch shorter words")
        print(f"vocab {v}: fast {fast_s:.2f} s, naive {naive_full_s:.1f} s", file=sys.stderr)

    tok = BPETokenizer(vocab, {}, merges=merges)            # largest vocab trained above
    cold_s, ids = timed(tok.encode, text)
    warm_s, _ = timed(tok.encode, text)
    res["encode"] = {"vocab": len(vocab), "tokens": len(ids), "bytes_per_token": round(len(text.encode()) / len(ids), 3),
                     "cold_cache_seconds": round(cold_s, 3), "warm_cache_seconds": round(warm_s, 3),
                     "tokens_per_second_cold": int(len(ids) / cold_s)}
    res["load_average_1min"] = round(os.getloadavg()[0], 2)    # >cpus means timings are disturbed
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
