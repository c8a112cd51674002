"""Broader and narrower concepts: a hierarchy induced from the corpus's own concepts.

Four rules, each link keeping the rule and its evidence:

``head``
    A concept whose key ends with another concept's key is narrower than it: the nearest
    such ancestor only ("4-bit integer quantization" → "integer quantization" when that is a
    concept, else "quantization"). A key's head is what precedes ``of``/``for``/...:
    "sparse mixture of experts" → "mixture of experts", never → "experts". Too generic heads
    ("model", "method", ...) are never parents. A trailing word that only says how the concept
    is used ("prompting", "method", ...) may be set aside: "zero-shot chain-of-thought
    prompting" → "chain of thought" (with "prompting" its head link when that is a concept).
``acronym``
    An acronym heading a name is read as the long form the corpus gives it (the concept whose
    alias it is): "zero-shot CoT prompting" → "chain of thought", "sparse MoE" → "mixture of
    experts".
``family``
    Model families and versions, the nearest existing one: "LLaMA-3.1 8B" → "LLaMA-3.1" →
    "LLaMA"; "GPT-4o" → "GPT-4" → "GPT", each parent only when it is a concept.
``hearst``
    A sentence saying so (Hearst patterns): "Y such as X (, X2 and X3)", "Y including X",
    "X and other Y", "X is a kind/type/variant of Y", "X, a Y,". The evidence is the sentence.

Every step indexes concepts by key (and by key without spaces), so the work is linear in the
number of concepts and mentions: no pair of concepts is ever compared. The output is
deterministic (sorted), has no self-links and no cycles (a link closing one is dropped, the
rules' order deciding which stays), and a child gets at most one parent per rule (Hearst links
excepted: one per distinct parent).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kg.normalise import acronym_key, concept_key, is_acronym, slug, variant_key
from kg.records import Concept, Mention, Paper

__all__ = ["BroaderLink", "Hierarchy", "induce_hierarchy", "RULES", "GENERIC_HEADS"]

#: the rules, in the order their links win when two would close a cycle
RULES = ("family", "head", "acronym", "hearst")

#: heads too broad to be anyone's broader concept (a "reward model" is not usefully a "model")
GENERIC_HEADS = frozenset(
    [
        "model",
        "method",
        "approach",
        "framework",
        "system",
        "network",
        "architecture",
        "technique",
        "algorithm",
        "task",
        "problem",
        "data",
        "dataset",
        "benchmark",
        "performance",
        "result",
        "module",
        "layer",
        "component",
        "mechanism",
        "strategy",
        "scheme",
        "paradigm",
        "pipeline",
        "tool",
        "setting",
        "size",
        "time",
        "cost",
        "quality",
        "capability",
        "ability",
        "information",
        "feature",
        "knowledge",
        "level",
        "rate",
        "value",
        "number",
        "function",
        "space",
        "set",
        "type",
        "form",
        "way",
        "work",
        "study",
        "analysis",
        "process",
        "step",
        "stage",
        "input",
        "output",
        "token",
        "text",
        "word",
        "language",
        "learning",
        "training",
        "inference",
        "evaluation",
        "application",
        "design",
        "structure",
        "condition",
        "version",
        "variant",
        "methodology",
        "solution",
        "metric",
    ]
)

#: a last word that says how a concept is used, set aside to find the concept itself
_USE_TAILS = frozenset(
    [
        "prompting",
        "prompt",
        "method",
        "approach",
        "technique",
        "strategy",
        "scheme",
        "algorithm",
        "framework",
        "paradigm",
        "mechanism",
        "procedure",
    ]
)

#: words after which the rest of a key is a complement, not a head ("mixture of experts")
_PREPOSITIONS = frozenset(
    [
        "of",
        "for",
        "with",
        "on",
        "in",
        "to",
        "via",
        "from",
        "by",
        "and",
        "or",
        "under",
        "over",
        "at",
        "as",
        "against",
        "between",
        "without",
        "vs",
        "versus",
        "per",
    ]
)

#: prepositions whose left side is not the head: "mixture of experts", "speech and language"
_NOT_HEAD_PREPOSITIONS = frozenset({"of", "and", "or", "as", "between", "without", "against", "vs", "versus"})

#: tokens naming a size, checkpoint or flavour of a model ("8b", "instruct", "turbo")
_SIZE = re.compile(r"^(?:\d+(?:\.\d+)?[bmkt]|\d+x\d+(?:\.\d+)?[bmkt]?|\d+(?:\.\d+)?(?:bn|billion|million))$")
_FLAVOURS = frozenset(
    [
        "instruct",
        "instruction",
        "chat",
        "base",
        "it",
        "hf",
        "turbo",
        "mini",
        "preview",
        "pro",
        "plus",
        "max",
        "flash",
        "lite",
        "large",
        "small",
        "medium",
        "tiny",
        "nano",
        "xl",
        "xxl",
        "vision",
        "coder",
        "code",
        "math",
        "distill",
        "distilled",
        "sft",
        "dpo",
        "rlhf",
        "ultra",
    ]
)
_VERSION_TOKEN = re.compile(r"^([a-z][a-z+]*?)[ .]?v?(\d+(?:\.\d+)*)([a-z]?)$")  # "qwen2.5", "gpt4o", "v2"
_LETTER_VERSION = re.compile(r"^[a-z]\d+$")  # "EfficientNet-B4", "ResNet v2"
_ZERO_MINOR = re.compile(r"(\d)(?:\.0)+(?![\d.])")
_DOTTED = re.compile(r"^(\d+)\.\d+(?:\.\d+)*$")
_DIGITS_LETTER = re.compile(r"^(\d+)[a-z]$")  # "4o", "4v"
_HAS_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, order=True)
class BroaderLink:
    """``child`` is narrower than ``parent`` (concept ids), by ``rule``, as ``evidence`` shows."""

    child: str
    parent: str
    rule: str  # one of RULES
    evidence: str  # "head: quantization", "CoT = chain of thought", or the sentence
    paper: str | None = None  # for a sentence's evidence: the paper and sentence index
    sentence: int | None = None
    support: int = 1  # sentences (Hearst) stating it; 1 for the name rules

    def to_dict(self) -> dict[str, object]:
        return {
            "child": self.child,
            "parent": self.parent,
            "rule": self.rule,
            "evidence": self.evidence,
            "paper": self.paper,
            "sentence": self.sentence,
            "support": self.support,
        }


def _compatible(a: str, b: str) -> bool:
    """Types that can stand above one another: the same, or method and task (often confused)."""
    return a == b or {a, b} <= {"METHOD", "TASK"}


def _key_of(c: Concept) -> str:
    """The concept's key (its id is the key's slug): from its label or an alias that gives that id."""
    for form in (c.label, *sorted(c.aliases, key=lambda a: (-c.aliases[a], a))):
        k = concept_key(form)
        if k and slug(k) == c.id:
            return k
    return concept_key(c.label) or c.id.replace("-", " ")


def _compact(key: str) -> str:
    return key.replace(" ", "")


def _unit_starts(label: str, key: str) -> frozenset[int]:
    """Word indices of ``key`` where a unit of ``label`` starts: a hyphenated compound is one unit
    ("test-time scaling" has units at 0 and 2, never at 1: "time scaling" is no head of it)."""
    words = key.split()
    starts, i = [], 0
    for token in label.split():
        n = len(concept_key(token).split())
        if n:
            starts.append(i)
            i += n
    return frozenset(starts) if i == len(words) else frozenset(range(len(words)))


class _Index:
    def __init__(self, concepts: dict[str, Concept]) -> None:
        self.concepts = dict(concepts)
        self.general: dict[str, Concept] = {}  # concepts the hierarchy names (heads shared across papers)
        self.heads: dict[str, int] = {}  # a general concept -> how many concepts share it as their head
        self.key: dict[str, str] = {}  # concept id -> key
        self.units: dict[str, frozenset[int]] = {}  # concept id -> word indices where a unit of its label starts
        self.by_key: dict[str, str] = {}  # key -> concept id
        self.by_compact: dict[str, str] = {}  # key without spaces -> concept id (most papers)
        self.by_variant: dict[str, str] = {}  # variant_key -> concept id (most papers)
        for cid in sorted(concepts):
            k = _key_of(concepts[cid])
            self.key[cid] = k
            self.units[cid] = _unit_starts(concepts[cid].label, k)
            self.by_key.setdefault(k, cid)
        for cid in sorted(concepts, key=lambda c: (-concepts[c].paper_count, c)):
            self.by_compact.setdefault(_compact(self.key[cid]), cid)
            self.by_variant.setdefault(variant_key(self.key[cid]), cid)
        # acronym -> the concept whose alias it is (a long form's concept), when one sense leads
        senses: dict[str, Counter[str]] = defaultdict(Counter)
        for cid in sorted(concepts):
            c = concepts[cid]
            for alias, n in c.aliases.items():
                if is_acronym(alias) and " " not in self.key[cid]:
                    continue  # an acronym's own concept ("SAM" with no long form) is no expansion
                if is_acronym(alias) and acronym_key(alias) != self.key[cid]:
                    senses[acronym_key(alias)][cid] += n
        self.acronym: dict[str, str] = {}
        for ak, cands in senses.items():
            ranked = sorted(cands.items(), key=lambda kv: (-kv[1], kv[0]))
            if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
                self.acronym[ak] = ranked[0][0]

    def add_general(self, c: Concept, key: str) -> None:
        self.concepts[c.id] = self.general[c.id] = c
        self.key[c.id] = key
        self.units[c.id] = _unit_starts(c.label, key)
        self.by_key[key] = c.id
        self.by_variant.setdefault(variant_key(key), c.id)

    def parent_ok(self, child: str, parent: str | None) -> bool:
        if parent is None or parent == child:
            return False
        return self.key[parent] not in GENERIC_HEADS and _compatible(
            self.concepts[child].type, self.concepts[parent].type
        )


def _head_start(words: Sequence[str]) -> int:
    """The last index a suffix may start at: before the first preposition (the head precedes it)."""
    for i, w in enumerate(words):
        if i > 0 and w in _PREPOSITIONS:
            return i - 1
    return len(words) - 1


def _initials(modifier: Sequence[str], suffix: str) -> bool:
    """Whether ``suffix`` is the acronym of the words before it ("natural language processing nlp")."""
    return " " not in suffix and len(suffix) >= 2 and "".join(w[0] for w in modifier).endswith(suffix)


def _suffix_starts(words: Sequence[str], first: int) -> Iterable[int]:
    """Where a head (a suffix of ``words``) may start, longest first: not at or after a preposition."""
    for i in range(first, _head_start(words) + 1):
        if not (i > 0 and words[i - 1] in _PREPOSITIONS) and words[i] not in _PREPOSITIONS:
            yield i


def _nearest_suffix(
    idx: _Index, cid: str, words: Sequence[str], first: int, units: frozenset[int] = frozenset()
) -> str | None:
    """The concept whose key is the longest suffix of ``words`` starting at ``first`` or later
    (a general concept only where a unit of the name starts: ``units``)."""
    for i in _suffix_starts(words, first):
        suffix = " ".join(words[i:])
        p = idx.by_key.get(suffix) or idx.by_variant.get(variant_key(suffix))
        if p in idx.general and i not in units:
            continue
        if idx.parent_ok(cid, p) and not _initials(words[:i], suffix):
            return p
    return None


_HEAD_WORD = re.compile(r"^[a-z]{3,}(?<!ous)(?<!ical)(?<!ful)$")  # a noun: no "continuous", "analytical", "useful"
_NAME_WORD = re.compile(r"\d|[A-Z].*[A-Z]")  # a digit or two capitals: a name's or an acronym's word


def _can_head(words: Sequence[str]) -> bool:
    """Whether ``words`` can name a general concept: common words, the last a word of 3+ letters."""
    return (
        bool(_HEAD_WORD.match(words[-1]))
        and all(w.isalpha() for w in words)
        and " ".join(words) not in GENERIC_HEADS
        and words[0] not in _USE_TAILS
        and not (len(words) == 1 and words[0] in _FLAVOURS)  # "HumanEval Pro": a version, no kind of "pro"
        and not (len(words) > 1 and words[0] in GENERIC_HEADS)  # "time algorithm": a modifier's fragment
    )


def _surface_from(label: str, words: Sequence[str], start: int) -> str | None:
    """The words of ``label`` from its unit that starts at key word ``start`` (None if none does)."""
    tokens, i = label.split(), 0
    for j, token in enumerate(tokens):
        n = len(concept_key(token).split())
        if not n:  # a lone "-" or "/": no word of the key
            continue
        if i == start:
            return " ".join(tokens[j:]).strip(".,;:()[]-–—/ ")
        i += n
    return None


def _induce_general(idx: _Index) -> None:
    """Name general concepts: a head that several concepts share but the corpus has no concept for.

    A suffix of a concept's name at a unit boundary ("image segmentation" in "medical image
    segmentation"; "segmentation") becomes a general concept when concepts of at least two papers
    share it (of one type), no nearer concept of the corpus stands between, it is made of common
    words (a name's or an acronym's tail is the family or acronym rule's) and is not a generic head.
    Its papers and mentions are those of the concepts it heads: where it is seen.
    """
    groups: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # variant key -> (child, key, surface)
    for cid in sorted(idx.concepts):
        c = idx.concepts[cid]
        words = idx.key[cid].split()
        if len(words) < 2 or re.search(r"[\w+#]/\w", c.label):
            continue
        for i in _suffix_starts(words, 1):
            suffix = " ".join(words[i:])
            if suffix in idx.by_key or variant_key(suffix) in idx.by_variant:
                break  # a concept of the corpus is nearer: the head rule links there
            if i not in idx.units[cid] or not _can_head(words[i:]) or _initials(words[:i], suffix):
                continue
            surface = _surface_from(c.label, words, i)
            if surface and not _NAME_WORD.search(surface):
                groups[variant_key(suffix)].append((cid, suffix, surface))
    for vk in sorted(groups):
        members = groups[vk]
        types = Counter(idx.concepts[cid].type for cid, _, _ in members)
        ctype = min(types, key=lambda t: (-types[t], t))
        kids = [m for m in members if _compatible(idx.concepts[m[0]].type, ctype)]
        papers: set[str] = set().union(*(idx.concepts[cid].papers for cid, _, _ in kids))
        if len(kids) < 2 or len(papers) < 2:
            continue
        keys = Counter(k for _, k, _ in kids)
        key = min(keys, key=lambda k: (-keys[k], k))
        surfaces = Counter(sfc.lower() for _, _, sfc in kids)
        label = min(surfaces, key=lambda x: (-surfaces[x], x))
        gid = slug(key)
        if not gid or gid in idx.concepts:
            continue
        mentions = sum(idx.concepts[cid].mention_count for cid, _, _ in kids)
        idx.add_general(Concept(gid, label, ctype, {label: mentions}, papers, mentions), key)
        idx.heads[gid] = len(kids)


def _general_note(idx: _Index, cid: str) -> str:
    if cid not in idx.general:
        return ""
    return f" (a general concept: the head of {idx.heads[cid]} concepts in {idx.general[cid].paper_count} papers)"


def _name_links(idx: _Index, cid: str) -> list[BroaderLink]:
    key = idx.key[cid]
    words = key.split()
    out: list[BroaderLink] = []
    if re.search(r"[\w+#]/\w", idx.concepts[cid].label):  # "greedy/beam search": alternatives, no single head
        return out
    head = _nearest_suffix(idx, cid, words, 1, idx.units[cid]) if len(words) > 1 else None
    if head is not None and idx.key[head] in _FLAVOURS and _is_name(idx.concepts[cid]):
        head = None  # "GPT-4 Turbo": a version of GPT-4 (the family rule), not a kind of "Turbo"
    if head is not None:
        out.append(BroaderLink(cid, head, "head", f"head: {idx.concepts[head].label}{_general_note(idx, head)}"))
    prep = next((i for i, w in enumerate(words) if i > 0 and w in _PREPOSITIONS), None)
    if head is None and prep is not None and words[prep] not in _NOT_HEAD_PREPOSITIONS:
        # "sparse attention for long contexts": the head is before the preposition
        p = _nearest_suffix(idx, cid, words[:prep], 0)
        if p is not None:
            out.append(BroaderLink(cid, p, "head", f"head: {idx.concepts[p].label} ({' '.join(words[prep:])})"))
            return out
    # a usage tail set aside ("zero-shot chain-of-thought prompting" -> chain of thought), when the
    # head link (if any) is that tail word itself
    core, tail = words, ""
    if len(words) > 1 and words[-1] in _USE_TAILS and (head is None or idx.key[head] == words[-1]):
        core, tail = words[:-1], words[-1]
        p = _nearest_suffix(idx, cid, core, 0)
        if p is not None and p != head:
            out.append(BroaderLink(cid, p, "head", f"head: {idx.concepts[p].label} (a kind of {idx.key[p]} {tail})"))
            return out
    # an acronym heading the name, read as its long form
    ak = core[-1] if core else ""
    long_cid = idx.acronym.get(ak)
    if long_cid is not None and core[:-1] and " ".join(core[:-1]).endswith(idx.key[long_cid]):
        long_cid = None  # "natural language processing (NLP)": the long form and its acronym, one concept
    if long_cid is not None and long_cid != cid and not (len(core) == 1 and not tail):
        expanded = [*core[:-1], *idx.key[long_cid].split()]
        p = _nearest_suffix(idx, cid, expanded, 0)
        if p is not None and p != head:
            shown = next(
                (
                    a
                    for a in sorted(idx.concepts[cid].aliases)
                    if re.search(rf"(?i)(?<![\w]){re.escape(ak)}s?(?![\w])", a)
                ),
                ak,
            )
            acr = re.search(rf"(?i)(?<![\w]){re.escape(ak)}(?![\w])", shown)
            acr_text = acr.group(0) if acr else ak.upper()
            out.append(
                BroaderLink(
                    cid, p, "acronym", f"{acr_text} = {idx.concepts[long_cid].label}; head: {idx.concepts[p].label}"
                )
            )
    return out


def _reductions(key: str) -> Iterable[str]:
    """Ever shorter names of a model's family: "llama 3.1 8b" → "llama 3.1" → "llama 3" → "llama"."""
    words = key.split()
    seen_version = False
    while words:
        last = words[-1]
        prev_has_digit = len(words) > 1 and bool(_HAS_DIGIT.search(words[-2]))
        if len(words) > 1 and (_SIZE.match(last) or (last in _FLAVOURS and (prev_has_digit or seen_version))):
            words = words[:-1]
        elif len(words) > 1 and (m := _DIGITS_LETTER.match(last)) or len(words) > 1 and (m := _DOTTED.match(last)):
            words = [*words[:-1], m.group(1)]
        elif len(words) > 1 and (last.isdigit() or _LETTER_VERSION.match(last)):
            words = words[:-1]
        elif (m := _VERSION_TOKEN.match(last)) and len(m.group(1)) >= 2 and (m.group(2) or m.group(3)):
            name, ver, letter = m.groups()
            if letter:
                words = [*words[:-1], f"{name}{ver}"]
            elif "." in ver:
                words = [*words[:-1], f"{name}{ver.split('.')[0]}"]
            else:
                words = [*words[:-1], name]
        else:
            return
        seen_version = True
        yield " ".join(words)


def _is_name(c: Concept) -> bool:
    """A model's or dataset's name: a digit or two capitals in one word ("LLaMA-3.1 8B", "GPT-4o")."""
    return any(re.search(r"\d", w) or sum(ch.isupper() for ch in w) >= 2 for w in re.split(r"[\s-]+", c.label))


def _family_link(idx: _Index, cid: str) -> BroaderLink | None:
    c = idx.concepts[cid]
    if not _is_name(c):
        return None
    same = _compact(_ZERO_MINOR.sub(r"\1", idx.key[cid]))  # "GPT-4.0" is GPT-4 itself, no version of it
    for reduced in _reductions(idx.key[cid]):
        if not re.search(r"[a-z]", reduced):
            return None
        if _compact(reduced) == same:
            continue
        p = idx.by_compact.get(_compact(reduced))
        if p is not None and p != cid and _compatible(c.type, idx.concepts[p].type) and _is_name_or_word(idx, p):
            return BroaderLink(
                cid, p, "family", f"family: {idx.concepts[cid].label} is a version of {idx.concepts[p].label}"
            )
    return None


def _is_name_or_word(idx: _Index, cid: str) -> bool:
    return idx.key[cid] not in GENERIC_HEADS


# ------------------------------------------------------------------------------- Hearst patterns
_ADJ = r"(?:[a-z][\w-]*\s+){0,2}?"
#: text between a general Y and a specific X (Y first)
_GENERIC_NOUN = (
    r"(?:method|model|technique|approach|algorithm|framework|architecture|task|benchmark|dataset|metric|"
    r"system|tool|strateg(?:y|ie))s?"
)
_Y_THEN_X = re.compile(
    r"^\s*(?:" + _GENERIC_NOUN + r"\s*)?[,(]?\s*(?:such\s+as|including|especially|particularly|"
    r"notably|e\.g\.,?|for\s+example,?|"
    r"for\s+instance,?|like)\s*(?:the\s+)?$",
    re.IGNORECASE,
)
#: text between a specific X and a general Y (X first): "X and other Y", "X is a kind of Y"
_X_THEN_Y = re.compile(
    r"^\s*(?:,?\s*(?:and|or)\s+other\s+"
    + _ADJ
    + r"|(?:is|are|as)\s+(?:a|an|one)?\s*(?:kind|type|form|variant|class|family|instance|special\s+case|subset)s?"
    r"\s+of\s+(?:the\s+)?" + _ADJ + r")$",
    re.IGNORECASE,
)
#: "X, a Y" / "X is a Y" for a named X (a capital in it), up to two adjectives before Y
_APPOSITIVE = re.compile(
    r"^\s*(?:,\s*|\s+is\s+)(?:a|an)\s+(?:(?!(?:for|of|to|that|which|with|on|in|and|or|by|from|"
    r"way|set|family|number|series|combination|variant|version|part)\b)[a-z][\w-]*\s+){0,2}$",
    re.IGNORECASE,
)
_LIST_SEP = re.compile(r"^\s*(?:,|,?\s*and|,?\s*or)\s*$", re.IGNORECASE)
#: after "X, a Y": the appositive ends (a generic noun, then a comma, period, "that", "which")
_APPOSITIVE_END = re.compile(r"^(?:[\s-]*" + _GENERIC_NOUN + r")?\s*(?:[,.;:)]|that\b|which\b|$)", re.IGNORECASE)


def _sentence_text(text: str, m: Mention) -> str:
    if m.sentence_end > m.sentence_start:
        return text[m.sentence_start : m.sentence_end].strip()
    lo = max(text.rfind(". ", 0, m.start) + 1, text.rfind("\n", 0, m.start) + 1, 0)
    hi = text.find(". ", m.end)
    return text[lo : hi + 1 if hi >= 0 else len(text)].strip()


def _hearst(idx: _Index, mentions: Sequence[Mention], papers: Sequence[Paper]) -> list[BroaderLink]:
    texts = {p.id: p.text for p in papers}
    by_sentence: dict[tuple[str, int], list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.concept in idx.concepts and m.paper_id in texts:
            by_sentence[(m.paper_id, m.sentence)].append(m)
    found: dict[tuple[str, str], list[tuple[str, int, str]]] = defaultdict(list)

    def add(x: Mention, y: Mention, pid: str, sent: int, text: str) -> None:
        if x.concept != y.concept and idx.parent_ok(x.concept, y.concept):
            found[(x.concept, y.concept)].append((pid, sent, _sentence_text(text, x)))

    for (pid, sent), ms in sorted(by_sentence.items()):
        if len(ms) < 2:
            continue
        text = texts[pid]
        ms = sorted(ms, key=lambda m: (m.start, m.end))
        ms = [m for i, m in enumerate(ms) if i == 0 or m.start >= ms[i - 1].end]  # no overlaps
        for i in range(len(ms) - 1):
            a, b = ms[i], ms[i + 1]
            between = text[a.end : b.start]
            if len(between) > 60:
                continue
            if _Y_THEN_X.match(between):  # "Y such as X, X2 and X3"
                add(b, a, pid, sent, text)
                j = i + 1  # the list goes on while commas lead to an "and"/"or"
                while j + 1 < len(ms) and _LIST_SEP.match(text[ms[j].end : ms[j + 1].start]):
                    j += 1
                while j > i + 1 and not re.search(r"(?i)\b(?:and|or)\b", text[ms[j - 1].end : ms[j].start]):
                    j -= 1
                for k in range(i + 2, j + 1):
                    add(ms[k], a, pid, sent, text)
            elif _APPOSITIVE.match(between):  # "FastSpec, a speculative decoding method that"
                if re.search(r"[A-Z]", a.text) and _APPOSITIVE_END.match(text[b.end : b.end + 30]):
                    add(a, b, pid, sent, text)
            elif _X_THEN_Y.match(between):  # "X and other Y", "X is a kind of Y"
                add(a, b, pid, sent, text)
                k = i  # "X1, X2 and other Y": the list before X
                while (
                    k > 0
                    and re.search(r"(?i)\band\s+other\b", between)
                    and _LIST_SEP.match(text[ms[k - 1].end : ms[k].start])
                ):
                    add(ms[k - 1], b, pid, sent, text)
                    k -= 1
    out: list[BroaderLink] = []
    for (child, parent), evs in sorted(found.items()):
        evs.sort()
        pid, sent, sentence = evs[0]
        out.append(BroaderLink(child, parent, "hearst", sentence, pid, sent, len({(p, s) for p, s, _ in evs})))
    return out


# ------------------------------------------------------------------------------- the whole
class Hierarchy(list[BroaderLink]):
    """The links (a list, sorted) and ``general``: the concepts the hierarchy named, by id.

    A general concept is a head several concepts of the corpus share ("segmentation" above
    "semantic segmentation" and "medical image segmentation") with no concept of its own; its
    papers and mentions are those of the concepts it heads. Links may name it as parent or child.
    """

    def __init__(self, links: Iterable[BroaderLink] = (), general: dict[str, Concept] | None = None) -> None:
        super().__init__(links)
        self.general: dict[str, Concept] = general or {}


def induce_hierarchy(
    concepts: dict[str, Concept],
    mentions: Sequence[Mention] = (),
    papers: Sequence[Paper] = (),
    *,
    general: bool = True,
) -> Hierarchy:
    """Broader links between ``concepts`` from their names and, given mentions and papers, their sentences.

    Returns the links sorted by (child, parent, rule); at most one link per (child, parent) pair
    (the first rule of :data:`RULES` that gives it), none closing a cycle. With ``general``, heads
    that concepts of two or more papers share become concepts of their own (``Hierarchy.general``).
    """
    idx = _Index(concepts)
    if general:
        _induce_general(idx)
    cands: list[BroaderLink] = []
    for cid in sorted(idx.concepts):
        fam = _family_link(idx, cid)
        if fam is not None:
            cands.append(fam)
        cands.extend(_name_links(idx, cid))
    if mentions and papers:
        cands.extend(_hearst(idx, mentions, papers))
    rank = {r: i for i, r in enumerate(RULES)}
    cands.sort(key=lambda ln: (rank[ln.rule], -ln.support, ln.child, ln.parent))
    parents: dict[str, list[str]] = defaultdict(list)
    kept: dict[tuple[str, str], BroaderLink] = {}

    def reaches(src: str, dst: str) -> bool:  # is dst an ancestor of (or) src?
        stack, seen = [src], {src}
        while stack:
            n = stack.pop()
            if n == dst:
                return True
            for p in parents.get(n, ()):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return False

    for ln in cands:
        pair = (ln.child, ln.parent)
        if pair in kept or reaches(ln.parent, ln.child):
            continue
        kept[pair] = ln
        parents[ln.child].append(ln.parent)
    # a general concept that ended up heading nothing goes, with its own links (and so on up)
    links = set(kept.values())
    while True:
        heading = {ln.parent for ln in links}
        idle = {g for g in idx.general if g not in heading}
        gone = {ln for ln in links if ln.child in idle}
        if not gone:
            break
        links -= gone
    used = {ln.parent for ln in links} | {ln.child for ln in links}
    return Hierarchy(sorted(links), {g: c for g, c in sorted(idx.general.items()) if g in used})
