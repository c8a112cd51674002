#!/usr/bin/env bash
# The masked-LM comparison on a GPU machine (see training/mlm.py), in three phases that share
# /tmp/mlmw on one machine (one command each: a command may run 10 minutes, and three tagger runs
# side by side take about 8 on one H200; the files of the earlier phases stay on the machine):
#   base:    .mlm/base (mlm.py pack) + .mlm/data.jsonl.gz (python -m training.convert_encoder --out .mlm)
#            → the tagger over the original base, seeds $SEEDS → $OUT/base_arm.tgz
#   mlm:     .mlmc/corpus.tsv.xz (mlm.py corpus) → masked-LM training (mlm.py train)
#            → the adapted layers (fp16) in 15 MB parts $OUT/layers.part.*, $OUT/mlm.json
#   adapted: the tagger over the adapted base, same seeds and settings → $OUT/adapted_arm.tgz
# Each tagger run is train_encoder.py with its defaults (20 epochs, lr 1e-3, LoRA r16, batch 16).
set -u
phase=$1
SEEDS=${SEEDS:-"13 1 2"}
TAGGER_LIMIT=${TAGGER_LIMIT:-560}  # seconds a tagger run may take (the command's limit is 600)
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 PYTHONPATH=$PWD
W=/tmp/mlmw
mkdir -p "$W/runs" "$OUT"
T0=$(date +%s)

taggers() {  # $1: arm name, $2: base dir
    for s in $SEEDS; do
        timeout "$TAGGER_LIMIT" python3 -m training.train_encoder --base "$2" --data "$W/data.jsonl.gz" \
            --out "$W/runs/$1_s$s" --seed "$s" >"$W/runs/$1_s$s.log" 2>&1 &
    done
    wait
    echo "$1 taggers: $(($(date +%s) - T0)) s"
    tail -n 2 "$W"/runs/"$1"_s*.log
    tar czf "$OUT/$1_arm.tgz" -C "$W" runs
}

case "$phase" in
base)
    nvidia-smi -L
    python3 -c 'import torch, transformers; print(torch.__version__, transformers.__version__)'
    python3 -m training.mlm unpack .mlm/base --out "$W/base" || exit 1
    cp .mlm/data.jsonl.gz "$W/"
    taggers base "$W/base"
    ;;
mlm)
    [ -d "$W/base" ] || { echo "fresh machine: run the base phase first"; exit 3; }
    python3 -m training.mlm train --base "$W/base" --corpus .mlmc/corpus.tsv.xz --out "$W/adapted" \
        --epochs "${MLM_EPOCHS:-3}" --max-minutes "${MLM_MINUTES:-3.5}" 2>&1 | grep -v "Loading weights\|Writing model"
    cp "$W/adapted/mlm.json" "$W/runs/" "$OUT/" || exit 1
    split -b 15M "$W/adapted/layers.safetensors" "$OUT/layers.part."
    sha256sum "$W/adapted/layers.safetensors"
    ;;
adapted)
    [ -d "$W/adapted" ] || { echo "fresh machine: run the base and mlm phases first"; exit 3; }
    taggers adapted "$W/adapted"
    ;;
esac
echo "phase $phase: $(($(date +%s) - T0)) s"
