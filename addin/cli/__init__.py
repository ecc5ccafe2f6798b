"""The ``cycle-roi`` command line. Each module registers its commands on the shared app."""
from .common import app
from . import kpi  # noqa: F401  (registers kpi, demo)


def main() -> None:
    app()
