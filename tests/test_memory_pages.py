"""trajectoire._memory.small_pages: NumPy's transparent-huge-page advice off within a block
(prepare), restored after, the user's NUMPY_MADVISE_HUGEPAGE respected."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trajectoire import _memory
from trajectoire._memory import _hugepage_switch, small_pages
from trajectoire.batch import pipeline

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def _advice() -> bool:
    """NumPy's current huge-page advice, read without changing it."""
    switch = _hugepage_switch()
    before = bool(switch(True))
    switch(before)
    return before


def _vm_flags(a: np.ndarray) -> list[str] | None:
    """The kernel's VmFlags of the mapping holding `a`'s middle byte (/proc/self/smaps;
    NumPy advises from the first whole page on, which splits the mapping there)."""
    start = a.__array_interface__["data"][0] + a.nbytes // 2
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0] if line.split() else ""
        if "-" in head and ":" not in head:
            lo, hi = (int(v, 16) for v in head.split("-"))
            inside = lo <= start < hi
        elif inside and line.startswith("VmFlags:"):
            return line.split()[1:]
    return None


@pytest.fixture
def advice_on() -> Any:
    """NumPy's advice on for the test (its default on Linux), as it was after."""
    switch = _hugepage_switch()
    before = switch(True)
    yield
    switch(before)


@linux_only
def test_advice_is_off_inside_and_restored_after(
    advice_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    assert _advice() is True
    with small_pages() as done:
        assert done is True
        assert _advice() is False
        with small_pages():  # nested: the outer block's setting comes back
            assert _advice() is False
        assert _advice() is False
    assert _advice() is True


@linux_only
def test_advice_is_restored_after_an_error(
    advice_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    with pytest.raises(RuntimeError, match="boom"), small_pages():
        raise RuntimeError("boom")
    assert _advice() is True


@pytest.mark.parametrize("value", ["1", "0"])
def test_the_users_environment_variable_stands(
    advice_on: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", value)
    with small_pages() as done:
        assert done is False
        assert _advice() is True  # left as it was
    assert _advice() is True


def test_without_the_switch_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "_hugepage_switch", lambda: None)
    with small_pages() as done:
        assert done is False


@linux_only
def test_arrays_made_inside_carry_no_huge_page_advice(
    advice_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel's view: a mapping advised MADV_HUGEPAGE shows ``hg`` in its VmFlags."""
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    size = 64 * 2**20 // 8  # above glibc's largest mmap threshold: a mapping of its own
    outside = np.ones(size)
    flags = _vm_flags(outside)
    if flags is None or "hg" not in flags:
        pytest.skip("this kernel or NumPy gives no huge-page advice: nothing to turn off")
    with small_pages():
        inside = np.ones(size)
    flags_inside = _vm_flags(inside)
    assert flags_inside is not None
    assert "hg" not in flags_inside
    assert np.array_equal(inside, outside)


@linux_only
def test_prepare_runs_with_the_advice_off(advice_on: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    seen: list[bool] = []

    def fake(config: Any) -> str:
        seen.append(_advice())
        return "context"

    monkeypatch.setattr(pipeline, "_prepare", fake)
    assert pipeline.prepare(object()) == "context"  # type: ignore[arg-type]
    assert seen == [False]
    assert _advice() is True
