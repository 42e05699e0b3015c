"""The UTC time of ``history`` lines: now, or fixed by ``SOURCE_DATE_EPOCH``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import xarray as xr

from trajectoire.cf import add_history, utc_stamp
from trajectoire.io.netcdf import write_netcdf


def test_source_date_epoch_fixes_the_stamp(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    assert utc_stamp() == "2025-01-01T00:00:00Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", " 86399 ")
    assert utc_stamp() == "1970-01-01T23:59:59Z"


@pytest.mark.parametrize("unset", [None, "", "  "])
def test_without_it_the_stamp_is_now(monkeypatch, unset):
    if unset is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", unset)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = dt.datetime.strptime(utc_stamp(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    after = dt.datetime.now(dt.UTC)
    assert before <= stamp <= after


@pytest.mark.parametrize("bad", ["yesterday", "-5", "1.5e9", "99999999999999999999"])
def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch, bad):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
    with pytest.raises(ValueError) as info:
        utc_stamp()
    msg = str(info.value)
    assert "\n" not in msg and f"SOURCE_DATE_EPOCH={bad!r}" in msg and "unset it" in msg


def test_history_lines_and_files_use_the_stamp(monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    da = add_history(xr.DataArray(np.zeros(2), dims="x"), "f(1)")
    assert da.attrs["history"].startswith("2025-01-01T00:00:00Z: trajectoire ")
    assert da.attrs["history"].endswith(": f(1)")
    path = write_netcdf(xr.Dataset({"v": ("x", np.ones(2))}), tmp_path / "a.nc")
    with xr.open_dataset(path) as ds:
        assert ds.attrs["history"].startswith("2025-01-01T00:00:00Z: trajectoire ")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689601")
    again = write_netcdf(xr.Dataset({"v": ("x", np.ones(2))}), tmp_path / "b.nc")
    with xr.open_dataset(again) as ds:
        assert ds.attrs["history"].startswith("2025-01-01T00:00:01Z")
