"""The kernels folder imports only numpy, numba and math (HOUSE_STYLE R2)."""

import ast
from pathlib import Path

import trajectoire._kernels as kernels

ALLOWED = {"numpy", "numba", "math", "os", "__future__"}


def test_kernels_import_only_numeric_modules():
    folder = Path(kernels.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import inside _kernels
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"
