"""regflows installs five top-level import names; none may be shadowed by another distribution.

Why five (README, "Layout"): the design names the top-level folders, and Prefect's
``entrypoint: flows/<module>.py:<flow>`` in prefect.yaml is a path from the project root, where
workers run (a clone of the repository, not site-packages). The cost of generic names such as
``tasks`` is a possible clash with another installed distribution of the same name: this test
makes such a clash fail loudly instead of importing the wrong module.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMES = ["regflows", "flows", "tasks", "notices", "calendars"]


def test_the_wheel_ships_exactly_the_five_names() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == NAMES


def test_no_other_distribution_provides_one_of_them() -> None:
    owners = importlib.metadata.packages_distributions()
    clashes = {name: owners[name] for name in NAMES if set(owners.get(name, [])) - {"regflows"}}
    assert not clashes, f"其他已安装的发行包提供了同名顶层模块：{clashes}"


def test_each_name_resolves_to_this_repository() -> None:
    for name in NAMES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations is not None, name
        assert any(Path(p).resolve() == REPO / name for p in spec.submodule_search_locations), (name, list(spec.submodule_search_locations))
