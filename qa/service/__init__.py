"""The front door: :class:`QAService` (ask, add, remove, articles, stats), with the write path and
the corpus folder behind it."""

from qa.service.corpus import SyncReport
from qa.service.inputs import check_k, check_question
from qa.service.service import QAService
from qa.service.writer import WriteResult, passage_bar

__all__ = ["QAService", "SyncReport", "WriteResult", "check_k", "check_question", "passage_bar"]
