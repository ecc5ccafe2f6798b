"""Shared fixtures: the real public data in ../shared/data, and strict UDF error handling."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not found at {path} (the ../shared folder beside the repo is absent)")
    return path


@pytest.fixture(scope="session")
def shared():
    """shared("olist", "file.csv") -> path of a real data file (skips only if ../shared is absent)."""
    return shared_file


@pytest.fixture(scope="session")
def olist_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    leads = pd.read_csv(shared_file("olist", "olist_marketing_qualified_leads_dataset.csv"))
    deals = pd.read_csv(shared_file("olist", "olist_closed_deals_dataset.csv"))
    return leads, deals


@pytest.fixture(scope="session")
def facebook_frame() -> pd.DataFrame:
    return pd.read_csv(shared_file("facebook_ads", "KAG_conversion_data.csv"))
