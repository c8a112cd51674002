"""How many arXiv abstracts name a phrase: termhood and specificity evidence for the concept decision.

The resource ``kg/normalise/resources/termstats.npz`` is made by ``training/termstats.py`` from the
74,675 arXiv cs abstracts: for each phrase of one to four words in concept-key form it holds the
number of papers naming it (phrases in fewer than three papers are left out). Lookups go by a 32-bit
CRC of the key, so the resource is a few MB; a rare collision only makes an unseen phrase look seen.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from kg.extract.resolve import FUNCTION_WORDS

__all__ = [
    "STOP",
    "TermStats",
    "key_hash",
    "phrase_hash",
    "phrase_words",
    "sentence_pieces",
    "load_termstats",
]

RESOURCE = Path(__file__).resolve().parent / "resources" / "termstats.npz"

#: function words a counted phrase never starts or ends with: those a name never starts or ends with
#: (:data:`kg.extract.resolve.FUNCTION_WORDS`) and these
STOP = FUNCTION_WORDS | frozenset(
    [
        "this",
        "these",
        "those",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "we",
        "our",
        "their",
        "they",
        "can",
        "may",
        "also",
        "both",
        "such",
        "not",
        "no",
    ]
)

_PIECES = re.compile(r"[,;:!?()\[\]{}\"]|\.(?=\s|$)|\$[^$]*\$")
_JOIN = re.compile(r"(?<=\w)[-_/](?=\w)")
_PUNCT = re.compile(r"[^\w\s+#.]")


def sentence_pieces(text: str) -> list[str]:
    """``text`` cut at punctuation a phrase does not cross (and LaTeX ``$...$``)."""
    return [p for p in _PIECES.split(text) if p.strip()]


def phrase_words(text: str) -> list[str]:
    """The words of ``text`` as :func:`kg.normalise.concept_key` sees them (no singular yet)."""
    s = text.lower().replace("’", "'").replace("–", "-").replace("—", "-")
    s = _JOIN.sub(" ", s)
    s = _PUNCT.sub(" ", s)
    return [w for w in (w.strip(".") for w in s.split()) if w]


def key_hash(key: str) -> int:
    """The 32-bit hash a concept key is stored under."""
    return zlib.crc32(key.encode("utf-8"))


@lru_cache(maxsize=200_000)
def _singular(word: str) -> str:
    from kg.normalise import singular

    return singular(word)


def phrase_hash(words: list[str]) -> int:
    """The hash of the concept key of ``words`` (the last one made singular)."""
    return key_hash(" ".join([*words[:-1], _singular(words[-1])]))


class TermStats:
    """Document frequencies of phrases in the arXiv cs corpus."""

    def __init__(self, path: Path = RESOURCE) -> None:
        with np.load(path) as z:
            self.keys = z["keys"]
            self.df_values = z["df"]
            self.n_docs = int(z["n_docs"][0])

    def df(self, key: str) -> int:
        """In how many papers the phrase with concept key ``key`` occurs (0: fewer than three)."""
        if not key:
            return 0
        h = np.uint32(key_hash(key))  # a Python int would make NumPy cast the whole array on every call
        i = int(self.keys.searchsorted(h))
        if i < len(self.keys) and int(self.keys[i]) == h:
            return int(self.df_values[i])
        return 0


@lru_cache(maxsize=1)
def load_termstats() -> TermStats | None:
    """The shipped statistics, or None when the resource has not been made."""
    return TermStats() if RESOURCE.exists() else None
