"""Every requirement of the Lite code must exist in Pyodide: in its package set, or as a pure-Python wheel.

Checked against the lock file of the Pyodide that the Lite workbook asks for (``addin.lite.parts.PYODIDE_VERSION``),
kept as test data: ``tests/data/pyodide-lock-<version>.json`` (names, versions, pure or compiled; its source and
date are in the file). A new compiled dependency that Pyodide lacks, or a floor above Pyodide's version, fails here.
"""
from __future__ import annotations

import ast
import json
import re
import sys
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from addin.lite.code import LITE_REQUIRED, bundled_modules, requirements_txt
from addin.lite.parts import PYODIDE_VERSION

LOCK = Path(__file__).resolve().parents[1] / "data" / f"pyodide-lock-{PYODIDE_VERSION}.json"


def lock() -> dict:
    data = json.loads(LOCK.read_text(encoding="utf-8"))
    assert data["info"]["version"] == PYODIDE_VERSION and data["source"] and data["retrieved"]
    return {canonicalize_name(k): v for k, v in data["packages"].items()}


def our_requirements() -> list[Requirement]:
    lines = [line for line in requirements_txt().splitlines() if line.strip() and line not in LITE_REQUIRED]
    return [Requirement(line.split("#")[0].strip()) for line in lines]


def is_pure_python(name: str) -> bool:
    """The installed wheel says Root-Is-Purelib and is tagged py3-none-any (installable by micropip)."""
    try:
        wheel = distribution(name).read_text("WHEEL") or ""
    except PackageNotFoundError:
        return False
    return "Root-Is-Purelib: true" in wheel and bool(re.search(r"Tag: py3-none-any", wheel))


def fit(requirement: Requirement, packages: dict) -> str | None:
    """None if Pyodide can provide ``requirement``, else why not."""
    found = packages.get(canonicalize_name(requirement.name))
    if found is not None:
        if requirement.specifier and found["version"] not in requirement.specifier:
            return f"{requirement}: Pyodide {PYODIDE_VERSION} has {found['version']}"
        return None
    if is_pure_python(requirement.name):
        return None
    return f"{requirement}: not in Pyodide {PYODIDE_VERSION} and not a pure-Python wheel"


def test_every_requirement_of_the_lite_code_is_in_pyodide_or_pure_python():
    packages = lock()
    problems = [why for why in (fit(r, packages) for r in our_requirements()) if why]
    assert not problems, problems
    assert {r.name for r in our_requirements()} >= {"pandas", "numpy", "pydantic"}


def test_the_check_fails_for_a_compiled_package_pyodide_lacks_and_for_a_floor_too_high():
    packages = lock()
    assert fit(Requirement("python-calamine>=0.2"), packages)   # compiled (Rust), not in Pyodide 0.27.5
    assert fit(Requirement("pyarrow>=19"), packages)            # 0.27.5 has pyarrow 18.1.0
    assert fit(Requirement("typer>=0.12"), packages) is None    # not in Pyodide, but a pure-Python wheel
    assert fit(Requirement("pandas>=3"), packages)              # 0.27.5 has pandas 2.2.3
    assert fit(Requirement("pandas>=2.2"), packages) is None


def test_every_third_party_import_of_the_bundle_is_a_requirement():
    """What main.py carries imports nothing that requirements.txt (or Lite itself) does not provide."""
    provided = {canonicalize_name(r.name) for r in our_requirements()} | {"xlwings"}
    dists = packages_distributions()
    from addin.lite.code import _load_time_nodes

    for name, path in bundled_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in (ast.walk(tree) if name.startswith("calc") else _load_time_nodes(tree)):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                       [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else [])
            for module in modules:
                top = module.split(".")[0]
                if top in ("calc", "addin", "__future__") or top in sys.stdlib_module_names:
                    continue
                dist = canonicalize_name(dists.get(top, [top])[0])
                assert dist in provided, f"{name} imports {module}, which the Lite requirements do not provide"


def test_calc_floors_in_pyproject_fit_pyodide():
    """calc's own floors (pyproject) must not rise above what Pyodide ships."""
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    deps = re.search(r"dependencies = \[(.*?)\]", text, re.S).group(1)
    packages = lock()
    for spec in re.findall(r'"([^"]+)"', deps):
        requirement = Requirement(spec)
        if requirement.name in ("pandas", "numpy", "pydantic", "scipy"):
            assert fit(requirement, packages) is None, spec
