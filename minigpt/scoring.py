r"""Scoring responses with a model: where each response token sits in a padded batch, its
log-probability under a policy, the value of the state it is chosen in, a whole response's
log-probability, and a reward model's score of a (prompt, response) text pair.

The alignment stages (reward, ppo, dpo, grpo), the evaluation and the experiments all score
responses the same way, so these live once, below the stages:

    log π(a_t | s_t)   = log_softmax(h_t · Weᵀ)[a_t]          (response_logprobs; tied output head)
    log π(y | x)       = Σ_t log π(y_t | x, y_<t)                (sequence_logprobs)
    r(x, y)            = the reward model's scalar at y's last token  (score_texts)

    python -c "from minigpt.scoring import response_positions; print(response_positions([2, 3], [2, 1]))"
"""
import numpy as np

from minigpt import ops
from minigpt.autograd import Tensor, no_grad
from minigpt.backend import to_numpy, xp
from minigpt.tokenizer.chat_template import chat_ids, encode_chat, pad_batch

# -----------------------------------------------------------------------------
# where the responses sit in a padded batch

def response_positions(prompt_lens, resp_lens):
    r"""Index arrays (rows, cols, mask), each (B, R), R = max response length.

    Response token j of row i sits at position P_i + j of the full sequence; the logits (and the
    value) that *predict* it sit one earlier, at P_i + j - 1. Pads point at position 0, mask 0.
    Example: prompt_lens [2, 3], resp_lens [2, 1] → cols [[1, 2], [2, 0]], mask [[1, 1], [1, 0]].
    """
    prompt_lens, resp_lens = np.asarray(prompt_lens), np.asarray(resp_lens)
    R = int(resp_lens.max())
    j = np.arange(R)[None, :]
    mask = (j < resp_lens[:, None]).astype(np.float32)  # (B, R)
    cols = np.where(mask > 0, prompt_lens[:, None] + j - 1, 0)
    rows = np.broadcast_to(np.arange(len(prompt_lens))[:, None], cols.shape)
    return rows, cols, mask


# -----------------------------------------------------------------------------
# policy and value forward passes

def response_logprobs(gpt, x, prompt_lens, resp_lens):
    r"""log π(a_t | s_t) (B, R) of each response token, the logits at the response positions
    (B, R, V) and the mask (B, R). x: (B, T) prompt+response ids, right-padded."""
    rows, cols, mask = response_positions(prompt_lens, resp_lens)
    h = gpt.hidden(x)  # (B, T, C)
    logits = gpt.logits(h)  # (B, T, V)
    logp_all = ops.token_logprobs(logits[:, :-1], x[:, 1:])  # (B, T-1): log P(x_{t+1} | x_≤t)
    return logp_all[rows, cols], logits.data[rows, cols], mask  # (B, R), (B, R, V), (B, R)


def response_values(value_model, x, prompt_lens, resp_lens):
    """V(s_t) (B, R): the value of the state each response token is chosen in."""
    rows, cols, _ = response_positions(prompt_lens, resp_lens)
    return value_model(x)[rows, cols]


def sequence_logprobs(model, contexts, responses, pad_id):
    r"""log π(y|x) = Σ_t log π(y_t | x, y_<t) for each (context, response): a Tensor (B,)."""
    x, _ = pad_batch([c + r for c, r in zip(contexts, responses)], pad_id)
    plens = np.array([len(c) for c in contexts])
    rlens = np.array([len(r) for r in responses])
    logp, _, mask = response_logprobs(model, xp.asarray(x), plens, rlens)  # (B, R) each
    return (logp * Tensor(mask.astype(logp.dtype))).sum(axis=1)


# -----------------------------------------------------------------------------
# reward-model scores

def encode_for_rm(tok, prompt, response, block_size):
    """(ids, start) of one exchange for the RM: start = where the response begins."""
    ids, mask = encode_chat(tok, prompt if isinstance(prompt, str) else prompt.text, response)
    # subtle: a too-long response is judged on its first block_size tokens
    return ids[:block_size], mask.index(1)


def score_texts(rm, tok, prompts, texts, batch_size=64):
    """RM rewards (N,) for (prompt, response text) pairs."""
    out = []
    block = rm.config.block_size
    was = rm.training
    rm.eval()
    with no_grad():
        for i in range(0, len(texts), batch_size):
            enc = [encode_for_rm(tok, p, t, block) for p, t in zip(prompts[i:i + batch_size], texts[i:i + batch_size])]
            x, lengths = pad_batch([e[0] for e in enc], chat_ids(tok)["pad"])
            out.append(to_numpy(rm(xp.asarray(x), lengths, np.array([e[1] for e in enc])).data))
    rm.train(was)
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)
