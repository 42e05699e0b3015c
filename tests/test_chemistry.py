"""NOx to NO2 conversion and the NO2 attribution rule."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trajectoire import InputError
from trajectoire.chemistry import NO2_CONVERSIONS, fit_nox_no2, no2_attribution, nox_to_no2


@pytest.mark.parametrize("method", sorted(NO2_CONVERSIONS))
def test_conversion_is_monotonic_and_below_nox(method):
    x = np.linspace(0, 1000, 2001)
    y = nox_to_no2(x, method)
    assert y[0] == 0
    assert np.all(np.diff(y) > 0)
    assert np.all(y[1:] <= x[1:])


def test_romberg_closed_form_value():
    # A NOx/(NOx+B) + C NOx with (103, 130, 0.005) at 100 ug/m3
    assert nox_to_no2(100.0) == pytest.approx(103 * 100 / 230 + 0.5, rel=1e-15)


def test_bad_method_and_negative_input():
    with pytest.raises(InputError, match="unknown"):
        nox_to_no2(1.0, "nope")
    with pytest.raises(InputError, match=">= 0"):
        nox_to_no2(-1.0)


parts = arrays(float, (4, 5), elements=st.floats(0, 200))


@given(parts, st.floats(0, 60), st.floats(0, 40))
def test_no2_parts_add_up_exactly(p, bg_nox, bg_no2):
    total, no2 = no2_attribution(bg_nox, bg_no2, p, axis=0)
    np.testing.assert_allclose(no2.sum(axis=0) + bg_no2, total, rtol=1e-12, atol=1e-12)
    assert np.all(no2 >= -1e-12)
    expected = bg_no2 + nox_to_no2(bg_nox + p.sum(0)) - nox_to_no2(bg_nox)
    np.testing.assert_allclose(total, expected, rtol=1e-12, atol=1e-12)


def test_fit_recovers_coefficients():
    x = np.linspace(5, 300, 40)
    y = nox_to_no2(x, "baechlin2008")
    a, b, c = fit_nox_no2(x, y)
    np.testing.assert_allclose(nox_to_no2(x, (a, b, c)), y, rtol=1e-4)


def test_no_background_and_fft_round_off_do_not_crash():
    """Issue 13: with no background, local NOx of -1e-9 (FFT round-off) is 0, not an error."""
    import pytest

    from trajectoire.dispersion.chemistry import no2_attribution
    from trajectoire.errors import InputError

    local = np.array([[50.0, 1e-3], [-1e-9, 0.0]])
    total, parts = no2_attribution(0.0, 0.0, local[None], axis=0)
    assert total[1, 0] == 0.0 and np.all(np.isfinite(total))
    np.testing.assert_allclose(parts.sum(axis=0), total, atol=1e-12)
    with pytest.raises(InputError, match=">= 0"):
        no2_attribution(0.0, 0.0, np.array([[50.0, -1.0]])[None], axis=0)
