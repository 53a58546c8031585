"""Reading .drone.yml as Drone does: several YAML documents, each a resource (`kind: pipeline`,
`kind: secret`, …), keeping the line of every key so problems can point at it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from drone_kit.errors import DroneKitError


class Located(dict):
    """A mapping that remembers the line (1-based) where each key was written."""

    lines: dict[str, int]
    line: int


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    mapping = Located(loader.construct_mapping(node, deep=True))
    mapping.lines = {key_node.value: key_node.start_mark.line + 1 for key_node, _ in node.value
                     if isinstance(key_node, yaml.ScalarNode)}
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class Document:
    index: int
    line: int
    data: Located


def load_documents(text: str, source: str = ".drone.yml") -> list[Document]:
    """The YAML documents of a .drone.yml; DroneKitError with the line of a syntax error."""
    try:
        raw = list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        at = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        raise DroneKitError(f"{at}: YAML error: {e.problem}", hint="fix the YAML syntax there") from None
    documents = []
    for index, data in enumerate(raw):
        if data is None:
            continue
        if not isinstance(data, Located):
            raise DroneKitError(f"{source}: document {index + 1} is not a mapping (kind: pipeline, …)")
        documents.append(Document(index, data.line, data))
    return documents


def read_drone_yml(path: Path) -> list[Document]:
    try:
        text = path.read_text()
    except OSError as e:
        raise DroneKitError(f"cannot read {path}: {e.strerror}", hint="give the path of a .drone.yml") from e
    return load_documents(text, str(path))


def plain(value):
    """Pure: the same data with plain dicts instead of Located mappings."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
