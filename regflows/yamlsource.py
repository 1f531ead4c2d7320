"""YAML with line numbers, so that a bad setting is reported as ``file:line field``.

PyYAML's safe loader throws positions away; the composed node tree keeps them. We load the data
normally and keep the node tree beside it to find the line of any path pydantic complains about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class YamlSourceError(ValueError):
    """A YAML file that does not parse; the message names the file and line."""


@dataclass
class YamlSource:
    path: Path
    data: Any
    root: yaml.Node | None

    @classmethod
    def read(cls, path: Path) -> "YamlSource":
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise YamlSourceError(f"{path}: 文件不存在") from exc
        except UnicodeDecodeError as exc:
            raise YamlSourceError(f"{path}: 不是 UTF-8 文本（{exc}）") from exc
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text: str, path: Path) -> "YamlSource":
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f":{mark.line + 1}" if mark else ""
            raise YamlSourceError(f"{path}{line}: YAML 语法错误：{exc.problem or exc}") from exc
        except yaml.YAMLError as exc:
            raise YamlSourceError(f"{path}: YAML 语法错误：{exc}") from exc
        return cls(path, data, root)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The 1-based line of the deepest node along loc that exists in the file."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if str(key.value) == str(part):
                        child = value
                        line = key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def where(self, loc: Sequence[str | int]) -> str:
        line = self.line_of(loc)
        field = ".".join(str(p) for p in loc) or "(根)"
        return f"{self.path}:{line} {field}" if line else f"{self.path} {field}"
