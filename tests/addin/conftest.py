"""Fixtures for the add-in's tests."""
import pytest


@pytest.fixture(autouse=True)
def _udf_bugs_raise(monkeypatch):
    """A real bug in a UDF must fail the test, not hide as '#ERROR!' text."""
    from addin.udfs import registry

    monkeypatch.setattr(registry, "RAISE_BUGS", True)
    registry.clear_cache()
