"""Mistakes in the arguments of the Python entry points of a run (``trajectoire.run``,
``load_config``), found by the probe of 2026-12-05: each is one line naming the argument."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trajectoire.batch.runner import _years_given, run
from trajectoire.errors import ConfigError
from trajectoire.io.config import load_config


@pytest.mark.parametrize(
    ("given", "expected"),
    [("2015", [2015]), ("1990:1992,2000", [1990, 1991, 1992, 2000]), (2015, [2015]),
     (np.int64(2015), [2015]), ([2015, 2016.0], [2015, 2016]), (range(2000, 2002), [2000, 2001]),
     (None, None)],
)  # fmt: skip
def test_years_of_a_run_from_python(given: object, expected: list[int] | None) -> None:
    """``years="2015"`` was read character by character (years 2, 0, 1, 5) and ``years=2015``
    ended on "'int' object is not iterable"."""
    assert _years_given(given) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("given", [["2015"], [2015.5], True, 3.0 + 1j, [None]])
def test_years_that_are_no_years_are_named(given: object) -> None:
    with pytest.raises(ConfigError, match=r"years=.*: expected years as integers"):
        _years_given(given)  # type: ignore[arg-type]


@pytest.mark.parametrize("given", [{"run": {"name": "x"}}, None, 3])
def test_load_config_of_no_path_is_one_line(given: object, tmp_path: Path) -> None:
    """A dict (the TOML read by hand) or None ended in pathlib's TypeError."""
    with pytest.raises(ConfigError, match="expected the path of a TOML configuration file"):
        load_config(given)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="load_config: got a"):
        run(given, tmp_path / "o.nc")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_a_calm_threshold_of_zero_is_said_with_its_key(tmp_path: Path) -> None:
    """``[meteo] calm_threshold = 0`` passed the configuration and failed inside the run,
    without the file or the key."""
    from test_pipeline import small_config

    path = small_config(tmp_path, **{r"^calm_threshold = [\d.]+": "calm_threshold = 0"})
    with pytest.raises(ConfigError, match=r"calm_threshold") as info:
        load_config(path)
    assert str(path) in str(info.value) and "[meteo]" in str(info.value)


def test_percentiles_given_as_fractions_are_said_at_load(tmp_path: Path) -> None:
    """``[trajectory.uncertainty] percentiles = [0.025, 0.5, 0.975]`` (numpy's fractions)
    gave percentiles near the median; now said when the configuration is read, not at the
    end of a run."""
    from test_pipeline import small_config

    path = small_config(tmp_path)
    text = path.read_text()
    if "[trajectory.uncertainty]" not in text:
        text += "\n[trajectory.uncertainty]\nrealizations = 10\n"
    text = text.replace(
        "[trajectory.uncertainty]\n",
        "[trajectory.uncertainty]\npercentiles = [0.025, 0.5, 0.975]\n",
        1,
    )
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"percentiles.*fractions.*give \(2.5, 50, 97.5\)"):
        load_config(path)
