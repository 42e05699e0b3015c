"""``benchmarks/bench_scaling.py``'s report: each round's speed-ups against one worker, the
verdict against issue 18's targets, and the median over ``--repeat`` rounds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_scaling.py"


@pytest.fixture(scope="module")
def bench():
    bench_dir = str(SCRIPT.parent)
    sys.path.insert(0, bench_dir)  # it imports bench_run beside it
    spec = importlib.util.spec_from_file_location("bench_scaling", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    yield mod
    sys.path.remove(bench_dir)


def _row(label, n, wall, tmp_path):
    phases = {"prepare": 4.0, "static": 0.1, "assemble": 3.9, "years": wall - 8.0}
    r = {"wall": wall, "cpu": wall, "rss": 2.0 * 2**30, "pss": 1.5 * 2**30}
    return (label, n, r, phases, 1.0, 1.2, tmp_path / f"w{n}.nc")


def test_round_speed_ups_and_verdict(bench, tmp_path, capsys):
    rows = [_row("1 worker", 1, 120.0, tmp_path), _row("2 workers", 2, 80.0, tmp_path)]
    speeds = bench._report(rows, None)
    assert speeds == {2: pytest.approx(1.5)}
    out = capsys.readouterr().out
    assert "serial fraction s = 6.7%" in out  # (4.0 + 0.1 + 3.9) / 120
    assert "2 workers: speed-up 1.50 (Amdahl bound 1.88); target >= 1.6: not met" in out


def test_no_one_worker_case_gives_no_speed_up(bench, tmp_path, capsys):
    assert bench._report([_row("2 workers", 2, 80.0, tmp_path)], None) == {}
    assert "speed-up" in capsys.readouterr().out  # the table's header, no verdict line


@pytest.mark.parametrize(
    ("found", "median", "verdict"),
    [
        ([1.58, 1.63, 1.61], "1.61", "met"),
        ([1.70, 1.52, 1.55], "1.55", "not met"),  # one good round does not decide
    ],
)
def test_summary_judges_the_median(bench, capsys, found, median, verdict):
    bench._summary({2: found})
    out = capsys.readouterr().out
    rounds = ", ".join(f"{v:.2f}" for v in found)
    assert f"2 workers over 3 rounds: {rounds}; median {median}; target >= 1.6: {verdict}" in out


def test_no_target_for_three_workers(bench):
    assert bench._verdict(3, 2.9) == ""
    assert bench._verdict(4, 2.9) == "; target >= 3.0: not met"


class _Info:
    def __init__(self, rss, pss=None):
        self.rss = rss
        if pss is not None:
            self.pss = pss


class _Proc:
    """A process whose memory grows by 1 MiB at each reading; counts the PSS readings."""

    def __init__(self, kids=()):
        self.kids = list(kids)
        self.reads = 0
        self.full_reads = 0
        self.listed = 0

    def children(self, recursive=False):
        self.listed += 1
        return self.kids

    def memory_info(self):
        self.reads += 1
        return _Info(self.reads * 2**20)

    def memory_full_info(self):
        self.reads += 1
        self.full_reads += 1
        return _Info(self.reads * 2**20, pss=self.reads * 2**19)


def test_tree_memory_reads_pss_and_lists_the_tree_rarely(bench):
    kid = _Proc()
    root = _Proc([kid])
    memory = bench._TreeMemory(root)
    times = [0.2 * k for k in range(51)]  # 10 s at the RSS pace
    for now in times:
        memory.sample(now)
    assert root.reads == kid.reads == len(times)  # RSS at every sample
    assert root.full_reads == kid.full_reads == 6  # PSS at 0, 2, 4, 6, 8 and 10 s
    assert root.listed == 11  # the tree at 0, 1, ..., 10 s
    assert memory.rss == 2 * len(times) * 2**20  # both processes, the last (largest) sample
    assert memory.pss == 2 * len(times) * 2**19  # the last PSS reading was at 10 s


def test_report_gives_the_benchmarks_own_sampling(bench, tmp_path, capsys):
    rows = [_row("1 worker", 1, 120.0, tmp_path), _row("2 workers", 2, 80.0, tmp_path)]
    rows[0][2]["sampling"], rows[1][2]["sampling"] = 0.8, 1.3
    bench._report(rows, None)
    out = capsys.readouterr().out
    assert "own sampling of the memory" in out
    assert "1 worker 0.8 s, 2 workers 1.3 s" in out
