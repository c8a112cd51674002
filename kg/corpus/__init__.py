"""Corpus stage: files → :class:`~kg.records.Paper` records.

One reader per format, chosen by extension or ``fmt``; papers seen in several
files are merged; paper ids are stable across runs and input order.
"""

from kg.corpus.merge import merge_papers
from kg.corpus.readers import FORMATS, READERS, Reader, ReadReport, read_corpus, read_file, sample_corpus_files

__all__ = [
    "FORMATS",
    "READERS",
    "Reader",
    "ReadReport",
    "merge_papers",
    "read_corpus",
    "read_file",
    "sample_corpus_files",
]
