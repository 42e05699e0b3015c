"""Version of the trajectoire package (single source, read by hatchling)."""

__version__ = "0.1.0.dev0"

#: Revision of what a run computes for a given configuration and inputs. Bump it with every
#: change that alters an output value (physics, numerics, a default's value): it enters the
#: configuration's hash, so that ``--resume`` never reuses the parts of an earlier revision
#: while the version string above has not changed (a development version). 1: the stacks'
#: speed classes of 0.1 m s-1 (2026-12-04). 2: the emissions' Monte Carlo draws made year by
#: year from 1990, the same for a year whatever the years asked; the attributes
#: ``trajectory_methods`` (JSON) and ``map_years`` (only the map years held) (2026-12-04).
#: 3: each year's ``emission_method`` flags (parts without them are not assembled with
#: parts that have them). 4: each year's ``territory_emission`` (parts without it are not
#: assembled with parts that have it), the stacks' territory of origin the territory their
#: point lies in, and ``population_total``, ``territory_fraction`` never quantised
#: (2026-12-06).
OUTPUT_REVISION = 4
