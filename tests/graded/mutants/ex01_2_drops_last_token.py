"""Mutant of 01.2: loops to n - 1 only, so an unmatched last token is lost."""


def merge(ids, pair, idx):
    out, i, n = [], 0, len(ids)
    while i < n - 1:
        if ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(idx)
            i += 2
        else:
            out.append(int(ids[i]))
            i += 1
    return out
