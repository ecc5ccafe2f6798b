"""The Cycle ROI ribbon: button registry, generated customUI/VBA, and the xlwings entry ``main``.

Each button's VBA callback (``CycleROI.bas``) runs ``addin.ribbon.main('<button id>')``; ``main``
takes the calling workbook through the xlwings port and dispatches to ``actions.py``. Errors
become a message box, never a traceback; the status bar shows progress on long refreshes.
"""
from __future__ import annotations

from typing import Any, Callable

from calc.messages import LANGUAGES, Message, render, render_all, text

from .registry import BUTTONS, BY_ID


def dispatch(action_id: str, port: Any, *, ask_path: Callable[[str], str | None],
             book_path: str | None = None, confirm: Callable[[str], bool] | None = None,
             language: str | None = None) -> str:
    """Run one registered action on ``port``; ``ask_path(title)`` asks the user for a file and
    ``confirm(question)`` for a Yes before anything of theirs is replaced (without it: No). The answer,
    the titles and the questions are in ``language``, by default the workbook's language setting."""
    from addin.workbook.refresh import book_language

    if action_id not in BY_ID:
        raise KeyError(f"no ribbon action '{action_id}'")
    language = language or book_language(port) or "en"
    return "\n".join(render_all(_as_list(_run(action_id, port, ask_path, book_path, confirm, language)), language))


def _as_list(answer: Any) -> list:
    return list(answer) if isinstance(answer, (list, tuple)) else [answer]


def _run(action_id: str, port: Any, ask_path: Callable[[str], str | None], book_path: str | None,
         confirm: Callable[[str], bool] | None, language: str) -> Any:
    from . import actions

    if action_id == "refresh_reports":
        return actions.refresh_reports(port)
    if action_id == "validate_data":
        return actions.validate_data(port)
    if action_id.startswith("import_"):
        table = action_id.removeprefix("import_").capitalize()
        path = ask_path(text("ribbon.choose_export", language, table=table))
        if not path:
            return Message("ribbon.import_cancelled")
        return actions.import_table(port, table, path, confirm=confirm, language=language)
    if action_id == "share_with_finance":
        if not book_path:
            return Message("ribbon.save_first")
        target = ask_path(text("ribbon.save_as", language))
        if not target:
            return Message("ribbon.share_cancelled")
        return actions.share_with_finance(book_path, target, confirm=confirm, language=language)
    if action_id == "settings_help":
        return actions.settings_help(port)
    raise KeyError(action_id)  # a registered button without a branch here is a bug (tests call every id)


def could_not_finish(action_id: str, exc: BaseException, language: str = "en") -> str:
    """The message box of a click that failed: the button and the error, in the workbook's language
    (errors carrying a catalogue Message are translated; others keep their own words)."""
    detail = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], Message) else exc
    action = text(f"ribbon.button.{action_id}", language) if action_id in BY_ID else action_id
    return text("ribbon.could_not_finish", language, action=action, error=render(detail, language))


ACTIONS = tuple(b.id for b in BUTTONS)
SAVE_FILTER = "Excel Workbook (*.xlsx), *.xlsx"
OPEN_FILTER = "Exports (*.csv;*.xlsx;*.parquet), *.csv;*.xlsx;*.parquet"


def ask_path_in_excel(excel: Any, title: str) -> str | None:
    """Excel's own file dialog through COM (``excel`` is the Application); None if cancelled.

    pywin32 passes keyword arguments by Excel's type-library names (``InitialFilename``, ``FileFilter``,
    ``Title``); other spellings raise TypeError. A cancelled dialog returns False, not a path.
    """
    if title in {text("ribbon.save_as", language) for language in LANGUAGES}:  # the finance copy: a file to write
        chosen = excel.GetSaveAsFilename(FileFilter=SAVE_FILTER, Title=title)
    else:
        chosen = excel.GetOpenFilename(FileFilter=OPEN_FILTER, Title=title)
    return chosen if isinstance(chosen, str) and chosen else None


def main(action_id: str = "refresh_reports") -> None:
    """xlwings entry point for the ribbon (live Excel only)."""
    import xlwings as xw

    from addin.workbook.live import XlwingsPort

    book = xw.Book.caller()
    port = XlwingsPort(book)
    app = book.app

    def ask_path(title: str) -> str | None:
        return ask_path_in_excel(app.api, title)

    def confirm(question: str) -> bool:  # Excel's own Yes/No box (asked only for files Cycle ROI did not write)
        return app.alert(question, title="Cycle ROI", buttons="yes_no") == "yes"

    language = "en"
    try:
        from addin.workbook.refresh import book_language

        language = book_language(port) or "en"
        book_path = book.fullname if book.fullname.lower().endswith((".xlsx", ".xlsm")) else None
        if action_id == "share_with_finance" and book_path:
            book.save()  # the copy is made from the saved file
        message = dispatch(action_id, port, ask_path=ask_path, book_path=book_path, confirm=confirm,
                           language=language)
    except Exception as exc:  # a click must end in a message, not a traceback window
        message = could_not_finish(action_id, exc, language)
    finally:
        port.set_status(None)  # hand the status bar back to Excel
    app.alert(message, title="Cycle ROI")
