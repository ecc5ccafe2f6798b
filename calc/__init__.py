"""Cycle ROI calculations: pure functions on pandas DataFrames, no I/O, no Excel.

Start with :func:`prepare` (validates Spend, Leads and Deals once), then ask questions of the
:class:`Dataset` it returns.
"""
from .dataset import Dataset, prepare
from .errors import Exclusion, InputError
from .indicators import KPI_COLUMNS, consult_cost, consult_volume, inquiry_conversion, kpi_table
from .settings import Settings

__all__ = ["Dataset", "Exclusion", "InputError", "KPI_COLUMNS", "Settings", "consult_cost", "consult_volume",
           "inquiry_conversion", "kpi_table", "prepare"]
