"""Papers are read by the recogniser of the seed convention, passages by the mention-level one."""

from __future__ import annotations

import pytest

from kg.extract.pipeline import PASSAGE, TwoConventions, extract, papers_model_path
from kg.records import Paper

pytestmark = pytest.mark.skipif(papers_model_path() is None, reason="no kg/models/ner_papers")

SENTENCES = [
    "We propose a novel method for code generation and evaluate the approach on HumanEval.",
    "The proposed model reduces inference latency of large language models by 30%.",
    "Our framework improves the accuracy of the baseline system on image classification.",
    "We study the problem of reasoning in small models with reinforcement learning.",
]


def _ents(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def test_each_doc_goes_through_the_recogniser_of_its_kind(nlp):
    ner = nlp.get_pipe("ner")
    assert isinstance(ner, TwoConventions)
    differ = 0
    for text in SENTENCES:
        paper, passage = nlp.make_doc(text), nlp.make_doc(text)
        passage.user_data[PASSAGE] = True
        got_paper, got_passage = _ents(ner(paper)), _ents(ner(passage))
        assert got_paper == _ents(ner.papers(nlp.make_doc(text)))
        assert got_passage == _ents(ner.passages(nlp.make_doc(text)))
        differ += got_paper != got_passage
    assert differ, "the two conventions tag these sentences alike: the dispatch is not tested"
    # pipe() keeps the order and dispatches runs of each kind
    docs = [nlp.make_doc(t) for t in SENTENCES * 2]
    for d in docs[len(SENTENCES) :]:
        d.user_data[PASSAGE] = True
    piped = [_ents(d) for d in ner.pipe(iter(docs), batch_size=3)]
    assert piped == [_ents(ner(nlp.make_doc(t))) for t in SENTENCES] + [
        _ents(ner.passages(nlp.make_doc(t))) for t in SENTENCES
    ]


def test_extract_marks_records_given_as_one_text_as_passages(nlp):
    text = " ".join(SENTENCES)
    as_paper = list(extract([Paper(id="a", title=SENTENCES[0], abstract=" ".join(SENTENCES[1:]))], nlp))[0]
    as_passage = list(extract([Paper(id="b", title="", abstract="", raw_text=text)], nlp))[0]
    ner = nlp.get_pipe("ner")
    passage_doc = nlp.make_doc(text)
    passage_doc.user_data[PASSAGE] = True
    recognised = {(e.start_char, e.end_char) for e in ner(passage_doc).ents}
    found = {(m.start, m.end) for m in as_passage.mentions if m.producer == "ner"}
    assert found and found <= recognised
    assert as_paper.mentions
