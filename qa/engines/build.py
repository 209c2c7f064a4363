"""The build id check: an index holds one model's vectors, cut and read one way, and refuses others.

Mixing two models' vectors in one index would make every similarity
meaningless, so opening an index built otherwise is an error naming the
rebuild command; during a rebuild the stored build says so, so an
interrupted rebuild is reported at the next start.
"""

from __future__ import annotations

from pathlib import Path

from qa.engines.contracts import DocumentStore
from qa.errors import Conflict

REBUILDING = "rebuilding:"


def check_build(store: DocumentStore, build: str, allow_rebuild: bool, index_dir: Path, model: str) -> bool:
    """True when the stored vectors need a rebuild (allowed); ``Conflict`` when they do and it is not."""
    built_with = store.meta("build")
    if built_with is None or store.counts()[1] == 0:
        store.set_meta("build", build)
        return False
    if built_with == build:
        return False
    if allow_rebuild:
        return True
    if built_with.startswith(REBUILDING):
        detail = f"a rebuild for {built_with[len(REBUILDING):]!r} was interrupted"
    else:
        detail = f"it was built with {built_with!r}, not {build!r}"
    raise Conflict("model_mismatch",
                   f"cannot use the index in {index_dir}: {detail}. Use the same model (QA_MODEL or --model) "
                   f"and settings, or re-embed everything with `python run.py index --rebuild --model {model}`")
