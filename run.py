"""Entry point: `python run.py` serves http://127.0.0.1:8000; `python run.py --help` lists the commands."""

import sys
from pathlib import Path

from qa.cli import main

if __name__ == "__main__":
    sys.exit(main(base_dir=Path(__file__).resolve().parent))
