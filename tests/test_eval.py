from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.build.evaluate import PRF, paper_norm, parse_mapping, score_mentions
from kg.cli import app
from kg.errors import InputError

SCORER = Path(__file__).resolve().parents[2] / "shared" / "gold" / "seed-dev" / "score.py"
needs_scorer = pytest.mark.skipif(not SCORER.exists(), reason="shared/gold/seed-dev/score.py not beside the project")
runner = CliRunner()


def _numbers(text: str) -> list[tuple[str, str, str, str]]:
    """(label, P, R, F1) rows from score.py's output or kg eval's table."""
    rows = []
    for line in text.splitlines():
        parts = line.replace("│", " ").replace("P=", "").replace("R=", "").replace("F1=", "").split()
        if len(parts) >= 4 and parts[0] in ("METHOD", "TASK", "DATASET", "METRIC", "micro"):
            rows.append(tuple(parts[:4]))
    return sorted(rows)


@needs_scorer
def test_eval_mention_level_agrees_with_reference_scorer(data_dir, tmp_path):
    preds = tmp_path / "pred.jsonl"
    r = runner.invoke(app, ["eval", str(data_dir / "gold_mentions.jsonl"), "--predictions", str(preds)])
    assert r.exit_code == 0, r.output
    ref = subprocess.run(
        [
            sys.executable,
            str(SCORER),
            "mention",
            str(data_dir / "gold_mentions.jsonl"),
            str(preds),
            "Method=METHOD,Task=TASK,Dataset=DATASET,Metric=METRIC",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert _numbers(r.stdout) == _numbers(ref.stdout)


@needs_scorer
def test_eval_paper_level_agrees_with_reference_scorer(data_dir, tmp_path):
    preds = tmp_path / "pred.jsonl"
    r = runner.invoke(
        app,
        [
            "eval",
            str(data_dir / "gold_concepts.jsonl"),
            "--paper",
            "--papers",
            str(data_dir / "gold_papers.jsonl"),
            "--predictions",
            str(preds),
        ],
    )
    assert r.exit_code == 0, r.output
    ref = subprocess.run(
        [sys.executable, str(SCORER), "paper", str(data_dir / "gold_concepts.jsonl"), str(preds)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert _numbers(r.stdout) == _numbers(ref.stdout)
    assert len(_numbers(r.stdout)) >= 4


def test_eval_score_mentions_by_hand():
    gold = [
        {
            "id": "a",
            "text": "x",
            "entities": [{"start": 0, "end": 4, "label": "Method"}, {"start": 5, "end": 9, "label": "Material"}],
        }
    ]
    pred = [
        {
            "id": "a",
            "mentions": [
                {"start": 0, "end": 4, "label": "METHOD"},
                {"start": 5, "end": 9, "label": "DATASET"},
                {"start": 10, "end": 12, "label": "METHOD"},
            ],
        }
    ]
    s = score_mentions(gold, pred, {"Method": "METHOD"})
    assert s.micro == PRF(1, 2, 1)  # the DATASET prediction is outside the mapped types
    s = score_mentions(gold, pred, {"Method": "METHOD", "Material": "DATASET"})
    assert (s.micro.tp, s.micro.predicted, s.micro.gold) == (2, 3, 2)


def test_eval_mapping_and_norm():
    assert parse_mapping("Material=dataset, Method=METHOD") == {"Material": "DATASET", "Method": "METHOD"}
    with pytest.raises(InputError, match="bad --map entry"):
        parse_mapping("Material=Stuff")
    assert paper_norm("Large Language Models") == "large language model"


def test_eval_json_output_and_bad_gold(tmp_path, data_dir):
    r = runner.invoke(
        app, ["eval", str(data_dir / "gold_mentions.jsonl"), "--json", "--map", "Dataset=DATASET,Material=DATASET"]
    )
    data = json.loads(r.stdout)
    assert set(data) >= {"micro", "DATASET", "documents"} and "METHOD" not in data
    assert data["DATASET"]["gold"] == 2  # COCO is both Dataset and Material: one span
    bad = tmp_path / "g.jsonl"
    bad.write_text('{"id": "x"}\n')
    r = runner.invoke(app, ["eval", str(bad)])
    assert r.exit_code == 1 and "need 'id', 'text' and 'entities'" in r.stderr
