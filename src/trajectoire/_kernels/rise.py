"""Briggs plume rise for a stack (final rise), as used in ISC3.

Equations (ISC3 User's Guide Vol. II, section 1.1.4, after Briggs 1969, 1971, 1972, 1975):

* buoyancy flux ``F_b = g v_s d_s^2 (T_s - T_a) / (4 T_s)`` [m4 s-3],
  momentum flux ``F_m = v_s^2 d_s^2 T_a / (4 T_s)`` [m4 s-2];
* stack-tip downwash ``h' = h_s + 2 d_s (v_s / u_s - 1.5)`` when ``v_s < 1.5 u_s``;
* unstable/neutral (A-D): buoyant rise ``21.425 F_b^(3/4) / u_s`` (``F_b < 55``) or
  ``38.71 F_b^(3/5) / u_s``; momentum rise ``3 d_s v_s / u_s``; the crossover temperature
  difference ``0.0297 T_s v_s^(1/3) / d_s^(2/3)`` (``F_b < 55``) or
  ``0.00575 T_s v_s^(2/3) / d_s^(1/3)`` chooses between them;
* stable (E, F), ``s = (g / T_a) dtheta/dz`` with dtheta/dz = 0.020 (E), 0.035 (F) K m-1:
  buoyant ``2.6 (F_b / (u_s s))^(1/3)``, not more than the calm-wind rise
  ``4 F_b^(1/4) s^(-3/8)`` (Briggs 1975); momentum
  ``1.5 (F_m / (u_s sqrt(s)))^(1/3)``, not more than the neutral momentum rise;
  crossover ``0.019582 T_s v_s sqrt(s)``.

SI units throughout: heights and diameters [m], speeds [m s-1], temperatures [K].
"""

import math

from numba import njit, prange

from ._config import CACHE

G = 9.80616  # ISC3's value of the acceleration of gravity [m s-2]
DTHETA_DZ_E = 0.020
DTHETA_DZ_F = 0.035


@njit(cache=CACHE)
def downwash_height(stack_height, diameter, exit_velocity, u_stack):
    """Stack height corrected for stack-tip downwash [m] (never below 0)."""
    if exit_velocity < 1.5 * u_stack:
        h = stack_height + 2.0 * diameter * (exit_velocity / u_stack - 1.5)
        return max(h, 0.0)
    return stack_height


@njit(cache=CACHE)
def final_rise(diameter, exit_velocity, exit_temperature, ambient_temperature, u_stack, cls):
    """Final plume rise [m] of Briggs for stability class `cls` (0..5 = A..F).

    Returns 0 for a stack with no exit velocity and no buoyancy. `u_stack` is the wind speed
    at the stack top [m s-1], > 0.
    """
    ts = exit_temperature
    ta = ambient_temperature
    vs = exit_velocity
    d = diameter
    if d <= 0.0 or vs <= 0.0:
        return 0.0
    dt = ts - ta
    fb = G * vs * d * d * max(dt, 0.0) / (4.0 * ts)
    fm = vs * vs * d * d * ta / (4.0 * ts)
    u = u_stack
    if cls <= 3:
        if fb < 55.0:
            dtc = 0.0297 * ts * vs ** (1.0 / 3.0) / d ** (2.0 / 3.0)
        else:
            dtc = 0.00575 * ts * vs ** (2.0 / 3.0) / d ** (1.0 / 3.0)
        if dt >= dtc and fb > 0.0:
            if fb < 55.0:
                return 21.425 * fb**0.75 / u
            return 38.71 * fb**0.6 / u
        return 3.0 * d * vs / u
    dthdz = DTHETA_DZ_E if cls == 4 else DTHETA_DZ_F
    s = G / ta * dthdz
    dtc = 0.019582 * ts * vs * math.sqrt(s)
    if dt >= dtc and fb > 0.0:
        windy = 2.6 * (fb / (u * s)) ** (1.0 / 3.0)
        calm = 4.0 * fb**0.25 * s ** (-0.375)
        return min(windy, calm)
    stable = 1.5 * (fm / (u * math.sqrt(s))) ** (1.0 / 3.0)
    return min(stable, 3.0 * d * vs / u)


@njit(cache=CACHE)
def effective_height(
    stack_height, diameter, exit_velocity, exit_temperature, ambient_temperature, u_stack, cls
):
    """Effective release height [m]: downwash-corrected stack height plus final rise."""
    h = downwash_height(stack_height, diameter, exit_velocity, u_stack)
    return h + final_rise(
        diameter, exit_velocity, exit_temperature, ambient_temperature, u_stack, cls
    )


@njit(parallel=True, cache=CACHE)
def effective_heights(
    stack_height, diameter, exit_velocity, exit_temperature, ambient_temperature, u_stack, cls, out
):
    """:func:`effective_height` [m] of 1-D arrays of one length, into `out`."""
    for i in prange(out.shape[0]):
        out[i] = effective_height(
            stack_height[i],
            diameter[i],
            exit_velocity[i],
            exit_temperature[i],
            ambient_temperature[i],
            u_stack[i],
            cls[i],
        )


@njit(parallel=True, cache=CACHE)
def stack_group_heights(hs, ds, vs, ts, ta, inv_u, cls, p, zref, fac_out, h_out):
    """Wind factor and effective height of every (stack, met group) of a long-term table.

    With ``r = max(h_s, z_ref) / z_ref``: ``fac_out[s, g] = r^-p_g`` (``1 / u_stack =
    fac / u_g``) and ``h_out[s, g]`` the :func:`effective_height` [m] of stack ``s`` in the
    wind ``u_stack = (1 / inv_u[g]) r^p_g`` [m s-1] of class ``cls[g]``, at air temperature
    `ta` [K]. Stacks: height `hs`, diameter `ds` [m], exit velocity `vs` [m s-1] and
    temperature `ts` [K].
    """
    for s in prange(hs.shape[0]):
        ratio = max(hs[s], zref) / zref
        for g in range(inv_u.shape[0]):
            fac_out[s, g] = ratio ** (-p[g])
            h_out[s, g] = effective_height(
                hs[s], ds[s], vs[s], ts[s], ta, (1.0 / inv_u[g]) * ratio ** p[g], cls[g]
            )
