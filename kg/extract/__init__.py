"""Extraction stage: papers → mentions of methods, tasks, datasets and metrics."""

from kg.extract.pipeline import EXTRACTOR_VERSION, Extraction, build_pipeline, extract

__all__ = ["EXTRACTOR_VERSION", "Extraction", "build_pipeline", "extract"]
