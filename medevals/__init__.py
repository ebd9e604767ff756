"""medevals: evaluate language models, multimodal models and agents on medical benchmarks."""

__version__ = "0.1.0"
