"""``trajectoire._compile_notice``: one line when numba starts compiling, one at the end;
nothing when no kernel compiles (all loaded from the cache or already compiled)."""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from numba import njit

from trajectoire._compile_notice import compile_notice


def _kernels():
    @njit(cache=False)
    def inner(x):
        return x * 2.0

    @njit(cache=False)
    def outer(x):
        return inner(x) + 1.0

    @njit(cache=False)
    def other(x):
        return x - 1.0

    return outer, other


def test_lines_once_and_count_of_outermost(caplog):
    outer, other = _kernels()
    logger = logging.getLogger("trajectoire.test_compile_notice")
    with caplog.at_level(logging.INFO, logger=logger.name), compile_notice(logger) as seen:
        assert outer(np.float64(1.5)) == 4.0  # inner's compilation is inside outer's
        assert other(np.float64(1.5)) == 0.5
        outer(np.float64(3.0))  # compiled already: not counted
    assert seen.count == 2
    assert [k.rsplit(".", 1)[-1] for k in seen.kernels] == ["outer", "other"]
    assert seen.seconds > 0.0
    assert list(seen.cpu_of) == seen.kernels
    assert sum(seen.cpu_of.values()) == pytest.approx(seen.cpu)
    lines = [r.getMessage() for r in caplog.records if r.name == logger.name]
    assert len(lines) == 2
    assert lines[0].startswith("compiling the numerical kernels")
    assert lines[1].startswith("compiled 2 numerical kernel(s)")


def test_nothing_said_when_nothing_compiles(caplog):
    outer, _ = _kernels()
    outer(np.float64(1.0))  # compiled before the block
    logger = logging.getLogger("trajectoire.test_compile_notice")
    with caplog.at_level(logging.INFO, logger=logger.name), compile_notice(logger) as seen:
        outer(np.float64(2.0))
    assert seen.count == 0
    assert not [r for r in caplog.records if r.name == logger.name]


def test_compilations_in_other_threads_are_counted_each(caplog):
    kernels = [_kernels() for _ in range(3)]
    logger = logging.getLogger("trajectoire.test_compile_notice")
    with caplog.at_level(logging.INFO, logger=logger.name), compile_notice(logger) as seen:
        threads = [threading.Thread(target=lambda k=k: k[0](np.float64(1.0))) for k in kernels]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert seen.count == 3
    starts = [r for r in caplog.records if r.getMessage().startswith("compiling the")]
    assert len(starts) == 1


def test_nothing_counted_after_the_block(caplog):
    outer, other = _kernels()
    logger = logging.getLogger("trajectoire.test_compile_notice")
    with caplog.at_level(logging.INFO, logger=logger.name):
        with compile_notice(logger) as seen:
            outer(np.float64(1.0))
        other(np.float64(1.0))  # after the block: the listener is gone
    assert seen.count == 1
    assert len([r for r in caplog.records if r.name == logger.name]) == 2


def test_a_compilation_begun_before_the_block_is_left_out(monkeypatch):
    """A thread that was compiling when the block began ends inside it: not counted, and
    the listener does not fail (it never saw the start)."""
    from numba.core import event

    registered = []
    real = event.register

    def register(kind, listener):
        registered.append(listener)
        real(kind, listener)

    monkeypatch.setattr(event, "register", register)
    outer, _ = _kernels()
    with compile_notice(logging.getLogger("trajectoire.test_compile_notice")) as seen:
        (listener,) = registered
        listener.on_end(event.Event("numba:compile", event.EventStatus.END, data={}))
        assert outer(np.float64(1.0)) == 3.0
    assert seen.count == 1
    assert seen.kernels[0].endswith("outer")  # inner's compilation is still inside outer's


class _Sentinel(Exception):
    pass


def _watched(monkeypatch, module, inner_name):
    """Replace ``module.compile_notice`` by a recorder and ``module.<inner_name>`` by a
    function that notes whether it was called inside the notice, then stops the call."""
    import contextlib

    state = {"inside": False, "seen_inside": None}

    @contextlib.contextmanager
    def notice():
        state["inside"] = True
        try:
            yield None
        finally:
            state["inside"] = False

    def inner(*args, **kwargs):
        state["seen_inside"] = state["inside"]
        raise _Sentinel

    monkeypatch.setattr(module, "compile_notice", notice)
    monkeypatch.setattr(module, inner_name, inner)
    return state


def test_the_run_computes_inside_the_notice(monkeypatch, tmp_path):
    from trajectoire.batch import runner

    state = _watched(monkeypatch, runner, "_run_locked")
    # a stand-in configuration: what run() asks of it before the notice (the files it reads)
    monkeypatch.setattr(runner, "load_config", lambda path: SimpleNamespace(files_read=dict))
    monkeypatch.setattr(runner, "_check_environment", lambda: None)
    with pytest.raises(_Sentinel):
        runner.run(tmp_path / "config.toml", tmp_path / "out.nc")
    assert state["seen_inside"] is True


def test_a_recomputed_scenario_prepares_inside_the_notice(monkeypatch):
    from trajectoire import scenario as sc

    state = _watched(monkeypatch, sc, "prepare")
    monkeypatch.setattr(sc, "load_config", lambda path: object())
    with pytest.raises(_Sentinel):
        sc.recompute_scenario(
            "config.toml", sc.Scenario("road", [sc.Cut("F_RoadTransport", None, 0.3, 2020)])
        )
    assert state["seen_inside"] is True
