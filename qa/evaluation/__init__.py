"""Measuring answer quality in standard formats and metrics (JSONL question sets, BEIR, SQuAD)."""

from qa.evaluation.loaders import load_beir, load_questions, load_squad
from qa.evaluation.scoring import format_table, run, score_beir, score_questions

__all__ = ["format_table", "load_beir", "load_questions", "load_squad", "run", "score_beir", "score_questions"]
