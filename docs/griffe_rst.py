"""A griffe extension of the documentation build: the reST of the docstrings as Markdown.

The docstrings are numpydoc, written for Sphinx: ``:func:`name``` roles, ``:math:`x```,
``.. math::`` blocks and ``.. versionchanged::``. mkdocstrings renders Markdown, so this
rewrites them when griffe loads each object (``mkdocs.yml``, ``extensions``): a role becomes
code, maths becomes the ``$...$`` / ``$$...$$`` of ``pymdownx.arithmatex``. The source files
are not changed.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|class|data|mod|meth|attr|obj|exc):`~?([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)\.\. (?P<name>math|versionchanged|versionadded)::[ \t]*(?P<arg>.*)$"
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def to_markdown(text: str) -> str:
    """Docstring text with its reST roles and directives in Markdown."""
    text = _MATH_ROLE.sub(r"$\1$", text)
    text = _ROLE.sub(r"`\1`", text)
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        base = _indent(lines[i])
        body = [m["arg"]] if m["arg"].strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > base):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        content = textwrap.dedent("\n".join(body)).strip("\n")
        pad = m["indent"]
        if m["name"] == "math":
            out += [
                f"{pad}$$",
                *(pad + c.strip() for c in content.splitlines() if c.strip()),
                f"{pad}$$",
                "",
            ]
        else:
            version, _, rest = content.partition("\n")
            word = "Changed" if m["name"] == "versionchanged" else "Added"
            out.append(f"{pad}*{word} in version {version.strip()}:* " + " ".join(rest.split()))
            out.append("")
    return "\n".join(out)


class RstToMarkdown(griffe.Extension):
    """Rewrite each docstring's reST roles and directives as Markdown."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: D102
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
