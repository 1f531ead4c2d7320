"""Helpers of the rating tests: the shipped model, and evidence built from a few items' facts
(every other item written ``{}``), parsed the way ``regflows rating score`` reads a file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
import yaml

from regflows.rating.evidence import Evidence, parse_evidence
from regflows.rating.model import RatingModel, load_model
from regflows.rating.scoring import RatingResult, score
from regflows.settings import RatingSettings


@pytest.fixture
def model() -> RatingModel:
    return load_model()


@pytest.fixture
def evidence_text(model: RatingModel) -> Callable[..., str]:
    """YAML text of an evidence file: ``items`` overrides, every other item ``{}``; top-level keys as given."""

    def build(items: Mapping[str, Mapping[str, Any]] | None = None, **top: Any) -> str:
        data: dict[str, Any] = {"year": 2026, "items": {i.id: dict((items or {}).get(i.id, {})) for i in model.items},
                                "downgrade_conditions": [], "zero_conditions": []}
        data.update(top)
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

    return build


@pytest.fixture
def evidence(model: RatingModel, evidence_text: Callable[..., str]) -> Callable[..., Evidence]:
    def build(items: Mapping[str, Mapping[str, Any]] | None = None, **top: Any) -> Evidence:
        return parse_evidence(evidence_text(items, **top), "evidence.yaml", model)

    return build


@pytest.fixture
def scored(model: RatingModel, evidence: Callable[..., Evidence]) -> Callable[..., RatingResult]:
    """Score evidence built from ``items`` (and top-level keys) under ``settings`` (keyword ``settings``)."""

    def run(items: Mapping[str, Mapping[str, Any]] | None = None, settings: RatingSettings | None = None,
            **top: Any) -> RatingResult:
        return score(model, evidence(items, **top), settings or RatingSettings())

    return run
