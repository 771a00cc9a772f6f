"""Grouping questions by meaning: greedy threshold clustering of normalised vectors, in numpy.

Each group is a *leader* and every question still ungrouped whose cosine similarity to it reaches the
threshold. Leaders are taken in order of how many questions (weighted: a question asked three times counts
three) lie within the threshold of them, so the densest topic is grouped first and a group never chains
through a string of neighbours into something unrelated. The similarities are computed in blocks, so
10,000 questions need no 10,000 × 10,000 matrix at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# measured on tests/data/gap_questions.jsonl (12 topics × 5 paraphrases + 15 one-offs): see group_quality
THRESHOLD = 0.35
CENTRE_PRIOR = 20  # questions' worth of weight given to "share nothing" when taking their mean away
BLOCK = 1024
NEAR_DUPLICATE = 0.9  # questions this alike (before centring) are grouped as one from the start


@dataclass(frozen=True)
class Group:
    members: tuple[int, ...]  # indices into the vectors, the leader first, then by closeness to it
    weight: int  # questions in the group, each counted as often as it was asked


def centred(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``vectors`` less what they all share, normalised again.

    Readers' questions to one newsletter share its subject: with this model every question about AI is
    0.3–0.5 alike to every other, which drowns what sets their topics apart. Taking away the questions' mean
    direction leaves the differences. The mean is shrunk towards zero for a few questions (two questions
    less their mean point in opposite directions), fully taken only for many.
    """
    total = float(weights.sum())
    mean = (vectors * weights[:, None]).sum(0) / total * (total / (total + CENTRE_PRIOR))
    out = vectors - mean
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _near_duplicates(vectors: np.ndarray, tight: float) -> np.ndarray:
    """For each row, the first earlier row (or itself) at least ``tight`` alike: the same question in a few other
    words ("Hi! what is X?", "what is X? thanks"). Blocked, so questions asked in many such forms cost little."""
    n = len(vectors)
    owner = np.arange(n)
    reps = np.zeros(0, dtype=np.int64)
    for start in range(0, n, BLOCK):
        block = vectors[start:start + BLOCK]
        if len(reps):
            to_reps = block @ vectors[reps].T
            best = to_reps.argmax(1)
            best_sim = to_reps[np.arange(len(block)), best]
        else:
            best, best_sim = np.zeros(len(block), dtype=np.int64), np.full(len(block), -2.0)
        inner = block @ block.T
        fresh: list[int] = []
        for r in range(len(block)):
            if best_sim[r] >= tight:
                owner[start + r] = reps[best[r]]
                continue
            if fresh:
                sims = inner[r, fresh]
                j = int(sims.argmax())
                if sims[j] >= tight:
                    owner[start + r] = start + fresh[j]
                    continue
            fresh.append(r)
        reps = np.concatenate([reps, np.array(fresh, dtype=np.int64) + start])
    return owner


def cluster(vectors: np.ndarray, threshold: float = THRESHOLD, weights: np.ndarray | None = None) -> list[Group]:
    """Groups of ``vectors`` (rows, normalised), the heaviest first; every row is in exactly one group.

    ``threshold`` applies to the vectors once :func:`centred`.
    """
    if len(vectors) == 0:
        return []
    vectors = np.asarray(vectors, dtype=np.float32)
    w_all = np.ones(len(vectors), dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    owner = _near_duplicates(vectors, NEAR_DUPLICATE)
    reps = np.flatnonzero(owner == np.arange(len(vectors)))
    rep_of = np.searchsorted(reps, owner)  # each row's representative, as an index into reps
    followers: list[list[int]] = [[] for _ in reps]
    for i in np.flatnonzero(owner != np.arange(len(vectors))).tolist():
        followers[rep_of[i]].append(i)
    w = np.bincount(rep_of, weights=w_all, minlength=len(reps)).astype(np.int64)
    groups = _cluster(centred(vectors[reps], w), w, threshold)
    return [Group(tuple(i for m in g.members for i in (int(reps[m]), *followers[m])), g.weight) for g in groups]


def _cluster(vectors: np.ndarray, w: np.ndarray, threshold: float) -> list[Group]:
    n = len(vectors)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, n, BLOCK):
        sims = vectors[start:start + BLOCK] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        parts.append((rows + start, cols, sims[rows, cols]))
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    near = np.concatenate([p[2] for p in parts])
    cuts = np.searchsorted(rows, np.arange(n + 1))  # row r's neighbours: cols[cuts[r]:cuts[r + 1]]
    density = np.bincount(rows, weights=w[cols], minlength=n).astype(np.int64)
    order = np.lexsort((np.arange(n), -density))  # densest first; ties in input order, so the result is stable
    grouped = np.zeros(n, dtype=bool)
    groups: list[Group] = []
    for leader in order.tolist():
        if grouped[leader]:
            continue
        cs, ss = cols[cuts[leader]:cuts[leader + 1]], near[cuts[leader]:cuts[leader + 1]]
        free = ~grouped[cs]
        cs, ss = cs[free], ss[free]
        ranked = cs[np.lexsort((cs, -ss))]
        members = [leader, *[int(c) for c in ranked if c != leader]]
        grouped[members] = True
        groups.append(Group(tuple(members), int(w[members].sum())))
    return _merge(vectors, w, groups, threshold)


def _merge(vectors: np.ndarray, w: np.ndarray, groups: list[Group], threshold: float) -> list[Group]:
    """Join groups whose centres (their members' mean direction) are at least ``threshold`` alike.

    The leaders' groups are tight (every member is close to one question); paraphrases in other words often
    land in a few of them. Their centres are steadier than any one question: in rounds, each group joins the
    group whose centre is closest to its own, when that is close enough, until no two are.
    """
    members = [list(g.members) for g in groups]
    while len(members) > 1:
        centres = np.stack([(vectors[m] * w[m, None]).sum(0) for m in members])
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        sims = centres @ centres.T
        np.fill_diagonal(sims, -2.0)
        best = sims.argmax(1)
        joined = False
        into = list(range(len(members)))
        for a in np.argsort(-sims.max(1), kind="stable").tolist():
            b = int(best[a])
            if sims[a, b] < threshold or into[a] != a or into[b] != b:
                continue
            keep, gone = min(a, b), max(a, b)
            into[gone] = keep
            members[keep] += members[gone]
            joined = True
        members = [m for i, m in enumerate(members) if into[i] == i]
        if not joined:
            break
    out = [Group(tuple(m), int(w[m].sum())) for m in members]
    out.sort(key=lambda g: (-g.weight, g.members[0]))
    return out


@dataclass(frozen=True)
class Quality:
    purity: float  # share of items in a group whose majority topic is theirs (a one-off only alone)
    inverse_purity: float  # share of topics' items in the group that holds most of their topic
    topic_groups: int  # groups of two or more items
    true_topics: int
    split_topics: int  # topics whose items fall into more than one group
    merged_distractors: int  # one-off items (label None) that landed in a group with others


def group_quality(groups: list[Group], labels: list[str | None]) -> Quality:
    """How well ``groups`` recover ``labels`` (None: a one-off that belongs with nothing).

    Purity counts, in each group, the items of its most common topic; a one-off is pure only alone.
    """
    pure = 0
    merged = 0
    homes: dict[str, set[int]] = {}
    for g_index, g in enumerate(groups):
        topics = [labels[i] for i in g.members]
        named = [t for t in topics if t is not None]
        best = max(set(named), key=named.count) if named else None
        pure += named.count(best) if best is not None else 0
        if len(g.members) == 1 and topics[0] is None:
            pure += 1
        elif None in topics:
            merged += topics.count(None)
        for t in named:
            homes.setdefault(t, set()).add(g_index)
    by_topic: dict[str, list[int]] = {}
    for g_index, g in enumerate(groups):
        for i in g.members:
            if labels[i] is not None:
                by_topic.setdefault(labels[i], []).append(g_index)
    held = sum(max(gs.count(x) for x in set(gs)) for gs in by_topic.values())
    n_named = sum(len(gs) for gs in by_topic.values())
    return Quality(purity=pure / len(labels) if labels else 1.0, inverse_purity=held / n_named if n_named else 1.0,
                   topic_groups=sum(1 for g in groups if len(g.members) > 1),
                   true_topics=len(homes), split_topics=sum(1 for h in homes.values() if len(h) > 1),
                   merged_distractors=merged)
