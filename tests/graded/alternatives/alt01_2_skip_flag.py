"""01.2 merge, with a look-ahead over (token, next token) and a flag that skips the second token of a match."""


def merge(ids, pair, idx):
    ids = [int(t) for t in ids]
    want = (int(pair[0]), int(pair[1]))
    out, skip = [], False
    for cur, nxt in zip(ids, ids[1:] + [None]):
        if skip:
            skip = False
        elif (cur, nxt) == want:
            out.append(int(idx))
            skip = True
        else:
            out.append(cur)
    return out
