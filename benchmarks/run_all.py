"""Run every benchmark, one after the other (results in benchmarks/results/*.json).

python -m benchmarks.run_all
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("bench_build", "bench_extract", "bench_quality"):
    print(f"== {script}", flush=True)
    subprocess.run([sys.executable, "-m", f"benchmarks.{script}"], check=True, cwd=HERE.parent)
