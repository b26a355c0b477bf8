"""The two seed pages (the HTTP contract), read as the tests need them.

The pages are stored verbatim in ``tests/integration/seeds/``. Each ``bash`` block that starts with
``curl`` is an example; the first ``json`` block after it is the response it documents. The
``export`` block sets ``DALP_API_URL`` and ``DALP_API_KEY``: tests change only the URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).parent / "seeds"
PAGES = ("durable_execution_engine_recovery.md", "restate_workflow_recovery.md")

_FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```", re.DOTALL | re.MULTILINE)
_URL_EXPORT = re.compile(r'^export DALP_API_URL=".*"$', re.MULTILINE)

#: Objects whose keys are data (invocation statuses), not field names.
MAP_FIELDS = frozenset({"byStatus"})
#: Fields the seed documents as "or null" (or "or omitted").
NULLABLE_FIELDS = frozenset({"latencyMs", "version", "serviceKey", "revision", "error"})


@dataclass(frozen=True)
class CurlExample:
    page: str
    curl: str
    response: Any

    @property
    def route(self) -> str:
        found = re.search(r"/restate/([a-z-]+)\"", self.curl)
        return found.group(1) if found else "?"


def page_text(page: str) -> str:
    return (SEEDS / page).read_text()


def blocks(page: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block, in page order."""
    return [(m["lang"], m["body"]) for m in _FENCE.finditer(page_text(page))]


def export_block(page: str, base_url: str) -> str:
    """The page's ``export`` block with only the base URL changed."""
    text = next(body for lang, body in blocks(page) if lang == "bash" and "export " in body)
    return _URL_EXPORT.sub(f'export DALP_API_URL="{base_url}"', text)


def curl_examples(page: str) -> list[CurlExample]:
    examples: list[CurlExample] = []
    pending: str | None = None
    for lang, body in blocks(page):
        if lang == "bash" and body.lstrip().startswith("curl"):
            pending = body
        elif lang == "json" and pending is not None:
            examples.append(CurlExample(page, pending, json.loads(body)))
            pending = None
    return examples


def json_example_with(page: str, text: str) -> Any:
    """The first JSON block of ``page`` that contains ``text``."""
    return next(json.loads(body) for lang, body in blocks(page) if lang == "json" and text in body)


def shape_problems(seed: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` does not have the seed's shape: same keys (extra keys allowed) and types.

    A seed list is a list of items shaped like its first item; a seed ``null`` allows anything.
    """
    name = path.rsplit(".", 1)[-1].split("[")[0]
    if seed is None or (actual is None and name in NULLABLE_FIELDS):
        return []
    if isinstance(seed, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        if name in MAP_FIELDS:
            sample = next(iter(seed.values()), None)
            return [p for k, v in actual.items() for p in shape_problems(sample, v, f"{path}.{k}")]
        problems = [f"{path}.{key}: missing" for key in seed if key not in actual]
        for key, value in seed.items():
            if key in actual:
                problems += shape_problems(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(seed, list):
        if not isinstance(actual, list):
            return [f"{path}: expected an array, got {actual!r}"]
        if not seed:
            return []
        return [p for i, v in enumerate(actual) for p in shape_problems(seed[0], v, f"{path}[{i}]")]
    if isinstance(seed, bool) or isinstance(actual, bool):
        same = isinstance(seed, bool) and isinstance(actual, bool)
    elif isinstance(seed, int | float):
        same = isinstance(actual, int | float)
    else:
        same = isinstance(actual, type(seed))
    return [] if same else [f"{path}: expected {type(seed).__name__}, got {actual!r}"]
