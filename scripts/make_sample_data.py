"""Regenerate the bundled sample (addin/sample_data/*.csv) from the fixed-seed synthetic business.

    python scripts/make_sample_data.py

tests/test_sample_data.py checks the shipped files equal what this writes.
"""
from pathlib import Path

from calc.synthetic import generate

# A business where some links are broken: Search costs too much for its ROI, Feed brings many
# consultations that sales does not convert, Marketplace earns well above the 30 % target.
SAMPLE = dict(seed=2026, daily_spend=1_200.0, revenue_scale=0.42)
FOLDER = Path(__file__).resolve().parents[1] / "addin" / "sample_data"


def sample_tables():
    business = generate(**SAMPLE)
    return {"spend": business.spend, "leads": business.leads, "deals": business.deals}


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, frame in sample_tables().items():
        frame.to_csv(FOLDER / f"{name}.csv", index=False, date_format="%Y-%m-%d", float_format="%.2f")


if __name__ == "__main__":
    main()
