"""The report of a territory: one self-contained HTML page for residents and elected officials.

``trajectoire report OUT.nc --territory MEL --lang fr --out rapport-MEL.html`` (or
:func:`write_report`) writes it; every number in it is traced to the NetCDF
(:mod:`trajectoire.report.numbers`). See ``docs/report.md``.
"""

from trajectoire.report.build import (
    REQUIRED_VARIABLES,
    build_report,
    chromium_command,
    find_chromium,
    html_to_pdf,
    report_context,
    write_report,
)
from trajectoire.report.numbers import Term, Tracer, evaluate, format_number

__all__ = [
    "REQUIRED_VARIABLES",
    "Term",
    "Tracer",
    "build_report",
    "chromium_command",
    "evaluate",
    "find_chromium",
    "format_number",
    "html_to_pdf",
    "report_context",
    "write_report",
]
