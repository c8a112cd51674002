"""The concept decision: which candidate concepts of a paper a reader would list, and as what.

Recognition finds spans and normalisation merges them into concepts; many of those are phrases no
researcher would list ("student model", "model architecture", "large model"). For each candidate
(a concept as it occurs in one paper) this stage computes evidence a span tagger lacks — how many of
74,675 arXiv abstracts name the phrase and its head (:mod:`kg.normalise.termstats`), its form (name-like, an
acronym the paper defines, in the title, repeated, proposed), its head and modifiers, the
recognisers' confidences and agreement — and a gradient-boosted tree model trained on the
seed-style gold (``training/concept_decision.py``, cross-validated over seed-train, chosen on
seed-dev) gives the probability that a reader would list it, and as which type. Candidates under the
model's threshold are dropped; a concept's type is the type its kept papers vote for, weighted by
the model's probabilities, over the whole corpus.

The model is plain JSON (``kg/models/decision/model.json``): the trees' split features,
thresholds and leaf values, evaluated here without scikit-learn, so a fixed model and features
always give the same decisions.
"""

from __future__ import annotations

import bisect
import gc
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kg.extract.candidates import CANDIDATE_PRODUCERS
from kg.extract.resources import RuleResources, load_resources
from kg.normalise.termstats import TermStats, load_termstats
from kg.records import LABELS, Concept, Mention, Paper

__all__ = [
    "CLASSES",
    "FEATURES",
    "Candidate",
    "Decision",
    "DecisionModel",
    "candidates",
    "decide",
    "load_decision_model",
    "MODEL_PATH",
]

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "decision" / "model.json"

#: what the model predicts for a candidate: not listed, or listed as one of the four types
CLASSES: tuple[str, ...] = ("DROP", *LABELS)

_NAME_LIKE = re.compile(r"[A-Z].*[A-Z0-9]|[0-9]")
_CAPITAL_INSIDE = re.compile(r"\w[A-Z]")
_PRODUCERS = (
    "ner",
    "kg_abbreviations",
    "kg_cues",
    "kg_gazetteer",
    "kg_names",
    "kg_noun_phrases",
    "kg_chunk",
    "kg_variant",
)

#: the features, in the order the model reads them
FEATURES: tuple[str, ...] = (
    *(f"type_{t}" for t in LABELS),
    "n_mentions",
    "n_forms",
    "in_title",
    "title_only",
    "first_pos",
    "conf_max",
    "conf_mean",
    *(f"prod_{p}" for p in _PRODUCERS),
    "n_producers",
    "recognised",
    "recognised_share",
    "inside_recognised",
    "contains_recognised",
    "overlapping_candidates",
    "proposed",
    "acronym_form",
    "acronym_defined",
    "long_form_of_acronym",
    "name_like",
    "capital_inside",
    "has_digit",
    "lower_only",
    "capitalised",
    "n_words",
    "n_chars",
    "df_key",
    "df_head",
    "df_first",
    "df_rest",
    "df_label",
    "specificity",
    "rest_specificity",
    "head_generic",
    "head_generic_tail",
    "first_modifier_generic",
    "key_generic",
    *(f"head_lex_{t}" for t in LABELS),
    "in_parentheses",
    "papers_in_input",
)
#: features learnt from the training set's lexicon: how often candidates with this key, head word or
#: first word were listed by the annotators (smoothed), and as which type
PRIOR_FIELDS: tuple[str, ...] = ("key", "head", "first", "rest")
PRIOR_FEATURES: tuple[str, ...] = tuple(
    name for fld in PRIOR_FIELDS for name in (f"prior_{fld}", f"seen_{fld}", *(f"prior_{fld}_{t}" for t in LABELS))
)
PRIOR_SMOOTHING = 2.0
#: how many of the strongest contributions a decision keeps as its evidence
EVIDENCE = 6
#: candidates decided at once (features for this many are held together)
BATCH = 20_000
#: rows the stacked trees walk at once (rows x trees arrays of this many rows)
_ROWS = 1024


def _log_df(stats: TermStats | None, key: str) -> float:
    return math.log1p(stats.df(key)) if stats is not None else 0.0


@dataclass
class Candidate:
    """One concept as it occurs in one paper, with the evidence about it."""

    paper_id: str
    concept: str
    label: str
    type: str
    mentions: list[Mention]
    features: dict[str, float] = field(default_factory=dict)
    lexicon: dict[str, str] = field(default_factory=dict)  # key, head, first, rest: what priors look up
    passage: bool = False  # from a record given as one text (no title and abstract): not decided


def lexicon_of(key: str) -> dict[str, str]:
    """The strings a candidate's priors are looked up by: its key, head (last) word, first word, rest."""
    words = key.split()
    if not words:
        return dict.fromkeys(PRIOR_FIELDS, "")
    return {"key": key, "head": words[-1], "first": words[0] if len(words) > 1 else "", "rest": " ".join(words[1:])}


@dataclass
class Decision:
    """What the model decided for one candidate, and why."""

    paper_id: str
    concept: str
    label: str
    kept: bool
    type: str
    score: float  # probability that a reader lists it (1 - P(DROP))
    probabilities: dict[str, float]
    features: dict[str, float]
    reason: str = "model"  # "model"; "overlap" (a stronger kept span covers it); "passage" (not decided);
    # "same meaning" (kept, and its mentions in this paper join the concept ``joins``: kg.normalise.meaning)
    evidence: dict[str, float] = field(default_factory=dict)  # feature -> push towards listing it
    joins: str = ""
    join_probability: float = 0.0

    @classmethod
    def of(
        cls,
        c: Candidate,
        probabilities: dict[str, float],
        threshold: float,
        features: dict[str, float],
        reason: str = "model",
        evidence: dict[str, float] | None = None,
    ) -> Decision:
        """The decision for ``c`` given class probabilities: kept when P(listed) >= ``threshold``."""
        score = 1.0 - probabilities.get("DROP", 0.0)
        best = max(LABELS, key=lambda t: (probabilities.get(t, 0.0), -LABELS.index(t)))
        return cls(
            c.paper_id,
            c.concept,
            c.label,
            score >= threshold,
            best,
            score,
            probabilities,
            features,
            reason,
            evidence or {},
        )

    def to_dict(self, features: bool = False) -> dict[str, Any]:
        """The decision as a record; ``features`` adds every feature (the evidence is always there)."""
        extra = {"features": {k: round(v, 4) for k, v in self.features.items()}} if features else {}
        return {
            "paper": self.paper_id,
            "concept": self.concept,
            "label": self.label,
            "kept": self.kept,
            "type": self.type,
            "score": round(self.score, 4),
            "reason": self.reason,
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "evidence": {k: round(v, 4) for k, v in self.evidence.items()},
            **({"joins": self.joins, "join_probability": round(self.join_probability, 4)} if self.joins else {}),
            **extra,
        }


#: no span is longer than this many characters when looking for overlaps (longer ones are rare
#: and only lose an overlap feature)
_MAX_SPAN = 200


def _near(spans: Sequence[tuple[int, int]], start: int, end: int) -> Sequence[tuple[int, int]]:
    """The spans (sorted by start) that can overlap [start, end): bounded work per mention."""
    lo = bisect.bisect_left(spans, (start - _MAX_SPAN, -1))
    hi = bisect.bisect_left(spans, (end, -1))
    return spans[lo:hi]


def _features(
    paper: Paper,
    ms: Sequence[Mention],
    concept: Concept,
    abbreviations: Sequence[tuple[str, str]],
    stats: TermStats | None,
    res: RuleResources,
    n_input_papers: int,
    recognised_spans: Sequence[tuple[int, int]] = (),
    all_spans: Sequence[tuple[int, int]] = (),
) -> dict[str, float]:
    from kg.normalise import acronym_key, concept_key, is_acronym

    text = paper.text
    title_end = len(paper.title) if paper.raw_text is None else 0  # a record given as one text has no title
    forms = sorted({m.text for m in ms})
    key = concept_key(concept.label)
    words = key.split()
    head, first = (words[-1], words[0]) if words else ("", "")
    rest = " ".join(words[1:])
    conf = [m.confidence for m in ms]
    producers = {m.producer for m in ms}
    long_keys = {concept_key(lf) for lf, _ in abbreviations}
    short_keys = {acronym_key(sf) for _, sf in abbreviations}
    f: dict[str, float] = {f"type_{t}": float(concept.type == t) for t in LABELS}
    f.update(
        {
            "n_mentions": float(len(ms)),
            "n_forms": float(len(forms)),
            "in_title": float(any(m.start < title_end for m in ms)),
            "title_only": float(all(m.start < title_end for m in ms)),
            "first_pos": min(m.start for m in ms) / max(1, len(text)),
            "conf_max": max(conf),
            "conf_mean": sum(conf) / len(conf),
        }
    )
    for p in _PRODUCERS:
        f[f"prod_{p}"] = float(p in producers)
    f["n_producers"] = float(len(producers))
    recognised = [m for m in ms if m.producer not in CANDIDATE_PRODUCERS]
    f["recognised"] = float(bool(recognised))
    f["recognised_share"] = len(recognised) / len(ms)
    own = {(m.start, m.end) for m in ms}
    near_rec = [sp for m in ms for sp in _near(recognised_spans, m.start, m.end)]
    f["inside_recognised"] = sum(
        any(s <= m.start and m.end <= e and (s, e) != (m.start, m.end) for s, e in near_rec) for m in ms
    ) / len(ms)
    f["contains_recognised"] = float(
        any(m.start <= s and e <= m.end and (s, e) != (m.start, m.end) for m in ms for s, e in near_rec)
    )
    f["overlapping_candidates"] = len(
        {
            (s, e)
            for m in ms
            for s, e in _near(all_spans, m.start, m.end)
            if (s, e) not in own and s < m.end and m.start < e
        }
    ) / len(ms)
    f["proposed"] = float(any(m.role == "proposed" for m in ms))
    f["acronym_form"] = float(any(is_acronym(t) for t in forms))
    f["acronym_defined"] = float(any(is_acronym(t) and acronym_key(t) in short_keys for t in forms))
    f["long_form_of_acronym"] = float(key in long_keys)
    f["name_like"] = float(any(_NAME_LIKE.search(t) for t in forms))
    f["capital_inside"] = float(any(_CAPITAL_INSIDE.search(t) for t in forms))
    f["has_digit"] = float(any(c.isdigit() for c in concept.label))
    f["lower_only"] = float(all(t == t.lower() for t in forms))
    f["capitalised"] = float(
        any(
            t[:1].isupper() and m.start > 0 and text[m.start - 2 : m.start].strip() not in (".", "")
            for m in ms
            for t in [m.text]
        )
    )
    f["n_words"] = float(len(words))
    f["n_chars"] = float(len(concept.label))
    f["df_key"] = _log_df(stats, key)
    f["df_head"] = _log_df(stats, head)
    f["df_first"] = _log_df(stats, first)
    f["df_rest"] = _log_df(stats, rest) if rest else f["df_head"]
    f["df_label"] = max((_log_df(stats, concept_key(t)) for t in forms), default=0.0)
    f["specificity"] = f["df_key"] - f["df_head"]
    f["rest_specificity"] = f["df_key"] - f["df_rest"]
    f["head_generic"] = float(head in res.generic)
    f["head_generic_tail"] = float(head in res.generic_tails or head in res.name_tails)
    f["first_modifier_generic"] = float(len(words) > 1 and first in res.strip_modifiers)
    f["key_generic"] = float(key in res.generic_concepts)
    for t in LABELS:
        f[f"head_lex_{t}"] = float(res.heads.get(head) == t)
    f["in_parentheses"] = float(any(m.start > 0 and text[m.start - 1] == "(" for m in ms))
    f["papers_in_input"] = len(concept.papers) / max(1, n_input_papers)
    return f


def candidates(
    papers: Sequence[Paper],
    abbreviations: dict[str, list[tuple[str, str]]],
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    stats: TermStats | None = None,
    resources: RuleResources | None = None,
    n_input_papers: int | None = None,
) -> list[Candidate]:
    """Every (paper, concept) pair the mentions make, with its features; in paper then concept order.

    ``n_input_papers``: the size of the whole input when ``papers`` is one part of it.
    """
    stats = stats if stats is not None else load_termstats()
    res = resources or load_resources()
    by_pc: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.concept:
            by_pc[(m.paper_id, m.concept)].append(m)
    paper_by_id = {p.id: p for p in papers}
    recognised: dict[str, list[tuple[int, int]]] = defaultdict(list)
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for m in mentions:
        spans[m.paper_id].append((m.start, m.end))
        if m.producer not in CANDIDATE_PRODUCERS:
            recognised[m.paper_id].append((m.start, m.end))
    for lst in (*recognised.values(), *spans.values()):
        lst.sort()
    out = []
    for (pid, cid), ms in sorted(by_pc.items()):
        c = concepts[cid]
        feats = _features(
            paper_by_id[pid],
            ms,
            c,
            abbreviations.get(pid, []),
            stats,
            res,
            n_input_papers or len(papers),
            recognised[pid],
            spans[pid],
        )
        from kg.normalise import concept_key

        out.append(
            Candidate(
                pid,
                cid,
                c.label,
                c.type,
                ms,
                feats,
                lexicon_of(concept_key(c.label)),
                passage=paper_by_id[pid].raw_text is not None,
            )
        )
    return out


class DecisionModel:
    """Gradient-boosted trees read from JSON: ``predict`` gives class probabilities."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.features: list[str] = spec["features"]
        self.classes: list[str] = spec["classes"]
        self.learning_rate: float = spec["learning_rate"]
        self.init: list[float] = spec["init"]
        self.threshold: float = spec["threshold"]
        # trees[stage][class] = (feature, threshold, left, right, value) arrays
        self.trees: list[list[dict[str, list[Any]]]] = spec["trees"]
        # every tree stacked into padded arrays, made once, so all of them run over a batch at once
        flat = [(k, t) for stage in self.trees for k, t in enumerate(stage)]
        width = max(len(t["l"]) for _, t in flat)

        def pad(key: str, fill: float, dtype: type) -> np.ndarray:
            out: np.ndarray = np.full((len(flat), width), fill, dtype=dtype)
            for i, (_, t) in enumerate(flat):
                out[i, : len(t[key])] = t[key]
            return out

        self._feat = np.maximum(pad("f", 0, np.int64), 0)
        self._thr = pad("t", 0.0, np.float64)
        self._left = pad("l", -1, np.int64)
        self._right = pad("r", -1, np.int64)
        self._value = pad("v", 0.0, np.float64)
        self._tree_class = np.array([k for k, _ in flat], dtype=np.int64)
        # priors[field][string] = [listed, seen, per-type counts...]; base = the training set's rates
        self.priors: dict[str, dict[str, list[float]]] = spec.get("priors", {})
        self.prior_base: list[float] = spec.get("prior_base", [0.0] * (1 + len(LABELS)))
        missing = [f for f in self.features if f not in FEATURES and f not in PRIOR_FEATURES]
        if missing:
            raise ValueError(
                f"decision model names unknown features {missing}: retrain it (training/concept_decision.py)"
            )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> DecisionModel:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def raw(self, x: Sequence[float]) -> list[float]:
        out = list(self.init)
        for stage in self.trees:
            for k, t in enumerate(stage):
                node = 0
                feat, thr, left, right, value = t["f"], t["t"], t["l"], t["r"], t["v"]
                while left[node] != -1:
                    node = left[node] if x[feat[node]] <= thr[node] else right[node]
                out[k] += self.learning_rate * value[node]
        return out

    def prior_features(self, lexicon: dict[str, str]) -> dict[str, float]:
        """The learnt-lexicon features of a candidate (see :data:`PRIOR_FEATURES`)."""
        return prior_features(self.priors, self.prior_base, lexicon)

    def features_of(self, features: dict[str, float], lexicon: dict[str, str] | None) -> dict[str, float]:
        """The candidate's features with its learnt-lexicon ones added."""
        if lexicon is not None and self.priors:
            return {**features, **self.prior_features(lexicon)}
        return features

    def _walk(self, x: np.ndarray, trees: np.ndarray, contrib: np.ndarray | None = None) -> np.ndarray:
        """The leaf each row of ``x`` reaches in each of ``trees`` (rows x trees); Saabas contributions
        (per row and feature) added to ``contrib`` when given."""
        n, t = len(x), len(trees)
        width = self._left.shape[1]
        base = np.broadcast_to(trees * width, (n, t))  # flat offsets of each tree's nodes
        row_base = np.broadcast_to((np.arange(n) * x.shape[1])[:, None], (n, t))
        xf = x.ravel()
        left_a, right_a, feat_a, thr_a, value_a = (
            a.ravel() for a in (self._left, self._right, self._feat, self._thr, self._value)
        )
        node = np.zeros((n, t), dtype=np.int64)
        while True:
            at = base + node
            left = left_a.take(at)
            inner = left != -1
            if not inner.any():
                return node
            f = feat_a.take(at)
            go_left = xf.take(row_base + f) <= thr_a.take(at)
            child = np.where(inner, np.where(go_left, left, right_a.take(at)), node)
            if contrib is not None:
                delta = self.learning_rate * (value_a.take(base + child) - value_a.take(at))
                contrib += np.bincount((row_base + f)[inner], weights=delta[inner], minlength=contrib.size).reshape(
                    contrib.shape
                )
            node = child

    def raw_matrix(self, x: np.ndarray) -> np.ndarray:
        out = np.tile(np.asarray(self.init, dtype=np.float64), (len(x), 1))
        trees = np.arange(len(self._tree_class))
        onehot = np.eye(len(self.classes))[self._tree_class]  # trees x classes
        for start in range(0, len(x), _ROWS):
            part = x[start : start + _ROWS]
            leaves = self._walk(part, trees)
            out[start : start + _ROWS] += self.learning_rate * (
                self._value.ravel().take(trees * self._left.shape[1] + leaves) @ onehot
            )
        return out

    def predict_matrix(self, x: np.ndarray) -> list[dict[str, float]]:
        """Class probabilities for each row of a feature matrix (columns in ``self.features`` order)."""
        raw = self.raw_matrix(x)
        raw -= raw.max(axis=1, keepdims=True)
        p = np.exp(raw)
        p /= p.sum(axis=1, keepdims=True)
        return [dict(zip(self.classes, map(float, row), strict=True)) for row in p]

    def evidence_matrix(self, x: np.ndarray, top: int) -> list[dict[str, float]]:
        """Each row's ``top`` strongest pushes towards (positive) or away from listing it."""
        k = self.classes.index("DROP")
        contrib = np.zeros_like(x)
        trees = np.flatnonzero(self._tree_class == k)
        for start in range(0, len(x), _ROWS):
            self._walk(x[start : start + _ROWS], trees, contrib[start : start + _ROWS])
        contrib = -contrib
        order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :top]  # ties: feature order
        return [
            {self.features[j]: float(row[j]) for j in idx if row[j] != 0.0}
            for row, idx in zip(contrib, order, strict=True)
        ]

    def predict(self, features: dict[str, float], lexicon: dict[str, str] | None = None) -> dict[str, float]:
        if lexicon is not None and self.priors:
            features = {**features, **self.prior_features(lexicon)}
        x = [features.get(name, 0.0) for name in self.features]
        raw = self.raw(x)
        top = max(raw)
        exp = [math.exp(r - top) for r in raw]
        z = sum(exp)
        return {c: e / z for c, e in zip(self.classes, exp, strict=True)}


def prior_features(
    priors: dict[str, dict[str, list[float]]],
    base: Sequence[float],
    lexicon: dict[str, str],
) -> dict[str, float]:
    """Smoothed rates of being listed (and of each type) for the candidate's key, head, first word, rest."""
    out: dict[str, float] = {}
    a = PRIOR_SMOOTHING
    for fld in PRIOR_FIELDS:
        row = priors.get(fld, {}).get(lexicon.get(fld, ""), None)
        listed, seen = (row[0], row[1]) if row else (0.0, 0.0)
        out[f"prior_{fld}"] = (listed + a * base[0]) / (seen + a)
        out[f"seen_{fld}"] = math.log1p(seen)
        for i, t in enumerate(LABELS):
            n_t = row[2 + i] if row else 0.0
            out[f"prior_{fld}_{t}"] = (n_t + a * base[1 + i]) / (listed + a)
    return out


def count_priors(
    lexicons: Sequence[dict[str, str]],
    labels: Sequence[str],
) -> tuple[dict[str, dict[str, list[float]]], list[float]]:
    """The prior tables of a training set: per field and string, [listed, seen, listed as each type]."""
    priors: dict[str, dict[str, list[float]]] = {fld: {} for fld in PRIOR_FIELDS}
    for lex, lab in zip(lexicons, labels, strict=True):
        for fld in PRIOR_FIELDS:
            s = lex.get(fld, "")
            if not s:
                continue
            row = priors[fld].setdefault(s, [0.0] * (2 + len(LABELS)))
            row[1] += 1
            if lab != "DROP":
                row[0] += 1
                row[2 + LABELS.index(lab)] += 1
    n = max(1, len(labels))
    listed = [lab for lab in labels if lab != "DROP"]
    base = [len(listed) / n, *(sum(lab == t for lab in listed) / max(1, len(listed)) for t in LABELS)]
    return {fld: dict(sorted(v.items())) for fld, v in priors.items()}, base


@lru_cache(maxsize=1)
def load_decision_model() -> DecisionModel | None:
    """The shipped model, or None when none has been trained (then every candidate is kept)."""
    return DecisionModel.load() if MODEL_PATH.exists() else None


def decide(
    cands: Sequence[Candidate],
    model: DecisionModel | None = None,
    threshold: float | None = None,
) -> list[Decision]:
    """The model's decision for each candidate: kept when P(listed) >= the threshold."""
    model = model if model is not None else load_decision_model()
    thr = threshold if threshold is not None else (model.threshold if model is not None else 0.0)
    out: list[Decision] = []
    for start in range(0, len(cands), BATCH):
        batch = cands[start : start + BATCH]
        feats = [c.features for c in batch]
        # without a trained decision, or for a passage (a record given as one text: a sentence or an
        # abstract without its title, which the decision was never trained on), the recognisers' mentions
        probs = [
            {t: float(t == c.type) if c.features.get("recognised", 1.0) else float(t == "DROP") for t in CLASSES}
            for c in batch
        ]
        evidence: list[dict[str, float]] = [{} for _ in batch]
        rows = [i for i, c in enumerate(batch) if not c.passage]
        if model is not None and rows:
            decided = [model.features_of(batch[i].features, batch[i].lexicon) for i in rows]
            x = np.array([[f.get(name, 0.0) for name in model.features] for f in decided], dtype=np.float64)
            for i, f, p, ev in zip(
                rows, decided, model.predict_matrix(x), model.evidence_matrix(x, EVIDENCE), strict=True
            ):
                feats[i], probs[i], evidence[i] = f, p, ev
        for c, f, p, ev in zip(batch, feats, probs, evidence, strict=True):
            undecided = model is None or c.passage
            out.append(Decision.of(c, p, 0.5 if undecided else thr, f, "passage" if c.passage else "model", ev))
    return out


def corpus_types(decisions: Sequence[Decision]) -> dict[str, str]:
    """Each kept concept's type over the whole corpus: the type its kept papers' probabilities favour."""
    return types_of(add_type_votes({}, decisions))


def add_type_votes(votes: dict[str, list[float]], decisions: Sequence[Decision]) -> dict[str, list[float]]:
    """Add the kept ``decisions``' type probabilities to ``votes`` (concept -> a sum per label, in
    :data:`LABELS` order): the corpus-wide type vote gathered chunk by chunk, in bounded memory."""
    for d in decisions:
        if d.kept:
            v = votes.get(d.concept)
            if v is None:
                v = votes[d.concept] = [0.0] * len(LABELS)
            for i, t in enumerate(LABELS):
                v[i] += d.probabilities.get(t, 0.0)
    return votes


def types_of(votes: dict[str, list[float]]) -> dict[str, str]:
    """The type each concept's summed votes (:func:`add_type_votes`) favour."""
    return {cid: LABELS[max(range(len(LABELS)), key=lambda i: (v[i], -i))] for cid, v in sorted(votes.items())}


def select_mentions(decisions: Sequence[Decision], mentions: Sequence[Mention]) -> list[Mention]:
    """The mentions of kept candidates, overlaps resolved: the higher-scoring candidate's span wins.

    A kept candidate left with no mention (every one inside a stronger span) is marked not kept, with
    the reason ``overlap``. Returns the surviving mentions in their input order.
    """
    score = {(d.paper_id, d.concept): d for d in decisions if d.kept}
    by_paper: dict[str, list[int]] = defaultdict(list)
    for i, m in enumerate(mentions):
        if (m.paper_id, m.concept) in score:
            by_paper[m.paper_id].append(i)
    keep: set[int] = set()
    for idx in by_paper.values():
        ranked = sorted(
            idx,
            key=lambda i: (
                -score[(mentions[i].paper_id, mentions[i].concept)].score,
                mentions[i].producer in CANDIDATE_PRODUCERS,
                -(mentions[i].end - mentions[i].start),
                mentions[i].start,
            ),
        )
        taken: list[tuple[int, int]] = []
        for i in ranked:
            m = mentions[i]
            if all(m.end <= s or m.start >= e for s, e in taken):
                taken.append((m.start, m.end))
                keep.add(i)
    for i in keep:  # an extra candidate has no recogniser's confidence: the decision's is its own
        m = mentions[i]
        if m.producer in CANDIDATE_PRODUCERS:
            m.confidence = round(score[(m.paper_id, m.concept)].score, 4)
    alive = {(mentions[i].paper_id, mentions[i].concept) for i in keep}
    for d in decisions:
        if d.kept and (d.paper_id, d.concept) not in alive:
            d.kept, d.reason = False, "overlap"
    return [m for i, m in enumerate(mentions) if i in keep]


def apply_decisions(
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    decisions: Sequence[Decision],
    papers: Sequence[Paper] | None = None,
) -> tuple[dict[str, Concept], list[Mention]]:
    """Keep the mentions of kept candidates (overlaps resolved), retype concepts, drop concepts left in no paper.

    Given the ``papers``, a paper's concepts of one meaning join first (:func:`join_same_meaning`), as
    :func:`decide_in_chunks` does."""
    kept = select_mentions(decisions, mentions)
    if papers is not None:
        joins = join_same_meaning(papers, decisions, kept)
        for m in kept:
            m.concept = joins.get((m.paper_id, m.concept), m.concept)
    return retype_concepts(concepts, kept, corpus_types(decisions))


def retype_concepts(
    concepts: dict[str, Concept], out_mentions: list[Mention], types: dict[str, str]
) -> tuple[dict[str, Concept], list[Mention]]:
    """The concepts of the kept mentions ``out_mentions``, with their corpus ``types``; the rest dropped."""
    papers: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    forms: dict[str, dict[str, int]] = defaultdict(dict)
    for m in out_mentions:
        papers[m.concept].add(m.paper_id)
        counts[m.concept] += 1
        forms[m.concept][m.text] = forms[m.concept].get(m.text, 0) + 1
    out_concepts: dict[str, Concept] = {}
    for cid, c in concepts.items():
        if cid not in papers:
            continue
        c.papers = papers[cid]
        c.mention_count = counts[cid]
        c.aliases = dict(sorted(forms[cid].items()))
        c.type = types.get(cid, c.type)
        out_concepts[cid] = c
    for m in out_mentions:
        m.label = out_concepts[m.concept].type
    return out_concepts, out_mentions


def decide_concepts(
    papers: Sequence[Paper],
    extractions: Sequence[Any],
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    model: DecisionModel | None = None,
    threshold: float | None = None,
    keep_features: bool = False,
    chunk: int = 250,
    processes: int = 1,
) -> tuple[dict[str, Concept], list[Mention], list[Decision]]:
    """The decision stage over normalised concepts: (kept concepts, kept mentions, every decision).

    ``extractions`` give each paper's acronym definitions. Without a shipped model every candidate
    is kept, as before this stage existed. Papers are decided ``chunk`` at a time, and a decision
    keeps its features only with ``keep_features`` (its evidence always), so memory holds one
    chunk's features, not the corpus's.
    """
    abbreviations = {ex.paper_id: list(ex.abbreviations) for ex in extractions}
    by_paper: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_paper[m.paper_id].append(m)
    decisions: list[Decision] = []
    kept_concepts, kept_mentions = decide_in_chunks(
        papers, abbreviations, concepts, by_paper, decisions.extend, model, threshold, keep_features, chunk, processes
    )
    return kept_concepts, kept_mentions, decisions


def decide_in_chunks(
    papers: Sequence[Paper],
    abbreviations: dict[str, list[tuple[str, str]]],
    concepts: dict[str, Concept],
    by_paper: dict[str, list[Mention]],
    sink: Callable[[list[Decision]], object],
    model: DecisionModel | None = None,
    threshold: float | None = None,
    keep_features: bool = False,
    chunk: int = 250,
    processes: int = 1,
) -> tuple[dict[str, Concept], list[Mention]]:
    """:func:`decide_concepts` in memory bounded by a chunk: (kept concepts, kept mentions).

    ``by_paper`` (paper id -> its normalised mentions, in offset order; ids unique) is consumed
    ``chunk`` papers at a time: a chunk's mentions are decided, their overlaps resolved
    (:func:`select_mentions` works paper by paper) and its decisions handed to ``sink`` (e.g.
    written out), so neither the dropped mentions nor the decisions stay in memory; the
    corpus-wide type vote is gathered as one row of sums per concept (:func:`add_type_votes`).
    The result equals :func:`apply_decisions` over all decisions at once.

    ``processes`` > 1 decides chunks in that many forked worker processes (where the platform
    forks); chunks are handed back in order, so the result and what ``sink`` sees are the same as
    with one process.
    """
    model = model if model is not None else load_decision_model()
    votes: dict[str, list[float]] = {}
    kept: list[Mention] = []
    bounds = [(start, min(start + chunk, len(papers))) for start in range(0, len(papers), chunk)]
    state = _ChunkState(papers, abbreviations, concepts, by_paper, model, threshold, keep_features)
    for (start, end), (made, kept_at) in zip(bounds, _map_chunks(state, bounds, processes), strict=True):
        ms = [m for p in papers[start:end] for m in by_paper.pop(p.id, ())]
        for i, confidence, joins in kept_at:
            m = ms[i]
            m.confidence = confidence
            if joins:
                m.concept = joins
            kept.append(m)
        add_type_votes(votes, made)
        sink(made)
    kept.sort(key=lambda m: (m.paper_id, m.start, m.end))  # the normalised mentions' order
    return retype_concepts(concepts, kept, types_of(votes))


@dataclass
class _ChunkState:
    """What deciding a chunk reads (a forked worker inherits it; nothing of it is sent)."""

    papers: Sequence[Paper]
    abbreviations: dict[str, list[tuple[str, str]]]
    concepts: dict[str, Concept]
    by_paper: dict[str, list[Mention]]
    model: DecisionModel | None
    threshold: float | None
    keep_features: bool
    join: bool = True

    def decide(self, bounds: tuple[int, int]) -> tuple[list[Decision], list[tuple[int, float, str]]]:
        """The decisions of papers[start:end], and the kept mentions as (position in the chunk's
        mentions, confidence, the concept it joins or ""): positions, so that a worker's answer names
        the caller's objects."""
        part = self.papers[bounds[0] : bounds[1]]
        ms = [m for p in part for m in self.by_paper.get(p.id, ())]
        cands = candidates(part, self.abbreviations, self.concepts, ms, n_input_papers=len(self.papers))
        made = decide(cands, self.model, self.threshold)
        if not self.keep_features:
            for d in made:
                d.features = {}
        position = {id(m): i for i, m in enumerate(ms)}
        kept = select_mentions(made, ms)
        joins = join_same_meaning(part, made, kept) if self.join else {}
        return made, [(position[id(m)], m.confidence, joins.get((m.paper_id, m.concept), "")) for m in kept]


_WORKER_STATE: list[_ChunkState] = []  # set in the parent just before the workers fork


def join_same_meaning(
    papers: Sequence[Paper], decisions: Sequence[Decision], kept: Sequence[Mention]
) -> dict[tuple[str, str], str]:
    """Within each paper, which kept concepts name one thing (:mod:`kg.normalise.meaning`):
    (paper, concept) -> the concept its mentions join. The joining decisions are marked."""
    from kg.normalise.meaning import PaperConcept, load_meaning_model, same_meaning_groups

    model = load_meaning_model()
    if model is None:
        return {}
    title_len = {p.id: len(p.title or "") for p in papers}
    passage = {p.id for p in papers if not p.title}
    kept_decision = {(d.paper_id, d.concept): d for d in decisions if d.kept}
    by_paper: dict[str, dict[str, PaperConcept]] = defaultdict(dict)
    for m in kept:
        if m.paper_id in passage:  # a record given as one text is not decided, nor joined
            continue
        d = kept_decision.get((m.paper_id, m.concept))
        if d is None:
            continue
        pc = by_paper[m.paper_id].get(m.concept)
        if pc is None:
            pc = by_paper[m.paper_id][m.concept] = PaperConcept(
                m.concept, m.concept.replace("-", " "), d.type, [], 0, first=m.start
            )
        if m.text not in pc.forms:
            pc.forms.append(m.text)
        pc.n_mentions += 1
        pc.in_title = pc.in_title or m.start < title_len[m.paper_id]
        pc.first = min(pc.first, m.start)
    out: dict[tuple[str, str], str] = {}
    for pid, concepts in by_paper.items():
        for cid, (target, p) in same_meaning_groups([concepts[c] for c in sorted(concepts)], model).items():
            out[(pid, cid)] = target
            d = kept_decision[(pid, cid)]
            d.reason, d.joins, d.join_probability = "same meaning", target, p
    return out


def _decide_in_worker(bounds: tuple[int, int]) -> tuple[list[Decision], list[tuple[int, float, str]]]:
    return _WORKER_STATE[0].decide(bounds)


def _map_chunks(
    state: _ChunkState, bounds: list[tuple[int, int]], processes: int
) -> Iterator[tuple[list[Decision], list[tuple[int, float, str]]]]:
    """Each chunk's decision, in order: here, or in ``processes`` forked workers."""
    import multiprocessing as mp

    if processes <= 1 or len(bounds) < 2 or "fork" not in mp.get_all_start_methods():
        yield from map(state.decide, bounds)
        return
    load_termstats()  # loaded once, here, and inherited by the workers
    _WORKER_STATE[:] = [state]
    gc.freeze()  # the collector would otherwise write to (and so copy) every inherited page
    try:
        with mp.get_context("fork").Pool(min(processes, len(bounds))) as pool:
            yield from pool.imap(_decide_in_worker, bounds)
    finally:
        _WORKER_STATE.clear()
        gc.unfreeze()


def explain_paper(out: Path, paper: str) -> tuple[str, list[dict[str, Any]]]:
    """The decisions a build of ``out`` made for ``paper`` (id or exact title): kept first, by score."""
    from kg.errors import KGError

    papers_file, decisions_file = Path(out) / "papers.jsonl", Path(out) / "decisions.jsonl"
    if not decisions_file.is_file() or not papers_file.is_file():
        raise KGError(f"{out}: no decisions.jsonl here; run kg build -o {out} first (or pass -o DIR)")
    title = None
    pid = paper
    with papers_file.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["id"] == paper or rec.get("title") == paper:
                pid, title = rec["id"], rec.get("title") or rec["id"]
                break
    if title is None:
        raise KGError(f"no paper {paper!r} in {papers_file}; give a paper id or its exact title")
    rows = []
    with decisions_file.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["paper"] == pid:
                rows.append(rec)
    rows.sort(key=lambda r: (not r["kept"], -r["score"], r["label"]))
    return title, rows
