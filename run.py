"""Entry point of a clone: `python run.py` serves http://127.0.0.1:8000; `python run.py --help` lists
the commands; `python run.py bench` runs the benchmark program in benchmarks/ (not part of the package)."""

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent

if __name__ == "__main__":
    if sys.argv[1:2] == ["bench"]:
        sys.argv = [str(ROOT / "benchmarks" / "bench.py"), *sys.argv[2:]]
        runpy.run_path(sys.argv[0], run_name="__main__")
    from qa.serve.cli import main

    sys.exit(main(base_dir=ROOT))
