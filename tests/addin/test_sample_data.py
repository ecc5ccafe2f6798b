"""The bundled sample is exactly what the fixed-seed generator writes (so it can be rebuilt and trusted)."""
import importlib.util

import pandas as pd

import calc
from addin.cli.kpi import sample_paths
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_shipped_sample_matches_generator(tmp_path):
    spec = importlib.util.spec_from_file_location("make_sample_data", REPO / "scripts" / "make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, frame in module.sample_tables().items():
        fresh = tmp_path / f"{name}.csv"
        frame.to_csv(fresh, index=False, date_format="%Y-%m-%d", float_format="%.2f")
        assert fresh.read_bytes() == open(sample_paths()[name], "rb").read(), name


def test_sample_has_every_segment_dimension_and_clean_data():
    paths = sample_paths()
    data = calc.prepare(*(pd.read_csv(paths[n]) for n in ("spend", "leads", "deals")))
    assert set(data.lead_dims) == {"channel", "campaign", "province", "industry", "market_segment", "category",
                                   "store", "price_tier"}
    assert not data.exclusions and data.has_gross_profit
