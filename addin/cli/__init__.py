"""The ``cycle-roi`` command line. Each module registers its commands on the shared app."""
from .common import app
from . import kpi  # noqa: F401  (registers kpi, demo)
from . import workbook  # noqa: F401  (registers report, template, refresh, share, addin)
from . import cycle  # noqa: F401  (registers cohorts, backtest)
from . import analysis  # noqa: F401  (registers stability, diagnose, segments, budget, portfolio)
from . import lite  # noqa: F401  (registers lite)
from . import outcomes  # noqa: F401  (registers outcomes)


def main() -> None:
    import signal

    def stop(signum, frame):  # a polite stop (SIGTERM) unwinds like Ctrl+C, so no temp file is left behind
        raise SystemExit(128 + signum)

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, stop)
    app()
