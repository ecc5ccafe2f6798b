"""Every requirement of the Lite code must exist in Pyodide: in its package set, or as a pure-Python wheel.

Checked against the lock file of every Pyodide the workbook may be opened with (``addin.lite.parts.PYODIDE_VERSIONS``:
the 0.27.5 the workbook names, as Lite 1.0.0.0-18 saved it, and the first and newest 314.0.x, which current Lite
requires), kept as test data: ``tests/data/pyodide-lock-<version>.json`` (names, versions, pure or compiled; its
source and date are in the file). A new compiled dependency that one of them lacks, or a floor above one of their
versions, fails here: requirements.txt has one text, so it must fit all of them.
"""
from __future__ import annotations

import ast
import json
import re
import sys
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from addin.lite.code import LITE_REQUIRED, bundled_modules, requirements_txt
from addin.lite.parts import PYODIDE_VERSION, PYODIDE_VERSIONS

DATA = Path(__file__).resolve().parents[1] / "data"


def lock(version: str) -> dict:
    data = json.loads((DATA / f"pyodide-lock-{version}.json").read_text(encoding="utf-8"))
    assert data["info"]["version"] == version and data["source"] and data["retrieved"]
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


def fit(requirement: Requirement, packages: dict, version: str = PYODIDE_VERSION) -> str | None:
    """None if Pyodide ``version`` can provide ``requirement``, else why not."""
    found = packages.get(canonicalize_name(requirement.name))
    if found is not None:
        if requirement.specifier and found["version"] not in requirement.specifier:
            return f"{requirement}: Pyodide {version} has {found['version']}"
        return None
    if is_pure_python(requirement.name):
        return None
    return f"{requirement}: not in Pyodide {version} and not a pure-Python wheel"


def test_the_locks_are_the_versions_they_say():
    assert PYODIDE_VERSIONS[0] == PYODIDE_VERSION and len(set(PYODIDE_VERSIONS)) == len(PYODIDE_VERSIONS)
    pythons = {v: json.loads((DATA / f"pyodide-lock-{v}.json").read_text(encoding="utf-8"))["info"]["python"]
               for v in PYODIDE_VERSIONS}
    assert pythons == {"0.27.5": "3.12.7", "314.0.0": "3.14.0", "314.0.7": "3.14.2"}


@pytest.mark.parametrize("version", PYODIDE_VERSIONS)
def test_every_requirement_of_the_lite_code_is_in_pyodide_or_pure_python(version):
    packages = lock(version)
    problems = [why for why in (fit(r, packages, version) for r in our_requirements()) if why]
    assert not problems, problems
    assert {r.name for r in our_requirements()} >= {"pandas", "numpy", "pydantic"}


def test_the_check_fails_for_a_compiled_package_pyodide_lacks_and_for_a_floor_too_high():
    packages = lock("0.27.5")
    assert fit(Requirement("python-calamine>=0.2"), packages)   # compiled (Rust), not in Pyodide 0.27.5
    assert fit(Requirement("pyarrow>=19"), packages)            # 0.27.5 has pyarrow 18.1.0
    assert fit(Requirement("typer>=0.12"), packages) is None    # not in Pyodide, but a pure-Python wheel
    assert fit(Requirement("pandas>=3"), packages)              # 0.27.5 has pandas 2.2.3
    assert fit(Requirement("pandas>=2.2"), packages) is None


def test_pyodide_314_is_python_3_14_with_pandas_3_and_the_check_sees_it():
    """What differs in the Pyodide current Lite requires: pandas 3, numpy 2.4, scipy 1.17/1.18 (the locks)."""
    for version, scipy in (("314.0.0", "1.17.1"), ("314.0.7", "1.18.0")):
        packages = lock(version)
        assert packages["pandas"]["version"] == "3.0.2" and packages["scipy"]["version"] == scipy
        assert fit(Requirement("pandas<3"), packages, version)           # a ceiling below 3 would break there
        assert fit(Requirement("pandas>=2.2"), packages, version) is None
        assert fit(Requirement("python-calamine>=0.9"), packages, version)  # 314 ships 0.6.2: below pyproject's floor
        assert "babel" not in packages and fit(Requirement("babel>=2.12"), packages, version) is None  # pure wheel


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


@pytest.mark.parametrize("version", PYODIDE_VERSIONS)
def test_calc_floors_in_pyproject_fit_pyodide(version):
    """calc's own floors (pyproject) must not rise above what any of these Pyodides ships."""
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    deps = re.search(r"dependencies = \[(.*?)\]", text, re.S).group(1)
    packages = lock(version)
    for spec in re.findall(r'"([^"]+)"', deps):
        requirement = Requirement(spec)
        if requirement.name in ("pandas", "numpy", "pydantic", "scipy"):
            assert fit(requirement, packages, version) is None, spec
