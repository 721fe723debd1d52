"""The role table in code is the one in docs/profile.md §2 (one for people, one for the ledger)."""

from __future__ import annotations

import re

from dosetrail.store.roles import ROLE_STEPS, STEP_SHAPES
from tests.conftest import ROOT


def _profile_table() -> tuple[dict[str, set[str]], dict[str, tuple[str, str]]]:
    text = (ROOT / "docs" / "profile.md").read_text()
    section = text.split("## 2. Parties and roles", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    header = next(line for line in section.splitlines() if line.startswith("| bizStep"))
    roles = [c.strip() for c in header.strip("|").split("|")[1:]]
    steps: dict[str, set[str]] = {role: set() for role in roles}
    shapes: dict[str, tuple[str, str]] = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        names = re.findall(r"`([a-z_]+)`", cells[0].split("(")[0])
        kind, action = re.search(r"\((\w+) (\w+)\)", cells[0]).groups()  # type: ignore[union-attr]
        for name in names:
            shapes[name] = (kind, action)
            for role, cell in zip(roles, cells[1:], strict=True):
                if cell.startswith("✓"):
                    steps[role].add(name)
    return steps, shapes


def test_role_table_matches_the_profile() -> None:
    steps, shapes = _profile_table()
    assert shapes == STEP_SHAPES
    for role, allowed in steps.items():
        assert allowed == set(ROLE_STEPS[role]), role
    assert not ROLE_STEPS["operator"]
    assert not ROLE_STEPS["witness"]
