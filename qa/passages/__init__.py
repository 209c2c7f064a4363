"""Stage 2, passages: sentences, windows of them that fit the model, and what the model reads for
each (the title, the header card), named by a build id."""

from qa.passages.chunking import Passage, chunk
from qa.passages.model_input import ModelInput, Tokenizer, field_label
from qa.passages.sentences import Span, split_lines, split_sentences

__all__ = ["ModelInput", "Passage", "Span", "Tokenizer", "chunk", "field_label", "split_lines",
           "split_sentences"]
