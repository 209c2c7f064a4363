"""Settings, read once from the environment (and overridden by CLI options).

Every knob a user may turn lives here, so the web app, the CLI, the evaluation
and the benchmarks all see the same defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from qa.errors import BadInput

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadInput("invalid_setting", f"{name} must be a whole number, got {raw!r}") from None


ANN_KINDS = ("auto", "flat", "ivf")
BACKENDS = ("torch", "onnx", "onnx-int8")


def _env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name) or default
    if raw not in choices:
        raise BadInput("invalid_setting", f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    """Where the data lives and how the service behaves."""

    corpus_dir: Path
    index_dir: Path
    model: str = DEFAULT_MODEL
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 8
    api_token: str | None = None
    max_upload_bytes: int = 5 * 1024 * 1024
    max_question_chars: int = 1000
    ann: str = "auto"
    backend: str = "torch"

    def __post_init__(self):
        if not 0 <= self.port <= 65535:
            raise BadInput("invalid_setting", f"port must be from 0 to 65535, got {self.port}")
        if self.threads < 1:
            raise BadInput("invalid_setting", f"threads must be 1 or more, got {self.threads}")

    @classmethod
    def from_env(cls, base_dir: Path | None = None) -> "Settings":
        base = Path(base_dir) if base_dir else Path.cwd()
        env = os.environ.get
        return cls(
            corpus_dir=Path(env("QA_CORPUS_DIR") or base / "corpus"),
            index_dir=Path(env("QA_INDEX_DIR") or base / "index"),
            model=env("QA_MODEL") or DEFAULT_MODEL,
            host=env("QA_HOST") or "127.0.0.1",
            port=_env_int("QA_PORT", 8000),
            threads=_env_int("QA_THREADS", 8),
            api_token=env("QA_API_TOKEN") or None,
            max_upload_bytes=_env_int("QA_MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
            ann=_env_choice("QA_ANN", ANN_KINDS, "auto"),
            backend=_env_choice("QA_BACKEND", BACKENDS, "torch"),
        )

    def with_(self, **changes) -> "Settings":
        """A copy with the given fields changed; `None` values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def db_path(self) -> Path:
        return self.index_dir / "qa.sqlite3"
