"""Regenerate docs/img/*.png: the demo report's sheets as headless LibreOffice renders them.

    python scripts/render_docs.py            # needs soffice (libreoffice-calc-nogui) and pdftoppm (poppler-utils)

Builds the report of the bundled sample business (``addin/sample_data``) with ``write_report``,
converts it to PDF with LibreOffice and writes the first page of each report sheet as
``docs/img/<section>.png`` (e.g. ``docs/img/dashboard.png`` for the README).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from addin.cli.common import load_dataset  # noqa: E402
from addin.cli.kpi import sample_paths  # noqa: E402
from addin.report import build_plans  # noqa: E402
from addin.report.xlsx import write_report_file  # noqa: E402


def main(out_dir: Path = REPO / "docs" / "img", resolution: int = 80) -> list[Path]:
    paths = sample_paths()
    data = load_dataset(paths["spend"], paths["leads"], paths["deals"])
    plans = build_plans(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        book = write_report_file(plans, tmp / "demo_report.xlsx")
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if not soffice:
            raise SystemExit("soffice not found: apt-get install -y libreoffice-calc-nogui poppler-utils")
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", "pdf",
                        "--outdir", str(tmp), str(book)], check=True, capture_output=True, timeout=300)
        pdf = tmp / "demo_report.pdf"
        pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                               text=True).stdout.split("\f")
        titles = {plan.name: plan.key for plan in plans}
        seen = set()
        for number, text in enumerate(pages, start=1):
            first = next((line.strip() for line in text.splitlines() if line.strip()), "")
            key = titles.get(first)
            if key is None or key in seen:
                continue  # a continuation page of the previous sheet
            seen.add(key)
            stem = out_dir / key
            subprocess.run(["pdftoppm", "-png", "-r", str(resolution), "-f", str(number), "-l", str(number),
                            "-singlefile", str(pdf), str(stem)], check=True, timeout=120)
            written.append(stem.with_suffix(".png"))
    return written


if __name__ == "__main__":
    for path in main():
        print(path.relative_to(REPO))
