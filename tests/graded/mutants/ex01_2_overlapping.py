"""Mutant of 01.2: after a merge it steps one token instead of two, so overlapping matches merge twice."""


def merge(ids, pair, idx):
    out, i, n = [], 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(idx)
            i += 1
            if i + 1 >= n or not (ids[i] == pair[0] and ids[i + 1] == pair[1]):
                i += 1
        else:
            out.append(int(ids[i]))
            i += 1
    return out
