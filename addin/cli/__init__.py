"""The ``cycle-roi`` command line. Each module registers its commands on the shared app."""
from .common import app
from . import kpi  # noqa: F401  (registers kpi, demo)
from . import workbook  # noqa: F401  (registers report, template, refresh, share, addin)
from . import cycle  # noqa: F401  (registers cohorts, backtest)
from . import analysis  # noqa: F401  (registers stability, diagnose, segments, budget, portfolio)
from . import lite  # noqa: F401  (registers lite)
from . import outcomes  # noqa: F401  (registers outcomes)


def help_texts(command):
    """(command, parameter or None, its help text) for every command of the tree and every option with help."""
    if command.help:
        yield command, None, command.help
    for param in command.params:
        if getattr(param, "help", None):
            yield command, param, param.help
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from help_texts(sub)


def localized_command(language: str):
    """The click command tree of the app with every help text in ``language``, from the message catalogue.

    The texts are written once in English beside their options (Typer's ``help=``); the catalogue holds the
    same English under ``cli.help.*`` and the translations, and a test fails if the two drift apart."""
    import typer

    from calc.messages import catalogue, text

    command = typer.main.get_command(app)
    by_english = {english: key for key, english in catalogue("en").items() if key.startswith("cli.help.")}
    for owner, param, english in list(help_texts(command)):
        key = by_english.get(english)
        if key is None:  # a help text the catalogue lacks stays English (the catalogue test names it)
            continue
        if param is None:
            owner.help = text(key, language)
        else:
            param.help = text(key, language)
    return command


def _help_language(args: list[str]) -> str:
    """The ``--language`` given anywhere on the command line (global or a command's own), else English."""
    from calc.messages import LANGUAGES

    for i, arg in enumerate(args):
        value = arg.split("=", 1)[1] if arg.startswith("--language=") else (
            args[i + 1] if arg == "--language" and i + 1 < len(args) else None)
        if value in LANGUAGES:
            return value
    return "en"


def main() -> None:
    import gc
    import signal
    import sys

    def stop(signum, frame):  # a polite stop (SIGTERM) unwinds like Ctrl+C, so no temp file is left behind
        raise SystemExit(128 + signum)

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, stop)
    # the objects of the modules imported so far live as long as the process: leaving them out of the cyclic
    # garbage collector's passes spares every full collection of the run from walking them again
    gc.freeze()
    # one command, then the process ends: most objects it makes are the modules' it imports (pandas, calc, typer:
    # ~100k), alive until the end. A young collection every 2,000 new objects instead of Python's 700 walks them
    # less often: a 1M report made 128 young and no full collection instead of 313 and 2 (0.06 s instead of 0.11-0.20)
    gc.set_threshold(2000, 10, 10)
    try:
        # --help speaks the run's language too: the help texts are set before click parses anything
        localized_command(_help_language(sys.argv[1:]))(prog_name="cycle-roi")
    finally:
        # the command is done and the process ends here: the collections Python runs while it shuts down would
        # walk every object left (0.2-0.3 s after a 1M report) only to free memory the OS takes back anyway
        gc.freeze()
