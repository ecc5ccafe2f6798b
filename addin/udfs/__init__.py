"""All Excel functions of Cycle ROI. xlwings' "UDF Modules" setting names this package.

Importing it registers every function in :data:`addin.udfs.registry.UDFS`.
"""
from .registry import UDFS  # noqa: F401
from .kpi import *  # noqa: F401,F403
from .cycle import *  # noqa: F401,F403
from .analysis import *  # noqa: F401,F403
from .outcomes import *  # noqa: F401,F403
