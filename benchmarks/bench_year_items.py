"""CPU of the smaller items of a 100 m year (#18), before and after, and whether they agree.

On arrays of the sample's 100 m grid (2222 x 1227 cells; random values, seeded), each item
is timed (``time.process_time``, best of ``--repeat`` after one warm-up) in the form it had
before and in the library's form now, and the results are compared bit for bit:

* the sum of the emission planes of a kernel class in float64 (``YearDispersion.total``):
  ``np.add.reduce`` over the list of planes (which stacked them first), then the in-place
  sum of the planes into one float64 plane;
* the same for primary NO2 (``primary_no2``): the f-weighted planes of every sector
  formed, then summed; then each weighted plane formed as it is added
  (``YearDispersion.total(..., weights)``);
* the deposition at source (``source_deposition_flux``): a float64 copy of the sector
  planes then their sum, then the library's sum in float64 without the copy;
* the exposure statistics of the territories (``territory_exposure``): the quantiles and
  the threshold counts, each sorting each territory's cells (``exposure_distribution`` then
  ``inhabitants_above``), then the library's single sort per territory;
* the origin layers of the cells (``origin_layers``): the stable ``argsort`` over the
  origins axis, then the library's counting;
* the planes of a class summed again (plain and f-weighted), numpy's in-place sum against
  the library's one pass (:func:`trajectoire._kernels.planes.planes_sum`, 2026-12-02);
* a plane whose basis fields are all +0 (``_sector_plane``): the product of the zero
  field by its weight, then the library's fill from one cell (``blank``);
* a pollutant's exposure statistics from its float32 map (``ExposureStatistics.add`` and
  ``ZoneExposure.add``, one year's split included): the whole map converted to float64
  (and, for the zones, ``nan_to_num``), then the inhabited cells only (2026-12-02);
* a pollutant's 13 contribution maps kept for the output of a map year
  (``YearMaps.set_contribution_plane``): numpy's blanking multiplication and bit tests, then
  the one pass of :func:`trajectoire._kernels.planes.masked_inside` (2026-12-02; its
  branch-free loops since 2026-12-03);
* a pollutant's 13 emission planes kept for the output (``YearMaps.finish_emission``):
  a scratch plane blanked by numpy's multiplication, the stacks added, the cells inside
  gathered, then :func:`~trajectoire._kernels.planes.masked_inside` with the stacks added
  among the cells kept (2026-12-03);
* 21 sorts of a territory's inhabited cells by concentration (the exposure statistics of
  a pollutant in a year): numpy's stable argsort, then
  :func:`trajectoire._kernels.sorting.stable_argsort` (2026-12-03);
* the spectra of 3 kernel classes multiplied by their kernels' spectra and summed, 10
  times (``YearDispersion.apply``, the inverse transform left out): a new product and a
  new sum per class, then the library's one scratch array (2026-12-03, evening).

Report the load average (printed) beside the figures.

Usage::

    python benchmarks/bench_year_items.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from scipy import sparse

from trajectoire._kernels.planes import planes_sum
from trajectoire.assess.exposure import (
    DEFAULT_QUANTILES,
    ExposureStatistics,
    ZoneExposure,
    exposure_distribution,
    inhabitants_above,
    territory_exposure,
)
from trajectoire.attribution import origin_layers
from trajectoire.dispersion.concentration import _T_PER_UG, source_deposition_flux
from trajectoire.trajectory.basis import _sector_plane, blank_fields

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kernel_sharing import cpu  # noqa: E402  (the same best-of CPU timer)

NY, NX = 1227, 2222


def same(a, b):
    """Whether two results hold the same bits."""
    if isinstance(a, tuple):
        return all(same(x, y) for x, y in zip(a, b, strict=True))
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def line(name, before, after, agree):
    print(f"{name:<36} before {before:6.3f} s  after {after:6.3f} s  ratio {before / after:5.2f}"
          f"  identical {agree}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    rng = np.random.default_rng(0)
    # a pollutant's sector planes as the run holds them: a strided view of (sector, pollutant)
    planes = np.zeros((13, 2, NY, NX), dtype=np.float32)
    for s in range(13):
        keep = rng.random((NY, NX)) < 0.4
        planes[s, 1] = np.where(keep, rng.random((NY, NX)) * 10.0 ** rng.integers(-6, 2), 0.0)
    e = planes[:, 1]
    sel = [0, 2, 5, 7, 9]

    def in_place():
        field = np.zeros(e.shape[1:])
        for i in sel:
            field += e[i]
        return field

    t0, r0 = cpu(lambda: np.add.reduce([e[i] for i in sel], dtype=np.float64), args.repeat)
    t1, r1 = cpu(in_place, args.repeat)
    line("planes of a class summed (5 of 13)", t0, t1, same(r0, r1))

    shares = np.linspace(0.0, 0.3, 13).astype(np.float32)  # primary NO2 shares

    def weighted_before():
        weighted = e * shares[:, None, None]  # the f-weighted planes, then their sum
        return np.add.reduce([weighted[i] for i in sel], dtype=np.float64)

    def weighted_after():
        field = np.zeros(e.shape[1:])
        for i in sel:
            field += e[i] * shares[i]
        return field

    t0, r0 = cpu(weighted_before, args.repeat)
    t1, r1 = cpu(weighted_after, args.repeat)
    line("f-weighted planes of a class summed", t0, t1, same(r0, r1))

    def one_pass(weights=None):
        field = np.empty(e.shape[1:])
        planes_sum(e, np.array(sel, dtype=np.int64), weights, field)
        return field

    t0, r0 = cpu(in_place, args.repeat)
    t1, r1 = cpu(one_pass, args.repeat)
    line("planes of a class, one pass", t0, t1, same(r0, r1))
    t0, r0 = cpu(weighted_after, args.repeat)
    t1, r1 = cpu(lambda: one_pass(shares), args.repeat)
    line("f-weighted planes, one pass", t0, t1, same(r0, r1))

    basis = np.zeros((1, 1, 2, NY, NX), dtype=np.float32)  # plane 1: a blank field
    basis[0, 0, 0] = e[0]
    weight = np.full((1, 2), 0.75, dtype=np.float32)
    blank = blank_fields(basis)
    out, term = np.empty((NY, NX), dtype=np.float32), np.empty((NY, NX), dtype=np.float32)
    t0, r0 = cpu(lambda: _sector_plane(basis, weight, 0, 1, out, term).copy(), args.repeat)
    t1, r1 = cpu(lambda: _sector_plane(basis, weight, 0, 1, out, term, blank).copy(), args.repeat)
    line("a blank plane formed", t0, t1, same(r0, r1))

    def flux_before():
        return np.asarray(e, dtype=np.float64).sum(axis=0) / (1e4 * _T_PER_UG)

    t0, r0 = cpu(flux_before, args.repeat)
    t1, r1 = cpu(lambda: source_deposition_flux(e, 1e4), args.repeat)
    line("deposition at source (13 sectors)", t0, t1, same(r0, r1))

    conc = rng.random(NY * NX) * 40.0
    n_t = 7
    owner = rng.integers(0, 3 * n_t, NY * NX)
    rows, cols = np.nonzero(owner[None, :] == np.arange(n_t)[:, None])
    people = sparse.csr_matrix((rng.random(rows.size) * 50.0, (rows, cols)), shape=(n_t, NY * NX))
    thresholds = np.array([10.0, 20.0, 25.0, 40.0])

    def exposure_before():
        q = np.empty((n_t, len(DEFAULT_QUANTILES)))
        n = np.empty((n_t, thresholds.size))
        for i in range(n_t):
            lo, hi = people.indptr[i], people.indptr[i + 1]
            cells, w = people.indices[lo:hi], people.data[lo:hi]
            q[i] = exposure_distribution(conc[cells], w)
            n[i] = inhabitants_above(conc[cells], w, thresholds)
        return q, n

    t0, r0 = cpu(exposure_before, args.repeat)
    t1, r1 = cpu(lambda: territory_exposure(conc.reshape(NY, NX), people, thresholds=thresholds),
                 args.repeat)  # fmt: skip
    line(f"exposure statistics ({n_t} territories)", t0, t1, same(r0, r1))

    raw = rng.random((8, NY, NX)) * (rng.random((8, NY, NX)) < 0.2)
    raw[7] += (raw.sum(axis=0) == 0) * 1.0  # "rest" where no territory is
    keep = np.argsort(-raw, axis=0)[:3]  # at most 3 origins a cell
    frac = np.zeros_like(raw)
    np.put_along_axis(frac, keep, np.take_along_axis(raw, keep, axis=0), axis=0)
    frac /= frac.sum(axis=0)

    def layers_before():
        present = frac > 0
        k = int(max(1, present.sum(axis=0).max()))
        order = np.argsort(~present, axis=0, kind="stable")[:k]
        f = np.take_along_axis(frac, order, axis=0)
        index = np.where(f > 0, order, -1).astype(np.int64)
        return index, np.where(index >= 0, f, 0.0)

    t0, r0 = cpu(layers_before, args.repeat)
    t1, r1 = cpu(lambda: origin_layers(frac), args.repeat)
    line("origin layers (8 origins)", t0, t1, same(r0, r1))
    # a pollutant's statistics from its float32 map (NaN beyond the written mask): the
    # territories' quantiles and counts (ExposureStatistics.add), then inside and outside
    # the zones (ZoneExposure.add); the whole map converted, then the inhabited cells only
    mask = np.zeros((NY, NX), dtype=bool)
    mask[NY // 5 : 4 * NY // 5, NX // 5 : 3 * NX // 5] = True
    inhabited = np.flatnonzero(mask.reshape(-1) & (rng.random(NY * NX) < 0.6))
    who = rng.integers(0, n_t, inhabited.size)
    own = sparse.csr_matrix(
        (rng.random(inhabited.size) * 50.0, (who, inhabited)), shape=(n_t, NY * NX)
    )
    cmap = np.where(mask, rng.random((NY, NX)) * 40.0, np.nan).astype(np.float32)
    zone_frac = rng.random((NY, NX)) * (rng.random((NY, NX)) < 0.3)
    pols = ["NO2", "PM10"]

    def statistics_before():
        stats = ExposureStatistics.zeros(own, pols)
        z = ZoneExposure.split(own, zone_frac, pols)
        out = []
        for _ in range(12):  # the year's pollutants
            field = np.asarray(cmap, dtype=float) + np.asarray(2.5, dtype=float)
            q, n = territory_exposure(field, stats.inhabitants, stats.quantiles,
                                      stats.threshold_values[:, 0])  # fmt: skip
            zf = np.nan_to_num(np.asarray(cmap, dtype=float).reshape(-1) + 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = (z.weights @ zf) / z.inhabitants.T.reshape(-1)
            _, zn = territory_exposure(zf.reshape(1, -1), z.weights, (),
                                       z.threshold_values[:, 0])  # fmt: skip
            out = [q, n, mean.reshape(2, n_t).T, zn.reshape(2, n_t, -1).transpose(1, 0, 2)]
        return tuple(np.ascontiguousarray(a) for a in out)

    def statistics_after():
        stats = ExposureStatistics.zeros(own, pols)
        z = ZoneExposure.split(own, zone_frac, pols)
        for _ in range(12):
            stats.add(0, cmap, 2.5)
            z.add(0, cmap)
        out = (stats.quantile[:, 0], stats.above[:, 0], z.mean[:, :, 0], z.above[:, :, 0])
        return tuple(np.ascontiguousarray(a) for a in out)

    t0, r0 = cpu(statistics_before, args.repeat)
    t1, r1 = cpu(statistics_after, args.repeat)
    line("12 pollutants' statistics, zones too", t0, t1, same(r0, r1))
    # a pollutant's 13 sector contribution maps of a map year kept for the output
    # (YearMaps.set_contribution_plane): numpy's blanking multiplication and bit tests
    # (the former path), then the one pass of masked_inside; 4 planes are +0 inside
    from trajectoire.io.outputs import YearMaps

    contrib = rng.random((13, NY, NX)) * 10.0 ** rng.integers(-4, 2, (13, 1, 1))
    contrib[[1, 4, 6, 11]] = 0.0

    def contribution_before():
        maps = YearMaps(13, 1, mask, with_contribution=True)
        for s, p in enumerate(contrib):
            masked = np.empty(mask.shape, dtype=np.float32)
            np.multiply(p, maps._keep, out=masked, casting="same_kind")
            maps._keep_plane(maps._contribution, (s, 0), masked)
        return tuple(maps._contribution.get((s, 0), np.zeros(0)) for s in range(13))

    def contribution_after():
        maps = YearMaps(13, 1, mask, with_contribution=True)
        for s, p in enumerate(contrib):
            maps.set_contribution_plane(0, s, p)
        return tuple(maps._contribution.get((s, 0), np.zeros(0)) for s in range(13))

    t0, r0 = cpu(contribution_before, args.repeat)
    t1, r1 = cpu(contribution_after, args.repeat)
    line("13 contribution planes kept", t0, t1, same(r0, r1))
    # a pollutant's 13 emission planes kept for the output (YearMaps.finish_emission), half
    # of them +0 (the sectors that do not emit it), 40 stacks inside the mask: the former
    # path (a scratch plane copied, blanked by numpy's multiplication, the stacks added,
    # the cells inside gathered and the NaN beyond compared bit for bit), then the library's
    # masked_inside with the stacks added at their place among the cells kept (2026-12-03)
    emission = (rng.random((13, NY, NX)) * 10.0 ** rng.integers(-4, 2, (13, 1, 1))).astype(
        np.float32
    )
    emission[[0, 2, 3, 5, 7, 9]] = 0.0
    in_rows, in_cols = np.nonzero(mask)
    pick = rng.choice(in_rows.size, 40, replace=False)
    s_rows, s_cols, s_sector = in_rows[pick], in_cols[pick], rng.integers(0, 13, 40)
    s_q = rng.random((1, 40)) * 5.0

    def emission_before():
        maps = YearMaps(13, 1, mask, with_contribution=False)
        maps._n_dispersed = 1
        scratch = np.empty(mask.shape, dtype=np.float32)
        for s, plane in enumerate(emission):
            at = s_sector == s
            q = s_q[0][at].astype(np.float32)
            if not plane.view(np.uint32).any() and (q == 0).all():
                continue
            np.copyto(scratch, plane)
            scratch *= maps._keep
            np.add.at(scratch, (s_rows[at], s_cols[at]), q)
            maps._hold(maps._written, (s, 0), scratch[...])
        return tuple(maps._written.get((s, 0), np.zeros(0)) for s in range(13))

    def emission_after():
        maps = YearMaps(13, 1, mask, with_contribution=False)
        maps.finish_emission(1, s_rows, s_cols, s_sector, s_q, [emission])
        return tuple(maps._written.get((s, 0), np.zeros(0)) for s in range(13))

    t0, r0 = cpu(emission_before, args.repeat)
    t1, r1 = cpu(emission_after, args.repeat)
    line("13 emission planes kept", t0, t1, same(r0, r1))
    # the sort of a territory's inhabited cells by concentration (the exposure statistics,
    # 21 a pollutant a year): numpy's stable argsort, then the library's radix argsort
    from trajectoire._kernels.sorting import stable_argsort

    cells = cmap.reshape(-1)[inhabited].astype(np.float64) + 2.5

    def sort_before():
        return np.argsort(cells, kind="stable")

    def sort_after():
        return stable_argsort(cells)

    t0, r0 = cpu(lambda: [sort_before() for _ in range(21)][-1], args.repeat)
    t1, r1 = cpu(lambda: [sort_after() for _ in range(21)][-1], args.repeat)
    line(f"21 sorts of {cells.size} cells", t0, t1, same(r0, r1))
    # the spectra of a pollutant's kernel classes multiplied by the kernels' and summed
    # (YearDispersion.apply, 10 calls a plain 100 m year): a new product and a new sum per
    # class, then the library's one scratch array (2026-12-03); the inverse transform,
    # the same in both, is left out
    from trajectoire.dispersion.concentration import DispersionSettings, YearDispersion
    from trajectoire.geo.grid import Grid

    settings = DispersionSettings()
    m = int(np.ceil(settings.radius / 100.0))
    classes = [(h, 0.0) for h in (0.0, 10.0, 25.0)]
    kernels = {c: rng.random((2 * m + 1, 2 * m + 1)) for c in classes}
    ydisp = YearDispersion(
        Grid(600000.0, 7000000.0, 100.0, 100.0, NX, NY, "EPSG:2154"), None, settings, classes,
        kernels=kernels,
    )  # fmt: skip
    ydisp.plan.inverse = lambda spectrum: spectrum  # the products and sums alone
    spectra = {
        c: ydisp.spectrum(e[i].astype(np.float64)) for c, i in zip(classes, sel[:3], strict=True)
    }

    def apply_before():
        total = None
        for c, spec in spectra.items():
            term = spec * ydisp._kspec[c]
            total = term if total is None else total + term
        return total

    t0, r0 = cpu(lambda: [apply_before() for _ in range(10)][-1], args.repeat)
    t1, r1 = cpu(lambda: [ydisp.apply(spectra) for _ in range(10)][-1], args.repeat)
    line("10 products of 3 classes' spectra", t0, t1, same(r0, r1))
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
