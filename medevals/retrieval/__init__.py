"""Retrieval building blocks: corpora (BEIR layout), BM25 and dense indexes, rank fusion.

Used by the retrieval protocol (ranking metrics) and the RAG protocol (passages for MCQ).
Indexes are cached on disk by corpus hash; dense embeddings are requested through the
engine's model clients, so they are cached, journaled and costed like every other call.
"""
