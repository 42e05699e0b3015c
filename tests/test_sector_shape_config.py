"""``[dispersion] sector_shape``: the wind-sector shape of a run's kernels (issue 14)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from test_kernel_pruning import GRID, _met
from test_pipeline import small_config
from trajectoire.config import load_config
from trajectoire.dispersion import DispersionSettings, YearDispersion, annual_kernel
from trajectoire.errors import ConfigError


@pytest.mark.parametrize("shape", ["gauss", "hat", "flat"])
def test_year_kernels_take_the_configured_shape(shape: str) -> None:
    cfg = SimpleNamespace(radius=1000.0, sigma="briggs-urban", receptor_height=1.5,
                          release_height={}, sector_shape=shape)  # fmt: skip
    settings = DispersionSettings.from_config(cfg)
    assert settings.sector_shape == shape
    met = _met()
    got = YearDispersion(GRID, met, settings, [(10.0, 0.0)]).kernels[(10.0, 0.0)]
    want = annual_kernel(met, resolution=GRID.resolution, radius=1000.0, release_height=10.0,
                         sector_smoothing=shape)  # fmt: skip
    np.testing.assert_array_equal(got, want.values)
    other = annual_kernel(met, resolution=GRID.resolution, radius=1000.0, release_height=10.0,
                          sector_smoothing="flat" if shape != "flat" else "gauss")  # fmt: skip
    assert not np.array_equal(got, other.values)


def test_default_shape_is_gauss_and_a_wrong_one_is_named(tmp_path) -> None:
    assert DispersionSettings().sector_shape == "gauss"
    cfg = load_config(small_config(tmp_path))
    assert cfg.dispersion.sector_shape == "gauss"
    bad = small_config(
        tmp_path, **{r"^receptor_height = 1\.5": 'receptor_height = 1.5\nsector_shape = "wedge"'}
    )
    with pytest.raises(ConfigError, match=re.escape("[dispersion] sector_shape")):
        load_config(bad)
