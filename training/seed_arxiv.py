"""seed-arxiv: seed-style concept annotations of arXiv cs abstracts (46 to tune on, 58 to train on), by the kg developers.

A second concept-level tuning set beside ``shared/gold/seed-dev`` (20 papers): rules are kept only
when they do not lose on either, so they are not fitted to 20 papers. The shipped model is not trained on
the training part: a fine-tune with it was measured and not adopted (BENCHMARKS.md).
The papers were drawn from ``shared/corpus/arxiv-cs`` (cs.LG / cs.CL, by a hash of the id, among
abstracts that talk about models, training or inference); their texts stay there.

`training/seed_arxiv/annotations.txt` lists, per arXiv paper of ``shared/corpus/arxiv-cs``, the
Method / Task / Dataset / Metric concepts a researcher would list, following the annotation
guidelines of ``shared/gold/seed-dev/GUIDELINES.md`` (the project's own gold, whose 20 papers stay
dev-only). The papers are other papers than the sample corpus's, so nothing here overlaps the
sample-corpus gold. Format::

    # <arXiv id>
    <T|M|D|Me>|<canonical name>|<alias>;<alias>;...|<p when the paper proposes it>

Aliases are exact surface forms of the title or abstract; an empty alias list means the name itself.

    python -m training.seed_arxiv paper  OUT_DIR   # gold.jsonl + papers.jsonl (kg eval --paper format)
    python -m training.seed_arxiv mention OUT.jsonl # mention-level gold: every occurrence of every alias
    python -m training.seed_arxiv spacy OUT.spacy   # the *training* part (train.txt) as a spaCy DocBin
    python -m training.seed_arxiv encoder OUT.jsonl.gz  # both parts for train_encoder.py (train / dev split)

`annotations.txt` (46 papers) is the tuning part: scored by ``benchmarks/bench_quality.py``, never
trained on. `train.txt` (58 other papers, picked by sha1("seed-arxiv:" + id) among cs.CL / cs.LG
abstracts of 700-1,600 characters outside the silver set) is the training part: its every alias
occurrence is an entity and every other token "no entity" (the seed convention annotates all four
types), titles true-cased as the extractor reads them (``kg.extract.pipeline.model_text``).

Both need ``shared/corpus/arxiv-cs/papers.jsonl.gz`` beside the project for the texts.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.schema import ENTITY_TYPES

HERE = Path(__file__).resolve().parent
ANNOTATIONS = HERE / "seed_arxiv" / "annotations.txt"
TRAIN = HERE / "seed_arxiv" / "train.txt"
CORPUS = HERE.parent.parent / "shared" / "corpus" / "arxiv-cs" / "papers.jsonl.gz"
TYPES = {"M": "Method", "T": "Task", "D": "Dataset", "Me": "Metric"}
LABELS = {t.local: t.name for t in ENTITY_TYPES}  # kg.schema: class name -> type name


@dataclass
class Entry:
    type: str
    name: str
    aliases: list[str]
    proposed: bool
    line: int


@dataclass
class Annotated:
    id: str
    entries: list[Entry] = field(default_factory=list)


def parse(path: Path = ANNOTATIONS) -> list[Annotated]:
    """Papers and their concepts, in file order; a malformed line raises ``ValueError`` naming it."""
    papers: list[Annotated] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"#\s*(\d{4}\.\d{4,5})", line)
            if m:
                papers.append(Annotated(m.group(1)))
            continue
        parts = line.split("|")
        if len(parts) != 4 or parts[0] not in TYPES or not parts[1].strip() or parts[3] not in ("", "p"):
            raise ValueError(f"{path}:{n}: expected 'T|name|alias;alias|p?' with T in {sorted(TYPES)}: {line!r}")
        if not papers:
            raise ValueError(f"{path}:{n}: concept before the first '# <arXiv id>' line")
        aliases = [a.strip() for a in parts[2].split(";") if a.strip()] or [parts[1].strip()]
        papers[-1].entries.append(Entry(TYPES[parts[0]], parts[1].strip(), aliases, parts[3] == "p", n))
    return papers


def load_texts(ids: set[str], corpus: Path = CORPUS) -> dict[str, dict[str, str]]:
    out = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["id"] in ids:
                out[rec["id"]] = {"id": rec["id"], "title": rec["title"], "abstract": rec["abstract"]}
    return out


def paper_text(t: dict[str, str]) -> str:
    """The text offsets point into, as kg builds it from a paper (``Paper.text``)."""
    return t["title"] + "\n" + t["abstract"]


def occurrences(text: str, alias: str) -> list[tuple[int, int]]:
    """Word-bounded exact occurrences of ``alias`` in ``text``."""
    pat = r"(?<![\w-])" + re.escape(alias) + r"(?![\w-])"
    return [(m.start(), m.end()) for m in re.finditer(pat, text)]


def check(papers: list[Annotated], texts: dict[str, dict[str, str]], path: Path = ANNOTATIONS) -> list[str]:
    """One line per problem: a paper missing from the corpus, an alias not found in its text."""
    problems = []
    for p in papers:
        t = texts.get(p.id)
        if t is None:
            problems.append(f"{path}: paper {p.id} is not in {CORPUS}")
            continue
        text = paper_text(t)
        for e in p.entries:
            for a in e.aliases:
                if not occurrences(text, a):
                    problems.append(f"{path}:{e.line}: alias {a!r} not found in paper {p.id}")
    return problems


def paper_gold(papers: list[Annotated]) -> list[dict[str, object]]:
    return [
        {
            "id": p.id,
            "entities": [
                {"type": e.type, "name": e.name, "aliases": e.aliases, "proposed": e.proposed} for e in p.entries
            ],
        }
        for p in papers
    ]


def mention_gold(papers: list[Annotated], texts: dict[str, dict[str, str]]) -> list[dict[str, object]]:
    """Every occurrence of every alias as an entity; longer aliases win overlaps."""
    out = []
    for p in papers:
        text = paper_text(texts[p.id])
        cands = sorted(
            ((s, e, LABELS[ent.type]) for ent in p.entries for a in ent.aliases for s, e in occurrences(text, a)),
            key=lambda x: (-(x[1] - x[0]), x[0]),
        )
        taken: list[tuple[int, int, str]] = []
        for s, e, lab in cands:
            if all(e <= ts or s >= te for ts, te, _ in taken):
                taken.append((s, e, lab))
        out.append(
            {
                "id": p.id,
                "text": text,
                "entities": [{"start": s, "end": e, "label": lab, "text": text[s:e]} for s, e, lab in sorted(taken)],
            }
        )
    return out


def entity_docs(papers: list[Annotated], texts: dict[str, dict[str, str]], make_doc) -> list[tuple[str, Any]]:
    """(paper id, doc) for each paper: a doc of the text the recogniser reads (true-cased title), every alias occurrence that
    covers whole tokens an entity (``mention_gold``), tokenised by ``make_doc``."""
    from kg.extract.pipeline import model_text
    from kg.records import Paper

    docs = []
    for rec in mention_gold(papers, texts):
        t = texts[str(rec["id"])]
        doc = make_doc(model_text(Paper(id=t["id"], title=t["title"], abstract=t["abstract"])))
        spans = [
            doc.char_span(e["start"], e["end"], label=e["label"], alignment_mode="contract") for e in rec["entities"]
        ]  # type: ignore[union-attr]
        doc.ents = [s for s in spans if s is not None and len(s)]
        docs.append((t["id"], doc))
    return docs


def to_docbin(papers: list[Annotated], texts: dict[str, dict[str, str]], out: Path) -> int:
    """The papers as spaCy training docs (true-cased titles, every alias occurrence an entity)."""
    import spacy
    from spacy.tokens import DocBin

    db = DocBin(docs=[doc for _, doc in entity_docs(papers, texts, spacy.blank("en").make_doc)])
    out.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(out)
    return len(db)


def encoder_records(papers: list[Annotated], texts: dict[str, dict[str, str]], split: str) -> list[dict[str, object]]:
    """The papers in ``train_encoder.py``'s format (corpus "seed": all four types annotated, so every other
    token is ``O``), over the text the recogniser reads (true-cased title), tokenised as kg tokenises."""
    from kg.extract import build_pipeline

    return [
        {
            "id": pid,
            "corpus": "seed",
            "split": split,
            "text": doc.text,
            "words": [[w.idx, w.idx + len(w.text)] for w in doc],
            "tags": ["O" if w.ent_iob_ == "O" else f"{w.ent_iob_}-{w.ent_type_}" for w in doc],
        }
        for pid, doc in entity_docs(papers, texts, build_pipeline(model=None).tokenizer)
    ]


def _checked(source: Path) -> tuple[list[Annotated], dict[str, dict[str, str]]] | None:
    """The papers of ``source`` and their texts; None (problems printed) when an alias or paper is missing."""
    papers = parse(source)
    texts = load_texts({p.id for p in papers})
    problems = check(papers, texts, source)
    for msg in problems:
        print(msg, file=sys.stderr)
    return None if problems else (papers, texts)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "encoder":
        recs = []
        for source, split in ((TRAIN, "train"), (ANNOTATIONS, "dev")):
            loaded = _checked(source)
            if loaded is None:
                return 1
            recs += encoder_records(*loaded, split)
        with gzip.open(argv[1], "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
        print(f"{len(recs)} records → {argv[1]}", file=sys.stderr)
        return 0
    if len(argv) != 2 or argv[0] not in ("paper", "mention", "spacy"):
        print(__doc__)
        return 2
    loaded = _checked(TRAIN if argv[0] == "spacy" else ANNOTATIONS)
    if loaded is None:
        return 1
    papers, texts = loaded
    if argv[0] == "paper":
        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "gold.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in paper_gold(papers))
        with open(out / "papers.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(texts[p.id], ensure_ascii=False) + "\n" for p in papers)
    elif argv[0] == "spacy":
        to_docbin(papers, texts, Path(argv[1]))
    else:
        with open(argv[1], "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in mention_gold(papers, texts))
    n = sum(len(p.entries) for p in papers)
    print(f"{len(papers)} papers, {n} concepts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
