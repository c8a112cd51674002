"""One concept per meaning within a paper: a learnt decision whether two of its concepts name one thing.

Normalisation merges surface forms that share a key ("speed-up" = "speedup"), and an acronym joins the
long form its paper defines. What keys cannot see is a paper naming one thing several ways: "peak memory"
and "peak memory usage", "memory consumption" and "memory usage", "majority vote" and "majority voting",
"Model FLOPs Utilization" and "MFU" without a parenthesis. Readers list such forms as one concept
(seed-train's aliases); kg kept them apart.

After the concept decision, every pair of a paper's kept concepts that share a word stem, an acronym
relation or a close word vector is scored by a logistic regression over the pair's form (word
containment, shared head, stems, character and word-vector similarity, acronym initials) and the
corpus's document frequencies of both (``training/same_concept.py`` fits it on seed-train's alias
groups, its threshold chosen by 5-fold cross-validation; ``kg/models/meaning/model.json``). Pairs above
the threshold join, complete-link (every pair of a group must be above it), and the group's
mentions in that paper take the concept most papers of the corpus name (then the longest, then the id).
The decision reads only the paper and the shipped statistics, so a paper's result never depends on
the rest of the corpus's papers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kg.extract.resources import load_resources
from kg.normalise.termstats import TermStats, load_termstats

__all__ = [
    "FEATURES",
    "PaperConcept",
    "SameMeaningModel",
    "load_meaning_model",
    "load_vectors",
    "pair_features",
    "candidate_pairs",
    "same_meaning_groups",
    "stem",
]

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "meaning" / "model.json"
VECTORS = Path(__file__).resolve().parent.parent / "models" / "ner" / "vocab"

_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = (
    "ational",
    "ization",
    "isation",
    "ations",
    "ation",
    "ities",
    "ingly",
    "ings",
    "ing",
    "ity",
    "ive",
    "ion",
    "ness",
    "ment",
    "ally",
    "al",
    "ed",
    "er",
    "es",
    "ly",
    "s",
    "e",
    "y",
)


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A crude stem that lets derivations of one word meet: its first five letters after one suffix.

    >>> stem("computational") == stem("computing"), stem("voting") == stem("vote"), stem("sparsity")
    (True, True, 'spars')
    """
    w = word.lower()
    for s in _SUFFIXES:
        if w.endswith(s) and len(w) - len(s) >= 3:
            w = w[: -len(s)]
            break
    return w[:5]


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-", " "))


def _initials(words: Sequence[str]) -> str:
    return "".join(w[0] for w in words if w)


def _acronym_letters(text: str) -> str:
    """The letters of an acronym-like form ("MFU", "LLMs" -> "llm", "FLOPs" -> "flop"), or ""."""
    t = text.strip()
    if " " in t or not 2 <= len(t) <= 12 or sum(c.isupper() for c in t) < 2 or not t.replace("-", "").isalnum():
        return ""
    letters = "".join(c for c in t if c.isalnum()).lower()
    if t.endswith("s") and t[:-1].isupper():
        letters = letters[:-1]
    return letters


#: a word one of two names has and the other lacks that makes them opposites, never one thing
_OPPOSITE = frozenset({"non", "not", "no", "anti", "without", "free", "less"})


#: tails that name the same thing as the words before them ("peak memory usage" is the peak memory),
#: beside the rules' generic and name tails (kg/extract/resources/generic.json)
_TAILS = frozenset({"usage", "use", "system", "systems", "score", "rate", "value", "size", "level", "s"})


def _new_head(short: list[str], long: list[str], tails: frozenset[str] | set[str]) -> bool:
    """Whether ``long`` is ``short`` followed by words that make it another thing: "large language model
    agent" after "large language model", "pixel space diffusion model" after "pixel space" (not "peak memory
    usage" after "peak memory")."""
    return len(short) < len(long) and long[: len(short)] == short and any(w not in tails for w in long[len(short) :])


@dataclass
class PaperConcept:
    """A kept concept as one paper names it."""

    concept: str  # its id
    key: str  # its normal form (the concept's key)
    type: str
    forms: list[str]  # the paper's surface forms of it
    n_mentions: int = 1
    corpus_papers: int = 1  # papers of the whole input naming it (a tie-break when a group picks its concept)
    in_title: bool = False
    first: int = 0  # where the paper first names it (a character offset)
    extra: dict[str, Any] = field(default_factory=dict)


#: the pair features, in the model's column order
FEATURES = [
    "same_type",
    "acronym",
    "acronym_subseq",
    "contains",
    "contained_extra_words",
    "prefix",
    "suffix",
    "same_head",
    "same_head_stem",
    "same_first_stem",
    "stem_jaccard",
    "stem_equal",
    "word_jaccard",
    "char_ratio",
    "vector_cosine",
    "head_vector_cosine",
    "min_words",
    "max_words",
    "log_df_short",
    "log_df_long",
    "df_ratio",
    "log_mentions_min",
    "log_mentions_max",
    "both_in_title",
    "one_acronym",
    "digits_differ",
    "both_one_word",
    "long_first",
    "log_first_gap",
    "extra_log_df",
]


class _Vectors:
    """The recogniser's static word vectors (kg/models/ner), looked up by word."""

    def __init__(self, path: Path = VECTORS) -> None:
        from spacy.strings import hash_string  # type: ignore[attr-defined]
        from spacy.vectors import Vectors

        self._hash = hash_string
        self.vectors = Vectors().from_disk(path)
        data = np.asarray(self.vectors.data, dtype=np.float32)
        norms = np.linalg.norm(data, axis=1, keepdims=True)
        self.unit = data / np.maximum(norms, 1e-9)

    def word(self, w: str) -> np.ndarray | None:
        row = self.vectors.key2row.get(self._hash(w), -1)
        return self.unit[row] if row >= 0 else None

    def phrase(self, words: Sequence[str]) -> np.ndarray | None:
        rows = [v for v in (self.word(w) for w in words) if v is not None]
        if not rows:
            return None
        v = np.sum(rows, axis=0)
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else None


@lru_cache(maxsize=1)
def load_vectors() -> _Vectors | None:
    return _Vectors() if (VECTORS / "vectors").exists() else None


def _cos(a: np.ndarray | None, b: np.ndarray | None) -> float:
    return float(a @ b) if a is not None and b is not None else 0.0


def _log_df(stats: TermStats | None, key: str) -> float:
    return math.log1p(stats.df(key)) if stats is not None else 0.0


def pair_features(
    a: PaperConcept, b: PaperConcept, stats: TermStats | None = None, vectors: _Vectors | None = None
) -> dict[str, float]:
    """What the model reads about two concepts of one paper (symmetric in ``a`` and ``b``)."""
    if len(a.key.split()) > len(b.key.split()) or (len(a.key.split()) == len(b.key.split()) and a.key > b.key):
        a, b = b, a  # a: the shorter
    wa, wb = a.key.split(), b.key.split()
    sa, sb = [stem(w) for w in wa], [stem(w) for w in wb]
    acr = 0.0
    subseq = 0.0
    for x, y in ((a, b), (b, a)):
        # only a bare acronym (every form of it one): "MT" of "machine translation (MT)" is taken
        if not x.forms or not all(_acronym_letters(f) for f in x.forms):
            continue
        for fx in x.forms:
            letters = _acronym_letters(fx)
            for fy in y.forms:
                words = _words(fy)
                if len(words) < 2:
                    continue
                if _initials(words) == letters:
                    acr = 1.0
                if _subsequence(letters, "".join(words)) and letters[0] == words[0][0]:
                    subseq = 1.0
    set_a, set_b = set(sa), set(sb)
    contains = float(set_a < set_b or (set_a <= set_b and len(wa) < len(wb)))
    vec_a = vec_b = head_a = head_b = None
    if vectors is not None:
        vec_a, vec_b = vectors.phrase(wa), vectors.phrase(wb)
        head_a, head_b = vectors.word(wa[-1]), vectors.word(wb[-1])
    df_a, df_b = _log_df(stats, a.key), _log_df(stats, b.key)
    digits_a = {w for w in wa if any(ch.isdigit() for ch in w)}
    digits_b = {w for w in wb if any(ch.isdigit() for ch in w)}
    extra = [w for w in wb if stem(w) not in set_a]
    return {
        "same_type": float(a.type == b.type),
        "acronym": acr,
        "acronym_subseq": subseq,
        "contains": contains,
        "contained_extra_words": float(len(set_b - set_a)) if contains else 0.0,
        "prefix": float(len(wa) < len(wb) and sb[: len(sa)] == sa),
        "suffix": float(len(wa) < len(wb) and sb[-len(sa) :] == sa),
        "same_head": float(wa[-1] == wb[-1]),
        "same_head_stem": float(sa[-1] == sb[-1]),
        "same_first_stem": float(sa[0] == sb[0]),
        "stem_jaccard": len(set_a & set_b) / len(set_a | set_b),
        "stem_equal": float(sa == sb),
        "word_jaccard": len(set(wa) & set(wb)) / len(set(wa) | set(wb)),
        "char_ratio": SequenceMatcher(None, a.key, b.key).ratio(),
        "vector_cosine": _cos(vec_a, vec_b),
        "head_vector_cosine": _cos(head_a, head_b),
        "min_words": float(len(wa)),
        "max_words": float(len(wb)),
        "log_df_short": df_a,
        "log_df_long": df_b,
        "df_ratio": df_b - df_a,
        "log_mentions_min": math.log1p(min(a.n_mentions, b.n_mentions)),
        "log_mentions_max": math.log1p(max(a.n_mentions, b.n_mentions)),
        "both_in_title": float(a.in_title and b.in_title),
        "one_acronym": float(
            bool(_acronym_letters(a.forms[0]) if a.forms else "")
            != bool(_acronym_letters(b.forms[0]) if b.forms else "")
        ),
        "digits_differ": float(digits_a != digits_b),
        "both_one_word": float(len(wa) == 1 and len(wb) == 1),
        "long_first": float(b.first < a.first),
        "log_first_gap": math.log1p(abs(a.first - b.first)),
        "extra_log_df": min((_log_df(stats, w) for w in extra), default=0.0),
    }


def _subsequence(letters: str, text: str) -> bool:
    it = iter(text)
    return all(c in it for c in letters)


def candidate_pairs(
    concepts: Sequence[PaperConcept], vectors: _Vectors | None = None, min_cosine: float = 0.6
) -> list[tuple[int, int]]:
    """The pairs worth scoring: of one type, with a shared word stem, an acronym whose letters the other's
    words hold, or close word vectors. Bounded by the paper's own concepts (a paper names a few dozen)."""
    stems = [{stem(w) for w in c.key.split()} for c in concepts]
    words = [set(c.key.split()) for c in concepts]
    keys = [c.key.split() for c in concepts]
    res = load_resources()
    tails = set(res.generic_tails) | set(res.name_tails) | _TAILS
    letters = [{x for x in (_acronym_letters(f) for f in c.forms) if x} for c in concepts]
    joined = ["".join(_words(" ".join(c.forms))) for c in concepts]
    vecs = [vectors.phrase(c.key.split()) if vectors is not None else None for c in concepts]
    out = []
    for i in range(len(concepts)):
        for j in range(i + 1, len(concepts)):
            if concepts[i].type != concepts[j].type:
                continue  # a method and its metric ("CLIP", "CLIP score") are two things
            if (words[i] ^ words[j]) & _OPPOSITE:
                continue  # "linear classifier" and "non-linear classifier", "training" and "training-free"
            if _new_head(keys[i], keys[j], tails) or _new_head(keys[j], keys[i], tails):
                continue  # "LLM agent" is an agent, not the LLM
            if (
                stems[i] & stems[j]
                or any(_subsequence(x, joined[j]) for x in letters[i])
                or any(_subsequence(x, joined[i]) for x in letters[j])
                or _cos(vecs[i], vecs[j]) >= min_cosine
            ):
                out.append((i, j))
    return out


class SameMeaningModel:
    """A logistic regression over :data:`FEATURES`, read from JSON."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.features: list[str] = spec["features"]
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ValueError(
                f"same-meaning model names unknown features {unknown}: retrain it (training/same_concept.py)"
            )
        self.mean = np.asarray(spec["mean"], dtype=np.float64)
        self.scale = np.asarray(spec["scale"], dtype=np.float64)
        self.coef = np.asarray(spec["coef"], dtype=np.float64)
        self.intercept = float(spec["intercept"])
        self.threshold = float(spec["threshold"])

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> SameMeaningModel:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def probability(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        x = np.array([[r.get(f, 0.0) for f in self.features] for r in rows], dtype=np.float64)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=1)
def load_meaning_model() -> SameMeaningModel | None:
    """The shipped model, or None when none has been trained (then no pair is joined)."""
    return SameMeaningModel.load() if MODEL_PATH.exists() else None


def same_meaning_groups(
    concepts: Sequence[PaperConcept],
    model: SameMeaningModel | None = None,
    stats: TermStats | None = None,
    vectors: _Vectors | None = None,
    threshold: float | None = None,
) -> dict[str, tuple[str, float]]:
    """Which of one paper's concepts join another: concept id -> (the id it joins, the weakest pair's
    probability in its group). Concepts left alone are absent."""
    model = model if model is not None else load_meaning_model()
    if model is None or len(concepts) < 2:
        return {}
    stats = stats if stats is not None else load_termstats()
    vectors = vectors if vectors is not None else load_vectors()
    thr = model.threshold if threshold is None else threshold
    pairs = candidate_pairs(concepts, vectors)
    if not pairs:
        return {}
    probs = model.probability([pair_features(concepts[i], concepts[j], stats, vectors) for i, j in pairs])
    score = {pair: float(p) for pair, p in zip(pairs, probs, strict=True)}
    # complete-link agglomeration: strongest pairs first; two groups join only when every cross pair is sure
    group = {i: [i] for i in range(len(concepts))}
    of = list(range(len(concepts)))
    weakest = {i: 1.0 for i in range(len(concepts))}
    for (i, j), p in sorted(score.items(), key=lambda kv: (-kv[1], kv[0])):
        if p < thr:
            break
        gi, gj = of[i], of[j]
        if gi == gj:
            continue
        cross = [score.get((min(x, y), max(x, y)), 0.0) for x in group[gi] for y in group[gj]]
        if min(cross) < thr:
            continue
        group[gi].extend(group.pop(gj))
        for x in group[gi]:
            of[x] = gi
        weakest[gi] = min(weakest[gi], weakest.pop(gj), min(cross))
    out: dict[str, tuple[str, float]] = {}
    for g, members in group.items():
        if len(members) < 2:
            continue
        head = max(
            members,
            key=lambda x: (
                concepts[x].corpus_papers,
                concepts[x].n_mentions,
                len(concepts[x].key),
                concepts[x].concept,
            ),
        )
        for x in members:
            if x != head:
                out[concepts[x].concept] = (concepts[head].concept, round(weakest[g], 4))
    return out
