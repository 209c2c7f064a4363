"""Stages 4 and 5, search: candidates from the engine, fusion, re-ranking, and the answer
sentence of each ranked passage."""

from qa.search.answers import Hit
from qa.search.ranking import Searcher

__all__ = ["Hit", "Searcher"]
