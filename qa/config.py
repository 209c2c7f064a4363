"""Every setting, read once: the environment, then CLI flags, land in one frozen :class:`Settings`.

The web app, the CLI, the evaluation and the benchmark all build their
service from a ``Settings``, so they see the same defaults. The tuning knobs
(how passages are cut, what the model reads, how results are ranked, which
vector index is used) are grouped in small dataclasses beside it; their
defaults are the measured best (docs/evaluation.md, docs/performance.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from qa.errors import BadInput

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ANN_KINDS = ("auto", "flat", "ivf")
BACKENDS = ("torch", "onnx", "onnx-int8")
ENGINES = ("local", "milvus")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
FUSIONS = ("convex", "rrf", "dense", "lexical")
LEXICAL_NORMS = ("idf", "max")
GROUPS = ("passage", "article")     # an ask's results: every passage, or one per article
SORTS = ("relevance", "date")      # an ask's order
LIST_ORDERS = ("added", "date", "title")  # the article list's order
MAX_PAGE = 100                     # articles in one page of the list
MAX_OFFSET = 10**9                 # past any real corpus; larger numbers overflow SQLite
FILTER_LISTS = {"source": "sources", "author": "authors", "article": "articles"}  # filter field -> Filter attribute
FILTER_DATES = ("date_from", "date_to")
CORPUS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class ChunkingConfig:
    """Windows of ``size`` sentences, moving ``stride`` sentences at a time, at most ``max_chars``
    characters and ``max_tokens`` word pieces long."""

    size: int = 3
    stride: int = 1
    max_chars: int = 600
    max_tokens: int = 240

    def __post_init__(self):
        if not 1 <= self.stride <= self.size:
            raise BadInput("invalid_option", "chunking needs 1 <= stride <= window size")


@dataclass(frozen=True)
class ModelInputConfig:
    """What the model reads before each passage: the article title, cut to ``title_tokens`` word pieces."""

    embed_title: bool = True
    title_tokens: int = 48


@dataclass(frozen=True)
class RankingConfig:
    """The knobs of the ranking (docs/evaluation.md has the ablation of each)."""

    fusion: str = "convex"        # convex | rrf | dense | lexical
    alpha: float = 0.6            # weight of the dense score in convex fusion
    rrf_k: int = 60
    lexical_norm: str = "idf"     # idf: BM25 / the question's idf sum; max: BM25 / the best BM25
    candidates: int = 100         # taken from each retriever
    rerank_depth: int = 20        # fused candidates re-ranked by their best sentence
    sentence_weight: float = 0.5  # weight of the best sentence's similarity in re-ranking
    answer_type_weight: float = 0.2  # re-ranking bonus for a sentence holding the kind of answer asked for
    answer_weight: float = 0.0    # weight of the reader's best sentence probability in re-ranking
    dedupe: bool = True           # drop passages whose answer is already shown by a better one
    feedback: float = 0.0         # pseudo-relevance feedback: weight of the top passages' mean vector
                                  # (off: at 0.3, +0.006 nDCG@10 on SciFact test but -0.0002 on train)
    feedback_depth: int = 3
    article_weight: float = 0.0   # weight of the article's evidence (its best candidates' mean score);
                                  # off: it cost seed questions amid distractors (docs/evaluation.md)
    article_depth: int = 3        # an article's best candidates that make its evidence

    def __post_init__(self):
        if self.fusion not in FUSIONS:
            raise BadInput("invalid_option", f"fusion must be one of {', '.join(FUSIONS)}")
        if self.lexical_norm not in LEXICAL_NORMS:
            raise BadInput("invalid_option", f"lexical norm must be one of {', '.join(LEXICAL_NORMS)}")
        for name in ("rrf_k", "article_depth", "rerank_depth"):
            if getattr(self, name) < 1:
                raise BadInput("invalid_option", f"{name.replace('_', ' ')} must be 1 or more")
        if not 0 <= self.alpha <= 1:
            raise BadInput("invalid_option", "alpha must be between 0 and 1")
        for name in ("sentence_weight", "answer_type_weight", "answer_weight", "feedback", "article_weight"):
            if getattr(self, name) < 0:
                raise BadInput("invalid_option", f"{name.replace('_', ' ')} must be 0 or more")


@dataclass(frozen=True)
class VectorIndexConfig:
    """Exact or approximate vector search. ``auto`` is exact below ``auto_ivf_from`` vectors and IVF
    from there (faster at no measured loss, docs/performance.md); IVF needs ``ivf_min`` vectors."""

    kind: str = "auto"            # auto | flat | ivf
    auto_ivf_from: int = 5_000
    ivf_min: int = 1_000
    nprobe: int = 32              # clusters searched per question

    def __post_init__(self):
        if self.kind not in ANN_KINDS:
            raise BadInput("invalid_setting", f"vector index must be one of {', '.join(ANN_KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class FetchConfig:
    """Fetching pages and feeds from the web: what may be reached, and how much is read."""

    allow_private: bool = False   # QA_FETCH_ALLOW_PRIVATE=1: loopback, private and link-local addresses too
    allow: tuple[str, ...] = ()   # QA_FETCH_ALLOW: networks reachable even though private ("10.1.0.0/16,...")
    timeout_s: float = 20.0       # a whole fetch, redirects included
    max_redirects: int = 5
    max_bytes: int = 5 * 1024 * 1024
    feed_check_s: float = 15.0    # how often the feed poller looks for feeds that are due


@dataclass(frozen=True)
class Settings:
    """Where the data lives and how the service behaves."""

    corpus_dir: Path
    index_dir: Path
    corpus_name: str = ""           # several folders mirrored into one shared engine: each one's name
    model: str = DEFAULT_MODEL
    backend: str = "torch"
    model_cache: Path = field(default_factory=lambda: Path.home() / ".cache" / "qa" / "onnx")
    engine: str = "local"
    milvus_uri: str | None = None   # a Milvus server (http://host:19530) or a Milvus Lite file; None: index/milvus.db
    milvus_token: str | None = None
    milvus_prefix: str = "qa"       # the collections' names start with it (several indexes in one Milvus)
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 8
    api_token: str | None = None
    max_upload_bytes: int = 5 * 1024 * 1024
    log_level: str = "INFO"
    log_format: str = "text"      # text, or json: one JSON object per line
    max_question_chars: int = 1000
    max_k: int = 50
    min_confidence: float | None = None  # no answer below it; None: the value measured with the confidence model
    write_batch_chars: int = 204_800  # articles embedded and committed together (about 500 passages)
    vector_index: VectorIndexConfig = VectorIndexConfig()
    chunking: ChunkingConfig = ChunkingConfig()
    model_input: ModelInputConfig = ModelInputConfig()
    ranking: RankingConfig = RankingConfig()
    fetch: FetchConfig = FetchConfig()

    def __post_init__(self):
        if not 0 <= self.port <= 65535:
            raise BadInput("invalid_setting", f"port must be from 0 to 65535, got {self.port}")
        if self.threads < 1:
            raise BadInput("invalid_setting", f"threads must be 1 or more, got {self.threads}")
        if self.backend not in BACKENDS:
            raise BadInput("invalid_setting", f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.min_confidence is not None and not 0 <= self.min_confidence <= 1:
            raise BadInput("invalid_setting", f"min confidence must be from 0 to 1, got {self.min_confidence}")
        if self.corpus_name and not CORPUS_NAME.fullmatch(self.corpus_name):
            raise BadInput("invalid_setting", "corpus name must be 1-64 letters, digits, '.', '_' or '-', got "
                                              f"{self.corpus_name[:80]!r}")
        if self.engine not in ENGINES:
            raise BadInput("invalid_setting", f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")

    @classmethod
    def from_env(cls, base_dir: Path | None = None) -> "Settings":
        """Settings from ``QA_*`` environment variables; folders default to ``base_dir`` (or the
        current folder): ``corpus/`` and ``index/``."""
        base = Path(base_dir) if base_dir else Path.cwd()
        env = os.environ.get
        return cls(
            corpus_dir=Path(env("QA_CORPUS_DIR") or base / "corpus"),
            index_dir=Path(env("QA_INDEX_DIR") or base / "index"),
            corpus_name=env("QA_CORPUS_NAME") or "",
            model=env("QA_MODEL") or DEFAULT_MODEL,
            backend=_env_choice("QA_BACKEND", BACKENDS, "torch"),
            model_cache=Path(env("QA_MODEL_CACHE") or Path.home() / ".cache" / "qa" / "onnx"),
            engine=_env_choice("QA_ENGINE", ENGINES, "local"),
            milvus_uri=env("QA_MILVUS_URI") or None,
            milvus_token=env("QA_MILVUS_TOKEN") or None,
            milvus_prefix=env("QA_MILVUS_PREFIX") or "qa",
            host=env("QA_HOST") or "127.0.0.1",
            port=_env_number("QA_PORT", int, 8000),
            threads=_env_number("QA_THREADS", int, 8),
            api_token=env("QA_API_TOKEN") or None,
            max_upload_bytes=_env_number("QA_MAX_UPLOAD_BYTES", int, 5 * 1024 * 1024),
            min_confidence=_env_number("QA_MIN_CONFIDENCE", float),
            log_level=_env_choice("QA_LOG_LEVEL", LOG_LEVELS, "INFO", upper=True),
            log_format=_env_choice("QA_LOG_FORMAT", LOG_FORMATS, "text"),
            vector_index=VectorIndexConfig(kind=_env_choice("QA_ANN", ANN_KINDS, "auto")),
            fetch=FetchConfig(allow_private=env("QA_FETCH_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
                              allow=tuple(n.strip() for n in (env("QA_FETCH_ALLOW") or "").split(",") if n.strip()),
                              timeout_s=_env_number("QA_FETCH_TIMEOUT", float, 20.0),
                              max_bytes=_env_number("QA_MAX_UPLOAD_BYTES", int, 5 * 1024 * 1024)),
        )

    def with_(self, **changes) -> "Settings":
        """A copy with the given fields changed; ``None`` values are ignored. ``ann`` sets the
        vector index kind; ranking, chunking and model-input fields may be given by their names."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if "ann" in changes:
            changes["vector_index"] = replace(self.vector_index, kind=changes.pop("ann"))
        for group in ("ranking", "chunking", "model_input", "fetch"):
            current = getattr(self, group)
            mine = {f.name for f in fields(current)}
            picked = {k: changes.pop(k) for k in list(changes) if k in mine}
            if picked:
                changes[group] = replace(current, **picked)
        return replace(self, **changes)

    @property
    def milvus_uri_or_default(self) -> str:
        return self.milvus_uri or str(self.index_dir / "milvus.db")

    @property
    def db_path(self) -> Path:
        return self.index_dir / "qa.sqlite3"


def _env_number(name: str, kind: type, default=None):
    """``QA_...`` as an int or a float; ``default`` when unset or blank."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise BadInput("invalid_setting", f"{name} must be {what}, got {raw!r}") from None


def _env_choice(name: str, choices: tuple[str, ...], default: str, upper: bool = False) -> str:
    raw = os.environ.get(name) or default
    raw = raw.upper() if upper else raw
    if raw not in choices:
        raise BadInput("invalid_setting", f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw
