"""``cycle-roi lite``: the workbook for xlwings Lite (Excel on Mac, the web and Windows without Python),
or the Lite code as files to paste into Lite's editor."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..outputs import TargetLockedError
from calc.messages import Message

from .common import ForceOpt, app, friendly, out, output_path, render_label
from .common import language as current_language
from .workbook import LanguageOpt, check_language, fail


@app.command()
@friendly
def lite(output: Annotated[Optional[Path], typer.Option(
             "-o", "--output", help="Workbook to write (.xlsx): the template with the Lite code inside.")] = None,
         code: Annotated[Optional[Path], typer.Option(
             "--code", help="Folder to write main.py and requirements.txt into, for pasting into Lite's editor.")] = None,
         selftest: Annotated[bool, typer.Option(
             "--selftest", help="With -o: the self-test workbook (cycle-roi selftest) instead of the template.")] = False,
         language: LanguageOpt = None, force: ForceOpt = False) -> None:
    """The Cycle ROI workbook for xlwings Lite (-o FILE.xlsx), or its main.py and requirements.txt (--code DIR).

    Open the workbook in Excel with the free xlwings Lite add-in: the functions are there, nothing to paste.
    """
    if (output is None) == (code is None):
        fail(Message("cli.lite_output_or_code"))
    check_language(language)
    if output is not None:
        output = output_path(output, force=force)  # the one output-path guard (addin/outputs.py)
        from ..lite.workbook import build_lite_selftest, build_lite_workbook

        try:
            path = build_lite_selftest(output) if selftest else build_lite_workbook(output, language=language or current_language())
        except TargetLockedError as exc:
            fail(exc)
        out.print(render_label("cli.lite_written", path=str(path)))
        return
    if selftest:
        fail(Message("cli.selftest_needs_output"))
    from ..lite.code import CodeFolderError, write_code

    try:
        written = write_code(code, language=language or current_language())  # the buttons name the Start sheet in it
    except CodeFolderError as exc:
        fail(exc)
    out.print(render_label("cli.lite_code_written", paths=", ".join(str(p) for p in written)))
