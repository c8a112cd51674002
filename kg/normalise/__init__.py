"""Normalisation stage: mentions → concepts, one concept per meaning across papers.

Rules, in order:

1. A surface form's *key*: lower case, hyphens/slashes as spaces, punctuation
   dropped, the last word singular (``Large Language Models`` → ``large language model``).
2. An acronym takes the key of the long form its own paper gives
   (``Segment Anything Model (SAM)``); else the sense most papers give it; else
   it stays its own concept, marked ambiguous when papers disagree evenly.
   Two different expansions of one acronym are never merged.
3. A concept's type is the majority of its mentions' labels; its preferred label
   the most frequent singular surface form; every surface form is an alias.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

from kg.extract.candidates import CANDIDATE_PRODUCERS
from kg.extract.resources import RuleResources, load_resources
from kg.records import LABELS, Concept, Extraction, Mention

__all__ = ["concept_key", "acronym_key", "is_acronym", "slug", "concept_id", "normalise"]

_KEEP_PLURAL = frozenset(
    [
        "series",
        "species",
        "news",
        "physics",
        "mathematics",
        "statistics",
        "dynamics",
        "ethics",
        "graphics",
        "robotics",
        "economics",
        "linguistics",
        "semantics",
        "analytics",
        "diagnostics",
        "genomics",
        "kinematics",
        "optics",
        "electronics",
        "logistics",
        "bias",
        "basis",
        "analysis",
        "axis",
        "thesis",
        "hypothesis",
        "synthesis",
        "corpus",
        "status",
        "focus",
        "consensus",
        "bus",
        "gas",
        "lens",
        "class",
        "loss",
        "cross",
        "less",
        "ss",
        "gps",
        "fps",
        "tops",
        "flops",
        "macs",
    ]
)
_BASED = re.compile(r"^(.+?) based (?:model|architecture|approach|method|framework|system|network|technique)s?$")
#: "An Exploration of 8-Bit Training", "a study of X": a title's framing around the concept it names
_STUDY_OF = re.compile(
    r"^(?:(?:an?|the) )?(?:exploration|study|investigation|survey|overview|examination) of (?=\S)", re.IGNORECASE
)
_PUNCT = re.compile(r"[^\w\s+#.]")
_SPACES = re.compile(r"\s+")


_NAME_LIKE = re.compile(r"[A-Z].*[A-Z0-9]|[0-9]")  # "HumanEval", "MESA", "GPT-4" (not "Sparse")
_NAME_WORD = re.compile(r"[A-Z]\S*[A-Z]|\d")  # one word that is a name: "BERT", "LLaMA-3.1", "8B"


def singular(word: str) -> str:
    """A word in the singular, as concept keys write their last word.

    >>> singular("models"), singular("analysis"), singular("queries")
    ('model', 'analysis', 'query')
    """
    if word in _KEEP_PLURAL or len(word) <= 3 or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1]


def _greek_names(text: str) -> str:
    """Greek letters spelt out as authors write them in ASCII: "φ-Decoding" → "phi-Decoding".

    >>> _greek_names("φ-Decoding"), _greek_names("α-β search")
    ('phi-Decoding', 'alpha-beta search')
    """
    if text.isascii():
        return text
    out = []
    for ch in text:
        name = unicodedata.name(ch, "") if "\u0370" <= ch <= "\u03ff" else ""
        if name.startswith("GREEK ") and " LETTER " in name:
            letter = name.rsplit(" ", 1)[-1].lower()
            out.append(letter.capitalize() if "CAPITAL" in name else letter)
        else:
            out.append(ch)
    return "".join(out)


def concept_key(text: str) -> str:
    """The normal form two surface forms of one concept share.

    >>> concept_key("Large Language Models"), concept_key("mixture-of-experts"), concept_key("FLOPs")
    ('large language model', 'mixture of expert', 'flops')
    """
    s = _greek_names(text).lower().replace("’", "'").replace("–", "-").replace("—", "-")
    s = re.sub(r"(?<=\w)[-_/](?=\w)", " ", s)
    s = _PUNCT.sub(" ", s)
    words = [w for w in (w.strip(".") for w in s.split()) if w]
    if not words:
        return ""
    words[-1] = singular(words[-1])
    return " ".join(words)


_ADJECTIVE_AL = re.compile(r"^(\w{4,}(?:ion|ure|ic))al$")  # computational -> computation, architectural -> architecture


def variant_key(key: str) -> str:
    """What the keys of variants of one concept share: no spaces, modifiers' "-al" dropped.

    >>> variant_key("speed up") == variant_key("speedup"), variant_key("math 500") == variant_key("math500")
    (True, True)
    >>> variant_key("computational cost") == variant_key("computation cost")
    True
    >>> variant_key("number of parameter") == variant_key("parameter count")
    True
    """
    words = key.split()
    if len(words) > 2 and words[0] == "number" and words[1] == "of":
        words = [*words[2:-1], singular(words[-1]), "count"]
    words = [_ADJECTIVE_AL.sub(r"\1", w) for w in words[:-1]] + words[-1:]
    return re.sub(r"[^\w+#.]", "", "".join(words))


def strip_framing(text: str) -> str:
    """``text`` without a title's framing around the concept it names.

    >>> strip_framing("An Exploration of 8-Bit Training"), strip_framing("number of parameters")
    ('8-Bit Training', 'number of parameters')
    """
    study = _STUDY_OF.match(text)
    return text[study.end() :] if study else text


def is_acronym(text: str) -> bool:
    """An acronym-like surface form: one word, at least two capitals.

    >>> is_acronym("LLMs"), is_acronym("SAM"), is_acronym("Transformer"), is_acronym("large model")
    (True, True, False, False)
    """
    t = text.strip()
    return " " not in t and sum(c.isupper() for c in t) >= 2 and len(t) <= 12


#: an acronym labels its concept when this many times as many papers write it alone as write its long form
ACRONYM_LABEL_RATIO = 5
#: a coined name: a lower-case start, then a capital ("nuScenes", "iNaturalist", "mAP"): never singularised
_COINED = re.compile(r"^[a-z]+[A-Z]")
_PLURAL_NAME_TAIL = re.compile(r"[A-Z][a-z]*[^siueA-Z]s$")  # "Ptr-Nets", "ResNets" (not "TinyStories", "Bus")


def acronym_key(text: str) -> str:
    """The key of an acronym-like name, in the singular.

    >>> acronym_key("LLMs"), acronym_key("SAM"), acronym_key("Ptr-Nets"), acronym_key("TinyStories")
    ('llm', 'sam', 'ptr-net', 'tinystories')
    """
    t = text.strip()
    plural = t.endswith("s") and (t[-2:-1].isupper() or _PLURAL_NAME_TAIL.search(t) is not None)
    if len(t) > 2 and plural and t.lower() not in _KEEP_PLURAL:
        t = t[:-1]
    return t.lower()


def slug(key: str) -> str:
    """A stable IRI-safe slug for a concept key.

    Keys with characters beyond ``[a-z0-9 ]`` get a short hash so distinct keys never collide.

    >>> slug("large language model"), slug("c++")
    ('large-language-model', 'c-372946')
    """
    base = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:80].strip("-")
    if not base or base.replace("-", " ") != key:
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:6]
        return f"{base}-{digest}" if base else f"c-{digest}"
    return base


def concept_id(key: str) -> str:
    return slug(key)


def _prefer_label(forms: Counter[str], key: str) -> str:
    def is_singular(f: str) -> bool:
        low = f.lower()
        if " of " in low or "-of-" in low:  # the head is before "of": Mixture-of-Experts stays as written
            return True
        last = low.split()[-1] if f.split() else f
        if _COINED.match(f.split()[-1] if f.split() else f):  # "nuScenes", "iNaturalist": a name as written
            return True
        return singular(last) == last or is_acronym(f) and acronym_key(f) == low

    singulars = [f for f in forms if is_singular(f)]
    pool = singulars or list(forms)

    by_case: Counter[str] = Counter()
    for f, n in forms.items():
        by_case[f.lower()] += n

    lower_keys = {concept_key(f) for f in forms if f == f.lower()}

    def rank(f: str) -> tuple[int, int, int, int, int, int, str]:
        # Title Case is a title's ("Proximal Policy Optimization"); a capital at the start only is a
        # sentence's ("Speculative decoding") where the words are also written in lower case, and the
        # name as written where they are not ("Codex", not the rarer "CoDEx"; "Phi-3-mini")
        title_case = int(len(f.split()) > 1 and all(w[:1].isupper() for w in f.split()) and not is_acronym(f))
        sentence_cap = int(
            concept_key(f) in lower_keys
            and f[:1].isupper()
            and not is_acronym(f)
            and not any(c.isupper() for c in f[1:])
        )
        return (
            # the key's own forms, or the key with the tail a merge cut ("Multimodal Large Language Model"
            # under the key "multimodal large language"): the most written of those names the concept
            int(concept_key(f) != key and not concept_key(f).startswith(key + " ")),
            -by_case[f.lower()],
            title_case,
            sentence_cap,
            int(f.endswith("s")),
            -forms[f],
            f,
        )

    best = sorted(pool, key=rank)[0]
    if not singulars and not is_acronym(best):
        # only plural forms seen: the preferred label is the singular ("Vision Transformers" -> "... Transformer")
        head, _, last = best.rpartition(" ")
        sing = singular(last.lower())
        last = last[: len(sing)] if last.lower().startswith(sing) else last
        best = f"{head} {last}" if head else last
    return best


_PAREN_ACRONYM = re.compile(r"^(.*\S)\s*\(\s*([^()]+?)\s*\)$")


def strip_parenthetical_acronym(text: str) -> str:
    """ "long form (ACRONYM)" → "long form"; any other text unchanged."""
    m = _PAREN_ACRONYM.match(text)
    return m.group(1) if m and is_acronym(m.group(2)) else text


#: tails that name data: cut only after a name ("GSM8K dataset"), never after a kind of method
_DATA_TAILS = frozenset({"benchmark", "dataset", "corpus", "suite", "leaderboard", "testbed"})


def _cut_tail(key: str, by_key: dict[str, list[Mention]], res: RuleResources) -> bool:
    """Whether ``key``'s last word is a tail to cut, so that the rest names the concept.

    A generic tail ("method", "benchmark") goes when the rest is a concept seen elsewhere, has two
    words or more, or is a name; "model" and its kind only after a name written as such
    ("LLaMA-3.1 8B model", not "language model" or "Segment Anything Model").
    """
    head, _, last = key.rpartition(" ")
    if not head or head in res.generic_concepts:
        return False
    ms = by_key[key]
    if last in _DATA_TAILS:  # "HumanEval benchmark" is HumanEval, "LLM benchmarks" are not LLMs
        return any(
            _NAME_WORD.search(w) for m in ms if concept_key(m.text) == key for w in re.split(r"[\s-]+", m.text)[:-1]
        ) and not any(w.islower() for m in ms for w in m.text.split()[:-1])
    if last in res.generic_tails:
        return (
            any(m.producer not in CANDIDATE_PRODUCERS for m in by_key.get(head, ()))
            or len(re.split(r"[ -]", head)) >= 2
            or any(_NAME_LIKE.search(m.text.rsplit(None, 1)[0]) for m in ms)
        )
    if last in res.name_tails:
        # most of the ways papers write it, not one: at corpus scale some paper always writes
        # "VISION-LANGUAGE MODELS" in an upper-case title, and one such mention must not make every
        # "vision-language model" the adjective "vision-language" (an upper-case text shows no name)
        written = [m.text for m in ms if concept_key(m.text) == key and not m.text.isupper()]
        named = sum(any(_NAME_WORD.search(w) for w in re.split(r"[\s-]+", t)[:-1]) for t in written)
        return named > 0 and 2 * named >= len(written)
    return False


def normalise(
    extractions: Sequence[Extraction], resources: RuleResources | None = None
) -> tuple[dict[str, Concept], list[Mention]]:
    """Merge mentions into concepts; set each mention's ``concept`` (and its label to the concept's type).

    Mentions whose normal form is generic (``method``, ``our approach``; the ``generic_concepts``
    of ``resources/generic.json``) are dropped; a generic tail (``... method``) is cut when what
    precedes it is a concept of its own. Returns the concepts by id and all mentions, in paper
    then offset order.
    """
    res = resources or load_resources()
    # 1. acronym senses: per paper, and how many papers give each expansion
    local: dict[str, dict[str, str]] = {}
    senses: dict[str, Counter[str]] = defaultdict(Counter)
    long_forms: dict[str, dict[str, str]] = {}
    for ex in extractions:
        pairs: dict[str, str] = {}
        texts: dict[str, str] = {}
        for long_form, short in ex.abbreviations:
            lk, sk = concept_key(long_form), acronym_key(short)
            if lk and sk and lk != sk and sk not in pairs:
                pairs[sk], texts[sk] = lk, long_form
        local[ex.paper_id] = pairs
        long_forms[ex.paper_id] = texts
        for sk, lk in pairs.items():
            senses[sk][lk] += 1

    def acronym_sense(paper: str, sk: str) -> tuple[str | None, bool]:
        """The long form (as a key) acronym key ``sk`` stands for in ``paper``, and whether papers tie.

        The paper's own expansion, else the one most papers give; none when papers disagree evenly.
        """
        if sk in local.get(paper, {}):
            return local[paper][sk], False
        ranked = sorted(senses.get(sk, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return None, True
        return (ranked[0][0] if ranked else None), False

    def sense(paper: str, word: str) -> str | None:
        """The long form an acronym-like word inside a name stands for, when one is known and clear."""
        w = word.strip(",.;:()")
        return acronym_sense(paper, acronym_key(w))[0] if is_acronym(w) else None

    # an acronym inside a long form reads as its own long form, as in any other name ("Model FLOPs
    # Utilization (MFU)": MFU is "model floating point operation utilization", the key the long form's
    # mentions get), with the senses as the papers define them
    expanded_senses: dict[str, Counter[str]] = defaultdict(Counter)
    for paper, texts in long_forms.items():
        for sk, long_form in texts.items():
            words = long_form.split()
            inner = [sense(paper, w) or w for w in words] if len(words) > 1 else words
            if inner != words:
                local[paper][sk] = concept_key(" ".join(inner)) or local[paper][sk]
            expanded_senses[sk][local[paper][sk]] += 1
    senses.clear()
    senses.update(expanded_senses)

    def resolve_key(paper: str, text: str) -> tuple[str, bool]:
        stripped = strip_parenthetical_acronym(text)
        if stripped != text:  # "Segment Anything Model (SAM)" names the long form's concept
            return resolve_key(paper, stripped)
        if is_acronym(text):
            sk = acronym_key(text)
            long_form, tied = acronym_sense(paper, sk)
            return long_form or sk, tied
        unframed = strip_framing(text)
        if unframed != text:  # "An Exploration of 8-Bit Training" names 8-bit training
            return resolve_key(paper, unframed)
        key = concept_key(text)
        words = text.split()
        if len(words) > 1:  # "Multimodal LLMs", "CoT quality": an acronym inside a name reads as its long form
            expanded = [sense(paper, w) or w for w in words]
            if expanded != words:
                key = concept_key(" ".join(expanded))
        if _BASED.match(key):  # "Transformer-based models" names the Transformer; "LLM-based" the LLM
            prefix = re.split(r"[-‐‑–—_/ ]based\b", text, maxsplit=1, flags=re.IGNORECASE)[0].strip()
            if prefix and prefix != text:  # "Transformer–based model" (an en dash) too, never the text itself
                return resolve_key(paper, prefix)
        return key, False

    # 2. group mentions by key; generic ones are dropped, a generic tail is cut when what
    #    precedes it is a concept of its own
    mentions: list[Mention] = []
    by_key: dict[str, list[Mention]] = defaultdict(list)
    ambiguous: set[str] = set()
    label_form: dict[int, str] = {}  # id(mention) -> its form for choosing the label, framing or tail cut
    for ex in extractions:
        for mention in ex.mentions:
            key, amb = resolve_key(ex.paper_id, mention.text)
            if not key or key in res.generic_concepts:
                continue
            if amb:
                ambiguous.add(key)
            unframed = strip_framing(mention.text)
            if unframed != mention.text:
                label_form[id(mention)] = unframed
            by_key[key].append(mention)
            mentions.append(mention)
    for key in sorted(by_key):
        head = key.rpartition(" ")[0]
        if _cut_tail(key, by_key, res):  # "symmetric clipping method" names symmetric clipping
            for m in by_key[key]:
                label_form[id(m)] = re.sub(
                    r"[\s-]+\S+$", "", strip_parenthetical_acronym(label_form.get(id(m), m.text))
                )
            by_key[head].extend(by_key.pop(key))
    # variants of one name ("speed-up"/"speedup", "MATH-500"/"MATH500", "computation cost"/
    # "computational cost", "number of parameters"/"parameter count") join the most-mentioned key
    groups: dict[str, list[str]] = defaultdict(list)
    for key in sorted(by_key):
        groups[variant_key(key)].append(key)
    for keys in groups.values():
        if len(keys) > 1:
            main = sorted(keys, key=lambda k: (-len(by_key[k]), k))[0]
            for k in keys:
                if k != main:
                    by_key[main].extend(by_key.pop(k))
                    if k in ambiguous:
                        ambiguous.add(main)

    # 3. one concept per key
    concepts: dict[str, Concept] = {}
    for key in sorted(by_key):
        ms = by_key[key]
        # the recognisers' labels vote; the decision's extra candidates only where no recogniser spoke
        labels = Counter(m.label for m in ms if m.producer not in CANDIDATE_PRODUCERS) or Counter(m.label for m in ms)
        ctype = sorted(labels, key=lambda lab: (-labels[lab], LABELS.index(lab)))[0]
        forms = Counter(m.text for m in ms)
        label_forms = Counter(label_form.get(id(m)) or strip_parenthetical_acronym(m.text) for m in ms)
        non_acr = Counter({f: n for f, n in label_forms.items() if not is_acronym(f) or concept_key(f) == key})
        cid = concept_id(key)
        label = _prefer_label(non_acr or forms, key)
        long_papers = {
            m.paper_id for m in ms if (label_form.get(id(m)) or strip_parenthetical_acronym(m.text)) in non_acr
        }
        acronym_papers = {m.paper_id for m in ms} - long_papers
        if not non_acr or len(acronym_papers) >= ACRONYM_LABEL_RATIO * len(long_papers):
            # labelled by its acronym when that is how papers name it, most of them without the long
            # form: GSM8K, KITTI; not a method one paper defines and abbreviates ("Gradient Coding (GC)")
            named = [f for f in forms if is_acronym(f) and concept_key(f) != key] or list(forms)
            label = sorted(named, key=lambda f: (acronym_key(f) != f.lower(), -forms[f], f))[0]
            if acronym_key(label) != label.lower():  # LLMs -> LLM, but FLOPs stays
                label = label[:-1]
        c = Concept(id=cid, label=label, type=ctype, aliases=dict(sorted(forms.items())), ambiguous=key in ambiguous)
        for m in ms:
            m.concept = cid
            m.label = ctype
            c.papers.add(m.paper_id)
        c.mention_count = len(ms)
        concepts[cid] = c
    mentions.sort(key=lambda m: (m.paper_id, m.start, m.end))
    return concepts, mentions
