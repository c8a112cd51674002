"""Merging candidate spans into final mentions, and marking the paper's own contributions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from spacy.tokens import Doc

from kg.extract.rules import Candidate

__all__ = ["Resolved", "resolve", "PRODUCER_TIER", "FUNCTION_WORDS", "proposal_spans", "is_concept_text"]

#: Higher tiers win overlaps; within a tier the longer span wins. The trained recogniser
#: wins over every rule (rules fill the gaps it leaves); measured on the dev sets, BENCHMARKS.md.
PRODUCER_TIER = {
    "ner": 4,
    "kg_cues": 3,
    "kg_abbreviations": 3,
    "kg_gazetteer": 2,
    "kg_names": 1,
    "kg_noun_phrases": 1,
}

_TRIGGER = re.compile(
    r"\b(?:we|this (?:paper|work|study|report)|our (?:paper|work))\s+(?:\w+ly\s+|further\s+|also\s+|then\s+|first\s+)?"
    r"(?:propose|proposes|introduce|introduces|present|presents|develop|develops|design|designs|"
    r"build|builds|release|releases|construct|constructs|contribute|contributes|curate|curates|"
    r"create|creates|establish|establishes|devise|devises|unveil|unveils|formulate|formulates)\b",
    re.IGNORECASE,
)
# what may stand between two proposed names: "A and B", "A, B", "A (B)", "A, dubbed B"
_CONNECTOR = re.compile(r"^[\s,()]*(?:(?:and|namely|i\.e\.|called|dubbed|named|termed)[\s,()]*)*$")


class Resolved(NamedTuple):
    start: int
    end: int
    label: str
    producer: str
    confidence: float
    role: str
    sentence: int
    sentence_start: int
    sentence_end: int


_EDGE = " \t\n,;:.!?\"'`([{"


#: function words that never end (or start) a name: a span running onto one stops before it
#: (kg.normalise.termstats.STOP, the words a counted phrase never starts or ends with, adds to them)
FUNCTION_WORDS = frozenset(
    {
        "and",
        "or",
        "of",
        "for",
        "with",
        "to",
        "in",
        "on",
        "by",
        "from",
        "the",
        "a",
        "an",
        "via",
        "as",
        "at",
        "into",
        "than",
        "that",
        "which",
    }
)
_LAST_WORD = re.compile(r"\s([A-Za-z]+)$")
_FIRST_WORD = re.compile(r"([A-Za-z]+)\s")


#: never a concept: URLs, LaTeX markup (``\\tool``, ``50\\%``), spans without a letter
_JUNK = re.compile(r"://|^www\.|\\|^[^A-Za-z]*$")
#: hardware is not a concept (GUIDELINES of the seed gold): "RTX 4090 GPU", "FP4 Tensor Cores", "A100"
_HARDWARE = re.compile(
    r"(?:^|\s)(?:GPUs?|TPUs?|CPUs?|NPUs?|FPGAs?|ASICs?|accelerators?|Tensor Cores?)$"
    r"|^(?:(?:NVIDIA|Nvidia)\s)?(?:RTX|GTX)\s?\d{3,4}(?:\s?Ti)?$|^[AHVBL]\d{2,3}$|^TPUv?\d\w*$",
)
#: a model name the recogniser took for data or a task: a model family with a version or a size
#: ("Llama-2-70B", "Qwen2.5-7B-Instruct", "GPT-5.2"), or any name with a parameter count ("BLOOM-1b7")
_MODEL_NAME = re.compile(
    r"^(?:GPT|LLaMA|Llama|Code\s?Llama|Qwen|QwQ|Mistral|Mixtral|Gemma|Phi|DeepSeek|Claude|Gemini|PaLM|OPT|BLOOMZ?|"
    r"Falcon|Vicuna|LLaVA|OLMo|Pythia|InternLM|InternVL|Baichuan|ChatGLM|GLM|MiniCPM|SmolLM|Flan-T5|T5|BERT|"
    r"RoBERTa|DeBERTa|ViT|CLIP|SigLIP|Whisper|StarCoder|Kimi|Grok|o[134])(?=[-\s.]?[\w.]*\d)"
    r"|^[A-Z][\w.]*(?:[-\s][\w.]+)*[-\s]\d+(?:\.\d+)?[BM](?:[-\s][\w.]+)*$|^[A-Z]\w*-\d+b\d+$",
)


def _trim(c: Candidate, text: str) -> Candidate:
    """Cut spaces, punctuation and dangling function words off a span's edges.

    A closing bracket stays when it closes one inside; "RNNs and" → "RNNs", "of the X" → "X".
    """
    s, e = c.start, c.end
    while True:
        s0, e0 = s, e
        while s < e and text[s] in _EDGE:
            s += 1
        while e > s and (
            text[e - 1] in _EDGE or text[e - 1] in ")]}" and text.count("(", s, e) < text.count(")", s, e)
        ):
            e -= 1
        last = _LAST_WORD.search(text, s, e)
        if last and last.start() > s and last.group(1).lower() in FUNCTION_WORDS:
            e = last.start()
        first = _FIRST_WORD.match(text, s, e)
        if first and first.end() < e and first.group(1).lower() in FUNCTION_WORDS:
            s = first.end()
        if (s, e) == (s0, e0):
            break
    return c if (s, e) == (c.start, c.end) else c._replace(start=s, end=e)


def _cut(c: Candidate, text: str) -> list[Candidate]:
    """Cut a recogniser span where it runs past a bracket or an aside.

    An unclosed "(" or an unopened ")" cuts the span there; a " -- " aside is dropped.
    ("long form (ACRONYM)" stays one mention, as the gold sets annotate it; normalisation
    gives it the long form's concept.)
    """
    if c.producer != "ner":
        return [c]
    s, e = c.start, c.end
    span = text[s:e]
    cut = span.find(" -- ")
    if cut > 0:
        e = s + cut
        span = text[s:e]
    close = span.find(")")
    if close >= 0 and "(" not in span[:close]:
        s = s + close + 1
        span = text[s:e]
    opened = span.rfind("(")
    if opened >= 0 and ")" not in span[opened:]:
        e = s + opened
    return [c._replace(start=s, end=e)] if e > s else []


#: a name that is a benchmark by its own suffix: "TrustMH-Bench", "OmniDocBench", "QRC-Eval"
_BENCH_NAME = re.compile(r"^[A-Z][\w.+-]*(?:Bench|-[Bb]ench|-Eval|Eval)(?:[-\s][\w.]+)?$")
#: "X, a (new) benchmark ..." / "X, a dataset ...": the apposition says what X is
_DATA_APPOSITION = re.compile(
    r"^\s*(?:\([^()]*\)\s*)?,\s*(?:a|an|the)\s+(?:[\w-]+\s+){0,4}?(?:benchmark|dataset|corpus|test suite)s?\b",
    re.IGNORECASE,
)


_NAME = re.compile(r"[A-Z].*[A-Z0-9]")  # capitals inside, or a capital and a digit: "DischargeSim"


def is_concept_text(span: str) -> bool:
    """Not junk (URLs, LaTeX, no letter) and not hardware."""
    return not _JUNK.search(span) and not _HARDWARE.search(span)


def _is_concept(c: Candidate, text: str) -> bool:
    return is_concept_text(text[c.start : c.end])


def _typed_by_form(c: Candidate, text: str) -> Candidate:
    """A versioned or sized model name is a method whatever the recogniser said."""
    if c.label != "METHOD" and _MODEL_NAME.search(text[c.start : c.end]):
        return c._replace(label="METHOD")
    return c


def _datasets_by_form(cands: list[Candidate], text: str) -> list[Candidate]:
    """Names a paper shows to be data: by their suffix, or by an apposition at any one mention."""
    data = set()
    for c in cands:
        name = text[c.start : c.end]
        if _BENCH_NAME.match(name) or (
            " " not in name and _NAME.search(name) and _DATA_APPOSITION.match(text[c.end : c.end + 120])
        ):
            data.add(name)
    return [
        c._replace(label="DATASET") if c.label in ("METHOD", "TASK") and text[c.start : c.end] in data else c
        for c in cands
    ]


def _carve_known_datasets(chosen: list[Candidate], candidates: Sequence[Candidate], text: str) -> list[Candidate]:
    """A known dataset name opening a longer span of another type is its own mention.

    "HumanEval python code completion" (a task to the recogniser) → the dataset "HumanEval" and
    the task "python code completion": the knowledge graph should know the paper uses HumanEval.
    """
    known = {
        c.start: c for c in candidates if c.producer == "kg_gazetteer" and c.label == "DATASET" and c.confidence >= 0.9
    }
    out = []
    for c in chosen:
        k = known.get(c.start)
        if c.label != "DATASET" and k is not None and k.end < c.end and text[k.end : k.end + 1] == " ":
            rest = _trim(c._replace(start=k.end), text)
            out.append(k)
            if rest.end > rest.start:
                out.append(rest)
        else:
            out.append(c)
    return out


def _select(cands: Sequence[Candidate]) -> list[Candidate]:
    order = sorted(
        set(cands),
        key=lambda c: (-PRODUCER_TIER.get(c.producer, 1), -(c.end - c.start), -c.confidence, c.start, c.label),
    )
    taken: list[Candidate] = []
    occupied: list[tuple[int, int]] = []
    for c in order:
        if c.end <= c.start:
            continue
        if any(c.start < e and s < c.end for s, e in occupied):
            continue
        taken.append(c)
        occupied.append((c.start, c.end))
    return sorted(taken, key=lambda c: (c.start, c.end))


def proposal_spans(text: str, sentences: Sequence[tuple[int, int]], mentions: Sequence[tuple[int, int]]) -> set[int]:
    """Indices of ``mentions`` (sorted (start, end) pairs) that the paper itself introduces.

    The first mention after "we propose/introduce/present ..." and any mention joined
    to it by "and", a comma or an apposition; a title's leading ``NAME:``.

    >>> t = "MESA: matching\\nWe propose MESA and DMESA as feature matching methods."
    >>> sorted(proposal_spans(t, [(0, 14), (15, len(t))], [(0, 4), (26, 30), (35, 40), (44, 60)]))
    [0, 1, 2]
    """
    out: set[int] = set()
    colon = text.find(":")
    newline = text.find("\n")
    if 0 < colon < (newline if newline >= 0 else len(text)) and colon <= 40:
        for i, (s, e) in enumerate(mentions):
            if s == 0 and e <= colon:
                out.add(i)
    for s_start, s_end in sentences:
        sent = text[s_start:s_end]
        for m in _TRIGGER.finditer(sent):
            pos = s_start + m.end()
            chain_end = None
            for i, (s, e) in enumerate(mentions):
                if s < pos or s >= s_end:
                    continue
                if chain_end is None:
                    if s - pos > 60:
                        break
                    out.add(i)
                    chain_end = e
                elif _CONNECTOR.match(text[chain_end:s]):
                    out.add(i)
                    chain_end = e
                else:
                    break
    return out


def _merge_crossed(sents: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join sentences that a mention runs across (the parser split inside a name)."""
    out = list(sents)
    for s, e in spans:
        i = next((k for k, (a, b) in enumerate(out) if a <= s < b), None)
        while i is not None and i + 1 < len(out) and e > out[i][1]:
            out[i : i + 2] = [(out[i][0], out[i + 1][1])]
    return out


def resolve(
    doc: Doc,
    candidates: Sequence[Candidate],
    abbreviations: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
) -> list[Resolved]:
    """Choose non-overlapping mentions, give acronyms their long form's type, mark roles."""
    text = doc.text
    trimmed = (_trim(p, text) for c in candidates for p in _cut(c, text))
    candidates = _datasets_by_form([_typed_by_form(c, text) for c in trimmed if _is_concept(c, text)], text)
    chosen = _carve_known_datasets(_select(candidates), candidates, text)
    # each helps the other: the recogniser types a long form better than its head word does,
    # and a known name (gazetteer, exact case) types a span better than the recogniser
    model_label = {(c.start, c.end): c.label for c in candidates if c.producer == "ner"}
    known_label = {
        (c.start, c.end): c.label for c in candidates if c.producer == "kg_gazetteer" and c.confidence >= 0.9
    }
    chosen = [
        c._replace(label=model_label[(c.start, c.end)])
        if c.producer == "kg_abbreviations" and (c.start, c.end) in model_label
        else c._replace(label=known_label[(c.start, c.end)])
        if c.producer == "ner" and (c.start, c.end) in known_label
        else c
        for c in chosen
    ]
    # an acronym takes its long form's label
    by_span = {(c.start, c.end): c for c in chosen}
    for (ls, le), (ss, se) in abbreviations:
        long_c, short_c = by_span.get((ls, le)), by_span.get((ss, se))
        if long_c and short_c and long_c.label != short_c.label:
            by_span[(ss, se)] = short_c._replace(label=long_c.label)
    chosen = [by_span[(c.start, c.end)] for c in chosen]
    sents = [(s.start_char, s.end_char) for s in doc.sents] if doc.has_annotation("SENT_START") else [(0, len(text))]
    sents = _merge_crossed(sents, [(c.start, c.end) for c in chosen])
    spans = [(c.start, c.end) for c in chosen]
    proposed = proposal_spans(text, sents, spans)
    proposed |= {i for i, c in enumerate(chosen) if c.role == "proposed"}
    # propagate: the same surface (or its acronym / long form) elsewhere in the paper
    keys = {text[chosen[i].start : chosen[i].end].lower() for i in proposed}
    for (ls, le), (ss, se) in abbreviations:
        long_t, short_t = text[ls:le].lower(), text[ss:se].lower()
        if long_t in keys or short_t in keys:
            keys |= {long_t, short_t}
    out = []
    si = 0
    for i, c in enumerate(chosen):
        while si + 1 < len(sents) and c.start >= sents[si][1]:
            si += 1
        role = "proposed" if i in proposed or text[c.start : c.end].lower() in keys else "used"
        out.append(Resolved(c.start, c.end, c.label, c.producer, c.confidence, role, si, *sents[si]))
    return out
