"""`minigpt sample`: continue a prompt with a trained checkpoint.

    minigpt sample --ckpt runs/pretrain/ckpt --prompt "Once" --max-new-tokens 200 --temperature 0.8 --top-k 20
"""
from minigpt.generate import generate
from minigpt.stages.common import load_model


def add_cli_args(p):
    p.add_argument("--ckpt", required=True, help="checkpoint directory (contains config.json)")
    p.add_argument("--prompt", default="", help="text to continue (empty: start from <|endoftext|>)")
    p.add_argument("--max-new-tokens", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--num-samples", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)


def cli_main(args):
    model, tok, _ = load_model(args.ckpt)
    ids = tok.encode(args.prompt, allowed_special="all") if args.prompt else [tok.eot_id]
    ids = ids[-model.config.block_size:]
    for i in range(args.num_samples):
        out = generate(model, ids, args.max_new_tokens, args.temperature, args.top_k, args.top_p,
                       stop_ids=[tok.eot_id], seed=args.seed + i)
        print(args.prompt + tok.decode(out))
        print("-" * 40)
    return 0
