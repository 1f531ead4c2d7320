"""The spot-check sample of the quarter's unflagged queries, drawn so any auditor can redraw it
(issue 15, item 1; PBOC-102 三（三）: 不定期组织抽查).

The population is the quarter's query ids that no monthly rule flagged, deduplicated and sorted
by code point; its fingerprint is the SHA-256 of those ids joined by ``\\n`` (UTF-8, no trailing
newline). The draw is simple random sampling without replacement:
``numpy.random.Generator(numpy.random.PCG64(seed)).choice(N, size, replace=False)`` gives
positions in the sorted population, and the sample is those ids in draw order. The seed is
recorded; when none is given it is drawn with :mod:`secrets` (so nobody picks a seed that
spares a query), and the library's name and version are written down because numpy does
not promise that ``Generator`` methods draw the same stream in every version (NEP 19: only the
legacy ``RandomState`` is frozen).

The manifest states how the population was formed (the rule, Beijing days, the flagged count and
the SHA-256 of the flagged ids) so the manifest alone and the logs let an auditor recompute it.

The size rule is a profile setting (``inspection_sample_percent`` of the population, rounded
up, at least ``inspection_sample_min``, at most the whole population).

``sample-manifest.json`` holds nothing that changes between runs (no time, no path): the same
data and seed give the same bytes (keys sorted, two-space indent, UTF-8, a final newline).
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from regflows.inspection.models import InspectionInputError, Quarter
from regflows.settings import InspectionSettings

__all__ = [
    "ALGORITHM", "MANIFEST_NAME", "METHOD", "Sample", "draw", "manifest_bytes", "population", "population_sha256",
    "redraw", "sample_size",
]

MANIFEST_NAME = "sample-manifest.json"
ALGORITHM = "simple random sampling without replacement（简单随机抽样，不放回）"
METHOD = ("numpy.random.Generator(numpy.random.PCG64(seed)).choice(population_size, size=sample_size, replace=False)："
          "所得下标指向按码位升序排列的总体，样本按抽取顺序列出")
POPULATION_RULE = ("本季度（按北京时间自然日，不带时区的查询时间视为北京时间）查询日志中未被月度规则标记的查询："
                   "query_id 去重后按 Unicode 码位升序排列，以换行符（\\n）连接，UTF-8 编码后取 SHA-256（末尾无换行）；"
                   "被标记的查询数与其 query_id（同样排序、连接）的 SHA-256 另列，重新标记后可核对")
#: Seeds drawn at random stay below 2**53 so every JSON reader (JavaScript's numbers are doubles)
#: reads the manifest's seed exactly (review of issue 15, item 12); a given seed must too.
SEED_BITS = 53


def population(query_ids: Iterable[str], flagged: Iterable[str] = ()) -> list[str]:
    """The sorted, deduplicated query ids that are not flagged."""
    leads = set(flagged)
    return sorted({str(q) for q in query_ids} - leads)


def population_sha256(ids: Sequence[str]) -> str:
    """SHA-256 of the sorted ids joined by newlines (``ids`` must already be :func:`population`'s)."""
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()


def sample_size(n: int, settings: InspectionSettings) -> tuple[int, str]:
    """The sample size for a population of ``n`` and the rule that set it, in Chinese."""
    percent, minimum = settings.inspection_sample_percent, settings.inspection_sample_min
    by_percent = math.ceil(n * percent / 100)  # float percent: 2% of 1234 → 24.68 → 25
    size = min(n, max(minimum, by_percent))
    rule = (f"总体 {n} 笔 × {percent:g}% 向上取整为 {by_percent} 笔，不少于 {minimum} 笔，不超过总体："
            f"抽取 {size} 笔（比例与最少笔数为机构配置的抽查比例、最少抽查笔数）")
    return size, rule


@dataclass(frozen=True)
class Sample:
    quarter: str
    population_size: int
    population_sha256: str
    seed: int
    seed_drawn: bool  # True when no seed was given (drawn with secrets); not in the manifest
    size: int
    size_rule: str
    ids: tuple[str, ...]  # in draw order
    #: The flagged queries left out of the population: how many and the SHA-256 of their sorted
    #: ids (as :func:`population_sha256`), so an auditor who flags the logs again can check them.
    flagged_count: int | None = None
    flagged_sha256: str | None = None
    #: The days the query logs cover when they do not cover the whole quarter (Chinese), else None.
    coverage_note: str | None = None

    def manifest(self) -> dict[str, Any]:
        """``sample-manifest.json``'s content: everything needed to redraw, nothing run-specific."""
        return {
            "quarter": self.quarter,
            "population": {"rule": POPULATION_RULE, "size": self.population_size, "sha256": self.population_sha256,
                           "flagged": {"count": self.flagged_count, "sha256": self.flagged_sha256},
                           **({"logs_cover": self.coverage_note} if self.coverage_note else {})},
            "seed": self.seed,
            "algorithm": ALGORITHM,
            "method": METHOD,
            "library": {"name": "numpy", "version": np.__version__, "bit_generator": "PCG64"},
            "sample_size": self.size,
            "size_rule": self.size_rule,
            "sampled": list(self.ids),
        }


def _choose(n: int, size: int, seed: int) -> list[int]:
    if size == 0:
        return []
    rng = np.random.Generator(np.random.PCG64(seed))
    return [int(i) for i in rng.choice(n, size=size, replace=False)]


def draw(quarter: Quarter, ids: Sequence[str], settings: InspectionSettings | None = None, seed: int | None = None,
         *, flagged: Iterable[str] | None = None, coverage_note: str | None = None) -> Sample:
    """The quarter's sample from ``ids`` (:func:`population`'s sorted list); ``flagged``: the
    quarter's flagged query ids left out of it (their count and hash go into the manifest)."""
    if list(ids) != sorted(set(ids)):
        raise InspectionInputError("抽样总体须为去重并按升序排列的 query_id（见 population()）")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InspectionInputError(f"随机种子须为非负整数，实为 {seed!r}")
    if seed is not None and seed >= 2 ** SEED_BITS:
        raise InspectionInputError(f"随机种子须小于 2 的 {SEED_BITS} 次方（{2 ** SEED_BITS}），以便任何 JSON 读取程序精确读出，实为 {seed}")
    drawn = seed is None
    seed = secrets.randbits(SEED_BITS) if seed is None else seed
    size, rule = sample_size(len(ids), settings or InspectionSettings())
    picked = tuple(ids[i] for i in _choose(len(ids), size, seed))
    marked = sorted({str(q) for q in flagged}) if flagged is not None else None
    return Sample(quarter.label, len(ids), population_sha256(ids), seed, drawn, size, rule, picked,
                  len(marked) if marked is not None else None, population_sha256(marked) if marked is not None else None,
                  coverage_note)


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as the file holds it: the same content gives the same bytes."""
    text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2, separators=(",", ": "))
    return (text + "\n").encode("utf-8")


def redraw(manifest: Mapping[str, Any], ids: Sequence[str]) -> list[str]:
    """The sample redrawn from the manifest alone and the population's ids (sorted or not): what
    an auditor does. A population whose hash differs from the manifest's is refused."""
    pop = population(ids)
    recorded = manifest["population"]["sha256"]
    if population_sha256(pop) != recorded:
        raise InspectionInputError(
            f"总体与抽样清单不符：现有 {len(pop)} 笔，SHA-256 {population_sha256(pop)}；"
            f"清单记录 {manifest['population']['size']} 笔，SHA-256 {recorded}")
    return [pop[i] for i in _choose(len(pop), int(manifest["sample_size"]), int(manifest["seed"]))]
