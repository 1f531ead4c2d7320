"""The spot-check sample (issue 15, item 1): reproducible from the data and the seed, explained
in sample-manifest.json, redrawn by an auditor from the manifest alone."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from regflows.inspection.models import InspectionInputError, Quarter
from regflows.inspection.sample import draw, manifest_bytes, population, population_sha256, redraw, sample_size
from regflows.settings import InspectionSettings

Q = Quarter.parse("2025Q4")
IDS = [f"Q{i:06d}" for i in range(5000, 0, -1)]  # unsorted, as a log gives them
FLAGGED = ["Q000007", "Q004999"]


def test_the_population_is_the_sorted_unflagged_ids_and_its_hash_is_of_their_lines() -> None:
    pop = population([*IDS, "Q000010"], FLAGGED)  # a repeated id counts once
    assert len(pop) == 4998 and pop == sorted(pop) and "Q000007" not in pop
    assert population_sha256(pop) == hashlib.sha256("\n".join(pop).encode("utf-8")).hexdigest()
    assert population_sha256(["a", "b"]) == hashlib.sha256(b"a\nb").hexdigest()


def test_a_changed_population_changes_the_hash() -> None:
    pop = population(IDS, FLAGGED)
    assert population_sha256(pop) != population_sha256(population(IDS, FLAGGED[:1]))  # one lead fewer
    assert population_sha256(pop) != population_sha256(population([*IDS, "Q999999"], FLAGGED))


@pytest.mark.parametrize(("n", "size"), [(0, 0), (10, 10), (1000, 30), (1500, 30), (1501, 31), (4998, 100)])
def test_the_size_rule_percent_rounded_up_with_a_minimum_capped_at_the_population(n: int, size: int) -> None:
    got, rule = sample_size(n, InspectionSettings())  # 2%, at least 30
    assert got == size and f"抽取 {size} 笔" in rule and "抽查比例" in rule
    assert "inspection_" not in rule  # the report shows it: no setting names (review of issue 15, item 15)


def test_the_same_data_and_seed_give_the_same_sample_and_manifest_bytes() -> None:
    pop = population(IDS, FLAGGED)
    first, second = draw(Q, pop, seed=20251231), draw(Q, list(pop), seed=20251231)
    assert first.ids == second.ids and len(set(first.ids)) == first.size == 100
    assert manifest_bytes(first.manifest()) == manifest_bytes(second.manifest())
    assert draw(Q, pop, seed=20251232).ids != first.ids
    # by hand: the documented recipe on the sorted population
    expected = np.random.Generator(np.random.PCG64(20251231)).choice(len(pop), size=100, replace=False)
    assert list(first.ids) == [pop[i] for i in expected]


def test_the_manifest_records_what_a_redraw_needs() -> None:
    pop = population(IDS, FLAGGED)
    sample = draw(Q, pop, seed=7)
    data = manifest_bytes(sample.manifest())
    assert data.endswith(b"}\n") and data.decode("utf-8")  # UTF-8, one final newline
    manifest = json.loads(data)
    assert manifest["population"]["sha256"] == population_sha256(pop) and manifest["population"]["size"] == 4998
    assert manifest["seed"] == 7 and manifest["sample_size"] == 100 and manifest["sampled"] == list(sample.ids)
    assert manifest["library"] == {"name": "numpy", "version": np.__version__, "bit_generator": "PCG64"}
    assert "without replacement" in manifest["algorithm"] and "2%" in manifest["size_rule"]
    assert list(json.loads(data)) == sorted(manifest)  # keys sorted: the bytes do not depend on insertion order


def test_an_auditor_redraws_from_the_manifest_alone() -> None:
    sample = draw(Q, population(IDS, FLAGGED), seed=123456789)
    manifest = json.loads(manifest_bytes(sample.manifest()))
    unflagged_in_any_order = [i for i in IDS if i not in FLAGGED]
    assert redraw(manifest, unflagged_in_any_order) == manifest["sampled"]
    with pytest.raises(InspectionInputError, match="总体与抽样清单不符：现有 4999 笔"):
        redraw(manifest, [*unflagged_in_any_order, "Q000007"])


def test_without_a_seed_one_is_drawn_and_recorded() -> None:
    pop = population(IDS)
    a, b = draw(Q, pop), draw(Q, pop)
    assert a.seed_drawn and a.seed != b.seed  # 53 random bits: equal only by a 2^-53 chance
    # JSON-safe (review of issue 15, item 12): a double holds it exactly
    assert all(0 <= draw(Q, pop).seed < 2 ** 53 for _ in range(200))
    assert redraw(a.manifest(), pop) == list(a.ids)
    assert not draw(Q, pop, seed=a.seed).seed_drawn


def test_bad_input_is_refused_in_chinese() -> None:
    with pytest.raises(InspectionInputError, match="去重并按升序"):
        draw(Q, ["b", "a"], seed=1)
    with pytest.raises(InspectionInputError, match="非负整数"):
        draw(Q, ["a"], seed=-1)
    with pytest.raises(InspectionInputError, match="小于 2 的 53 次方"):
        draw(Q, ["a"], seed=2 ** 53)
    assert draw(Q, ["a"], seed=2 ** 53 - 1).seed == 2 ** 53 - 1
    assert draw(Q, [], seed=1).ids == ()


def test_the_manifest_states_how_the_population_was_formed() -> None:
    """Review of issue 15, item 12: Beijing days, and the flagged queries' count and hash, so an
    auditor who flags the logs again can check the population without the worklist."""
    pop = population(IDS, FLAGGED)
    sample = draw(Q, pop, seed=7, flagged=reversed(FLAGGED))
    manifest = json.loads(manifest_bytes(sample.manifest()))
    assert manifest["population"]["flagged"] == {"count": len(set(FLAGGED)),
                                                 "sha256": population_sha256(sorted(set(FLAGGED)))}
    assert "北京时间" in manifest["population"]["rule"] and "logs_cover" not in manifest["population"]
    assert manifest_bytes(draw(Q, pop, seed=7, flagged=FLAGGED).manifest()) == manifest_bytes(sample.manifest())
    partial = draw(Q, pop, seed=7, flagged=FLAGGED, coverage_note="查询日志只覆盖 2025-12-26 至 2025-12-31")
    assert json.loads(manifest_bytes(partial.manifest()))["population"]["logs_cover"] == "查询日志只覆盖 2025-12-26 至 2025-12-31"
