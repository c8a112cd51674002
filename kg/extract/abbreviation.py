"""Abbreviation / long-form detection (Schwartz & Hearst, 2003), as pure functions.

The algorithm works on plain strings and character offsets; the spaCy component in
:mod:`kg.extract.components` is a thin shell that maps the offsets to spans.
"""

from __future__ import annotations

import re

__all__ = ["is_short_form", "match_long_form", "find_abbreviations"]

_PAREN = re.compile(r"\(([^()]{1,20})\)")
_WORD = re.compile(r"[^\s]+")


def is_short_form(text: str) -> bool:
    """A plausible acronym: 2–10 characters, starts alphanumeric, has a capital, at most 2 words.

    >>> [is_short_form(s) for s in ["SAM", "LLMs", "t2i", "i.e.", "the model", "5%"]]
    [True, True, False, False, False, False]
    """
    s = text.strip()
    if not 2 <= len(s) <= 10 or len(s.split()) > 2:
        return False
    if not s[0].isalnum() or not any(c.isupper() for c in s):
        return False
    if not any(c.isalpha() for c in s):
        return False
    return sum(c.isupper() for c in s) >= 2 or (s[0].isupper() and len(s) <= 5 and any(c.isdigit() for c in s))


_WORDS = re.compile(r"[A-Za-z0-9]+")


def match_long_form(short: str, candidate: str) -> int:
    """Start offset in ``candidate`` of the shortest long form for ``short``, or -1.

    Every alphanumeric character of the short form must appear, in order, in the
    long form, and its first character must start a word of the long form.

    >>> cand = "advanced image understanding of Segment Anything Model"
    >>> cand[match_long_form("SAM", cand):]
    'Segment Anything Model'
    >>> match_long_form("XYZ", "nothing that fits")
    -1
    >>> cand = "fine-tune the policy with proximal policy optimization"
    >>> cand[match_long_form("PPO", cand):]
    'proximal policy optimization'
    >>> cand = "we study Multi-modal Large Language Models"
    >>> cand[match_long_form("MLLMs", cand):]
    'Multi-modal Large Language Models'
    >>> cand = "we use Chain-of-Thought"
    >>> cand[match_long_form("CoT", cand):]
    'Chain-of-Thought'
    """
    s = [c.lower() for c in short if c.isalnum()]
    if short.endswith("s") and len(s) > 2 and short[:-1].isupper():
        s = s[:-1]  # plural acronym: LLMs -> LLM
    if not s:
        return -1
    # the long form whose last words start with the short form's letters, when there is one:
    # "proximal policy optimization (PPO)", not "policy optimization" matching the O inside "optimization"
    words = list(_WORDS.finditer(candidate))
    if 1 < len(s) <= len(words) and [w.group()[0].lower() for w in words[-len(s) :]] == s:
        start = _whole_compound(candidate, words[-len(s)].start(), s[0])
        if (start == 0 or candidate[start - 1].isspace()) and len(candidate[start:].strip()) > len(short):
            return start
    lf = candidate.lower()
    si = len(s) - 1
    li = len(lf) - 1
    while si >= 0:
        c = s[si]
        while li >= 0 and (lf[li] != c or (si == 0 and li > 0 and lf[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return -1
        si -= 1
        li -= 1
    start = _whole_compound(candidate, li + 1, s[0])
    # the long form must have more words than a trivial one-character match
    long_text = candidate[start:]
    if len(long_text.strip()) <= len(short) or long_text.strip().lower() == short.lower():
        return -1
    return start


def _whole_compound(text: str, start: int, first: str) -> int:
    """``start`` moved back to the beginning of the hyphenated compound it lies inside, when that
    compound begins with the acronym's first letter: "Multi-modal LLM (MLLM)" is not "modal LLM"."""
    token_start = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start)) + 1
    if token_start < start and text[token_start].lower() == first:
        return token_start
    return start


def find_abbreviations(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """All ``long form (SF)`` pairs in ``text`` as ((long_start, long_end), (short_start, short_end)).

    >>> t = "We use the Segment Anything Model (SAM) here."
    >>> [(t[a:b], t[c:d]) for (a, b), (c, d) in find_abbreviations(t)]
    [('Segment Anything Model', 'SAM')]
    """
    out = []
    for m in _PAREN.finditer(text):
        inner = m.group(1)
        short = inner.split(";")[0].split(",")[0].strip()
        if not is_short_form(short):
            continue
        s_start = m.start(1) + inner.index(short)
        s_end = s_start + len(short)
        n_chars = sum(ch.isalnum() for ch in short)
        # window: at most min(|SF| + 5, 2|SF|) words before the parenthesis, same sentence
        before = text[: m.start()].rstrip()
        before_start = max(
            [before.rfind(sep) + len(sep) for sep in (". ", "\n", "; ") if sep in before] or [0]
        )  # the sentence's start (0 for the text's first sentence, not 1)
        window = before[before_start:]
        words = list(_WORD.finditer(window))
        limit = min(n_chars + 5, 2 * n_chars)
        if len(words) > limit:
            offset = words[-limit].start()
            window = window[offset:]
            before_start += offset
        k = match_long_form(short, window)
        if k < 0:
            continue
        l_start = before_start + k
        l_end = before_start + len(window)
        # long form starts on a word boundary and ends before trailing punctuation
        while l_end > l_start and not text[l_end - 1].isalnum():
            l_end -= 1
        long_text = text[l_start:l_end]
        if len(long_text.split()) > limit or any(c in long_text for c in ",;:{}=[]"):
            continue
        out.append(((l_start, l_end), (s_start, s_end)))
    out.extend(_short_then_long(text))
    return sorted(out)


_SHORT_PAREN = re.compile(r"(?<![\w-])([A-Za-z0-9][\w-]{1,9})\s?\(([^()]{4,80})\)")


def _short_then_long(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """``SF (long form)`` pairs: "a theoretical model, BBAM (Bayesian Budget Allocation Model)".

    The whole parenthesis must be the long form: the short form's first letter starts it and
    every letter of the short form appears in it in order, in at most min(|SF| + 5, 2|SF|) words.

    >>> t = "we develop BBAM (Bayesian Budget Allocation Model), which helps"
    >>> [(t[a:b], t[c:d]) for (a, b), (c, d) in _short_then_long(t)]
    [('Bayesian Budget Allocation Model', 'BBAM')]
    >>> _short_then_long("on GSM8K (grade school math) and MATH (Hendrycks et al., 2021)")
    []
    """
    out = []
    for m in _SHORT_PAREN.finditer(text):
        short, inner = m.group(1), m.group(2)
        if not is_short_form(short) or any(c in inner for c in ",;:{}=[]"):
            continue
        long_text = inner.strip()
        n_chars = sum(ch.isalnum() for ch in short)
        if len(long_text.split()) > min(n_chars + 5, 2 * n_chars) or long_text.lower().startswith(short.lower()):
            continue
        if match_long_form(short, long_text) != 0:
            continue
        l_start = m.start(2) + inner.index(long_text)
        out.append(((l_start, l_start + len(long_text)), (m.start(1), m.end(1))))
    return out
