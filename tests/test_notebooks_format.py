"""The notebooks as committed: nbformat 4.5 cells each with its own id (nbformat warns of a
cell without one, and says it will become an error), and no outputs (CI runs them top to
bottom, `.ci/run`; outputs would go stale in the repository)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_cells_have_their_own_ids_and_no_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5)
    ids = [cell.get("id") for cell in nb["cells"]]
    missing = [i for i, cell_id in enumerate(ids) if not cell_id]
    assert not missing, (
        f"{path.name}: cells {missing} have no id (nbformat's normalize() adds them)"
    )
    assert len(set(ids)) == len(ids), f"{path.name}: cell ids repeated"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        f"{path.name}: committed with outputs (clear them before committing)"
    )


def test_the_notebooks_are_found() -> None:
    assert len(NOTEBOOKS) >= 7
