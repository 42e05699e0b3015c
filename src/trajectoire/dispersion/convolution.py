"""Linear FFT convolution of emission fields with odd-sized kernels (zero padding).

:class:`ConvolutionPlan` holds the padded transform shape so that one kernel spectrum serves
every field of a run; :func:`fft_convolve` is its one-shot form.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.fft

from trajectoire.errors import InputError

__all__ = ["ConvolutionPlan", "fft_convolve", "fft_threads"]

#: Environment variable giving the threads of the run's FFTs (see :func:`fft_threads`).
FFT_THREADS_ENV = "TRAJECTOIRE_FFT_THREADS"


def fft_threads() -> int:
    """Threads for the run's FFTs: ``TRAJECTOIRE_FFT_THREADS`` when set, else -1 (every core).

    A local Dask cluster of N workers sets it to each worker's share of the cores
    (:func:`trajectoire.batch.runner.run`), so that N workers do not each start one FFT thread
    per core. The thread count does not change the results (each 1-D transform is done by
    one thread).

    Raises
    ------
    trajectoire.InputError
        The variable is set but is not a positive integer (or -1).
    """
    raw = os.environ.get(FFT_THREADS_ENV, "").strip()
    if not raw:
        return -1
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n == 0 or n < -1:
        raise InputError(
            f"environment variable {FFT_THREADS_ENV}={raw!r}: expected a positive number of "
            "threads (or -1: every core); unset it to use every core."
        )
    return n


_SCRATCH = threading.local()


def _padded(shape: tuple[int, int], fft_shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """This thread's padded array of `fft_shape` for fields of `shape` (zeros beyond them).

    Only the ``shape`` corner is ever written (:meth:`ConvolutionPlan.forward`), so the
    rest stays 0; one array per ``(shape, fft_shape, dtype)``, the last four kept (a run
    has one grid: 37 MB at 100 m on the sample)."""
    kept: dict[tuple[Any, ...], np.ndarray] = _SCRATCH.__dict__.setdefault("arrays", {})
    key = (shape, fft_shape, np.dtype(dtype).str)
    buf = kept.pop(key, None)
    if buf is None:
        buf = np.zeros(fft_shape, dtype=dtype)
    kept[key] = buf  # the newest last
    while len(kept) > 4:
        kept.pop(next(iter(kept)))
    return buf


class ConvolutionPlan:
    """Linear (zero-padded) FFT convolution of fields with odd-sized kernels, reusable.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the fields (leading dims are allowed at call time).
    kernel_shape : (int, int)
        ``(ky, kx)`` of the kernels, both odd; ``K[ky // 2, kx // 2]`` is the source cell.
    workers : int, default -1
        Threads used by :mod:`scipy.fft` (-1: :func:`fft_threads`, every core unless
        ``TRAJECTOIRE_FFT_THREADS`` says otherwise).
    dtype : float64 or float32, default float64
        Precision of the transforms. float32 halves memory and roughly halves the time; its
        round-off is about 1e-7 of the largest value of the result.

    Notes
    -----
    The fields and kernels are zero-padded to at least ``(ny + ky - 1, nx + kx - 1)``
    (rounded up to fast FFT sizes), so the circular convolution of the FFT equals the linear
    one: nothing wraps around the edges. Emissions outside the field are taken as zero. The
    result is cropped to the field ("same" alignment):
    ``out[i, j] = sum_{p, q} field[p, q] K[i - p + my, j - q + mx]``. Real FFTs.
    Because the transform is linear, a spectrum computed once with :meth:`forward` can be
    scaled and summed before a single :meth:`inverse`.

    Examples
    --------
    >>> plan = ConvolutionPlan((4, 5), (3, 3))
    >>> field = np.zeros((4, 5)); field[1, 1] = 2.0
    >>> kern = np.arange(9.0).reshape(3, 3)
    >>> out = plan.convolve(field, kern)
    >>> np.allclose(out[0:3, 0:3], 2 * kern)
    True
    """

    def __init__(
        self,
        shape: tuple[int, int],
        kernel_shape: tuple[int, int],
        *,
        workers: int = -1,
        dtype: npt.DTypeLike = np.float64,
    ) -> None:
        if len(shape) != 2 or min(shape) < 1:
            raise InputError(f"shape={shape!r}; expected (ny, nx) with positive sizes.")
        if len(kernel_shape) != 2 or any(k < 1 or k % 2 == 0 for k in kernel_shape):
            raise InputError(
                f"kernel_shape={kernel_shape!r}; expected odd sizes (2 m + 1) so that the "
                "source cell is the centre."
            )
        self.shape = (int(shape[0]), int(shape[1]))
        self.kernel_shape = (int(kernel_shape[0]), int(kernel_shape[1]))
        self.workers = fft_threads() if workers == -1 else workers
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise InputError(f"dtype={dtype!r}; expected float32 or float64.")
        self.fft_shape = (
            scipy.fft.next_fast_len(self.shape[0] + self.kernel_shape[0] - 1, real=True),
            scipy.fft.next_fast_len(self.shape[1] + self.kernel_shape[1] - 1, real=True),
        )

    def __repr__(self) -> str:
        return (
            f"ConvolutionPlan(shape={self.shape}, kernel_shape={self.kernel_shape}, "
            f"fft_shape={self.fft_shape})"
        )

    def _check(self, arr: np.ndarray, expected: tuple[int, int], what: str) -> np.ndarray:
        a = np.asarray(arr, dtype=self.dtype)
        if a.ndim < 2 or a.shape[-2:] != expected:
            raise InputError(
                f"{what}: shape {a.shape}; expected (..., {expected[0]}, {expected[1]})."
            )
        return a

    def forward(self, field: npt.ArrayLike) -> np.ndarray:
        """Spectrum of a zero-padded field of shape ``(..., ny, nx)`` (complex128).

        A single float32 or float64 field ``(ny, nx)`` is written (in the plan's dtype) into
        a padded array kept for the plan's shapes (one per thread, zero outside the field):
        the same transform of the same values, bit for bit, without a new padded grid of
        zeros and a copy per call (scipy's own padding) or a conversion copy first."""
        raw = np.asarray(field)
        if raw.shape == self.shape and raw.dtype in (np.float32, np.float64):
            buf = _padded(self.shape, self.fft_shape, self.dtype)
            np.copyto(buf[: self.shape[0], : self.shape[1]], raw, casting="same_kind")
            return scipy.fft.rfftn(buf, axes=(-2, -1), workers=self.workers)
        a = self._check(raw, self.shape, "field")
        return scipy.fft.rfftn(a, s=self.fft_shape, axes=(-2, -1), workers=self.workers)

    def kept_field(self) -> np.ndarray:
        """The ``(ny, nx)`` corner of this thread's kept padded array (a view, in the plan's
        dtype), to be filled in place and transformed by :meth:`forward_kept`: a field
        formed there is transformed without a copy (``YearDispersion.total`` sums the
        sectors' planes into it). Beyond the corner the array holds 0, which nothing
        writes; the view is valid until the next :meth:`forward` or :meth:`kept_field` of
        a plan of the same shapes on this thread."""
        buf = _padded(self.shape, self.fft_shape, self.dtype)
        return buf[: self.shape[0], : self.shape[1]]

    def forward_kept(self) -> np.ndarray:
        """Spectrum of the field in :meth:`kept_field` (complex): the same transform as
        :meth:`forward` of that field, bit for bit."""
        buf = _padded(self.shape, self.fft_shape, self.dtype)
        return scipy.fft.rfftn(buf, axes=(-2, -1), workers=self.workers)

    def kernel_spectrum(self, kernel: npt.ArrayLike) -> np.ndarray:
        """Spectrum of a zero-padded kernel of shape ``(..., ky, kx)`` (complex128)."""
        a = self._check(np.asarray(kernel), self.kernel_shape, "kernel")
        return scipy.fft.rfftn(a, s=self.fft_shape, axes=(-2, -1), workers=self.workers)

    def inverse(self, spectrum: npt.ArrayLike) -> np.ndarray:
        """Field ``(..., ny, nx)`` back from a product of spectra, "same" alignment."""
        full = scipy.fft.irfftn(
            np.asarray(spectrum), s=self.fft_shape, axes=(-2, -1), workers=self.workers
        )
        my, mx = self.kernel_shape[0] // 2, self.kernel_shape[1] // 2
        return np.ascontiguousarray(full[..., my : my + self.shape[0], mx : mx + self.shape[1]])

    def convolve(self, field: npt.ArrayLike, kernel: npt.ArrayLike) -> np.ndarray:
        """Convolve `field` ``(..., ny, nx)`` with `kernel` ``(..., ky, kx)``."""
        return self.inverse(self.forward(field) * self.kernel_spectrum(kernel))


def fft_convolve(field: npt.ArrayLike, kernel: npt.ArrayLike, *, workers: int = -1) -> np.ndarray:
    """Linear "same" convolution of `field` (..., ny, nx) with an odd `kernel` by FFT.

    A one-shot :class:`ConvolutionPlan`; see it for the alignment and the padding.

    Raises
    ------
    trajectoire.InputError
        `field` or `kernel` with fewer than 2 dims, an even kernel, or NaN or infinite
        values (the FFT would spread one over the whole output).
    """
    f = np.asarray(field, dtype=float)
    k = np.asarray(kernel, dtype=float)
    if f.ndim < 2 or k.ndim < 2:
        raise InputError(f"field {f.shape} and kernel {k.shape} must have at least 2 dims.")
    for name, a in (("field", f), ("kernel", k)):
        bad = ~np.isfinite(a)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(
                f"fft_convolve: {name} has {int(bad.sum())} NaN or infinite value(s) (first at "
                f"index {first}: {float(a[first])}); the FFT would spread them over the whole "
                "output. Fill them first, e.g. np.nan_to_num(field) for no emission."
            )
    plan = ConvolutionPlan((f.shape[-2], f.shape[-1]), (k.shape[-2], k.shape[-1]), workers=workers)
    return plan.convolve(f, k)
