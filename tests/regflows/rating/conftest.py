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


#: Who confirms every item in the tests' confirmed evidence (one of the demo profile's people).
CONFIRMER = "sun.li"


@pytest.fixture
def confirmed_text(model: RatingModel, evidence_text: Callable[..., str]) -> Callable[..., str]:
    """Like ``evidence_text``, with every item confirmed under ``provenance`` (unless ``provenance`` is given)."""

    def build(items: Mapping[str, Mapping[str, Any]] | None = None, **top: Any) -> str:
        top.setdefault("provenance", {i.id: {"source": "自评工作组核对", "confirmed_by": CONFIRMER, "confirmed_at": "2026-01-12"}
                                      for i in model.items})
        return evidence_text(items, **top)

    return build


@pytest.fixture
def demo_with() -> Callable[..., Any]:
    """The demo profile with changes: ``demo_with(path, institution={...}, settings={...}, http=base, ack=base)``,
    written to ``path`` and loaded (people's channels at the HTTP stand-in when ``http`` is given)."""
    from regflows.profile import DEMO_PROFILE, load_profile

    def build(path: Any, *, institution: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
              http: str | None = None, ack: str | None = None) -> Any:
        data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
        data["institution"].update(institution or {})
        data.setdefault("settings", {}).update(settings or {})
        if http:
            for person in data["people"]:
                person["channels"] = [{"kind": "webhook", "url": f"json://{http}/ok/{person['id']}"}]
        if ack:
            data["public_base_url"] = ack
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return load_profile(path)

    return build
