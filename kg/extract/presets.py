"""Extractor presets as a registry: the names ``--model`` and ``model=`` accept.

kg's own presets are built into :func:`kg.extract.pipeline.build_pipeline` (``default``,
``accurate``, ``none``). A package adds one through the entry-point group ``kg.extractors``: a
:class:`Preset` whose ``pipeline`` is the folder of a trained spaCy pipeline (or a function that
returns it, called when the preset is used), e.g. ``chem = "kg_chem:preset"``. ``kg build
--model chem`` then runs it with kg's rules, as a folder given to ``--model`` would be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KGError
from kg.registry import Registry

__all__ = ["Preset", "EXTRACTORS", "resolve_model"]


@dataclass(frozen=True)
class Preset:
    """An extractor preset: what it is, and (for a plug-in) the spaCy pipeline folder it runs."""

    description: str
    pipeline: Path | str | Callable[[], Path | str] | None = None  # None: built into kg


#: the extractor presets, by name (entry-point group ``kg.extractors``)
EXTRACTORS: Registry[Preset] = Registry("extractor", "kg.extractors", check=lambda o: isinstance(o, Preset))
EXTRACTORS.register("default", Preset("the packaged CNN recogniser with the rules"))
EXTRACTORS.register("accurate", Preset("the transformer recogniser, checked by the CNN (pip install 'kg[accurate]')"))
EXTRACTORS.register("none", Preset("the rules alone"))


def resolve_model(model: str | Path | None) -> str | None:
    """``model`` as :func:`kg.extract.pipeline.build_pipeline` takes it: ``None`` for the rules
    alone, a built-in preset's name, or the folder of a spaCy pipeline (a plug-in preset's, or
    the folder given), checked before any work.

    >>> resolve_model("none"), resolve_model("default")
    (None, 'default')
    >>> resolve_model("no-such-thing")
    Traceback (most recent call last):
    ...
    kg.errors.KGError: --model no-such-thing: not a trained spaCy pipeline directory (no config.cfg and meta.json); use default, accurate, none or such a directory
    """
    if model is None or model == "none":
        return None
    name = str(model)
    if name in EXTRACTORS:
        pipeline = EXTRACTORS[name].pipeline
        if pipeline is None:
            return name
        name = str(pipeline() if callable(pipeline) else pipeline)
    path = Path(name)
    if not (path / "config.cfg").is_file() or not (path / "meta.json").is_file():
        raise KGError(
            f"--model {model}: not a trained spaCy pipeline directory (no config.cfg and meta.json); "
            f"use {', '.join(EXTRACTORS.names())} or such a directory"
        )
    return name
