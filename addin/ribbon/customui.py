"""Generate the ribbon's customUI XML and the VBA callbacks from the button registry.

``python -m addin.ribbon.customui`` rewrites the committed ``customUI.xml`` and ``CycleROI.bas``
beside this file; ``tests/test_ribbon.py`` fails if they differ from what the registry gives.
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from calc.messages import text

from .registry import BUTTONS, GROUPS, TAB_ID, TAB_LABEL, VBA_MODULE

HERE = Path(__file__).resolve().parent
CUSTOMUI_FILE = HERE / "customUI.xml"
VBA_FILE = HERE / f"{VBA_MODULE}.bas"
NAMESPACE = "http://schemas.microsoft.com/office/2009/07/customui"  # customUI14, paired with the 2007 relationship type


def customui_xml(language: str = "en") -> str:
    """The ribbon tab: one group per registry group, one large button per registry button, its words in
    ``language`` from the message catalogue (one add-in serves every workbook, so the ribbon speaks the
    language it was built or installed in: ``cycle-roi --language zh addin install``)."""
    lines = [f'<customUI xmlns="{NAMESPACE}">', "  <ribbon>", "    <tabs>",
             f'      <tab id="{TAB_ID}" label={quoteattr(TAB_LABEL)}>']
    for group in GROUPS:
        label = text(f"ribbon.group.{group}", language)
        lines.append(f'        <group id="CycleROI_{group}" label={quoteattr(label)}>')
        for b in (b for b in BUTTONS if b.group == group):
            label, tip = text(f"ribbon.button.{b.id}", language), text(f"ribbon.tip.{b.id}", language)
            lines.append(f'          <button id="{b.id}" label={quoteattr(label)} size="large" imageMso="{b.image}" '
                         f'screentip={quoteattr(tip)} onAction="{VBA_MODULE}.{b.callback}" />')
        lines.append("        </group>")
    lines += ["      </tab>", "    </tabs>", "  </ribbon>", "</customUI>", ""]
    return "\n".join(lines)


def vba_module() -> str:
    """VBA callbacks: each button's Sub runs ``addin.ribbon.main('<id>')`` through xlwings' RunPython."""
    lines = [f'Attribute VB_Name = "{VBA_MODULE}"',
             "' Cycle ROI ribbon callbacks. Generated from addin/ribbon/registry.py by",
             "' python -m addin.ribbon.customui - do not edit by hand.",
             "Option Explicit", ""]
    for b in BUTTONS:
        lines += [f"Sub {b.callback}(control As IRibbonControl)",
                  f"    RunPython \"import addin.ribbon; addin.ribbon.main('{b.id}')\"",
                  "End Sub", ""]
    return "\r\n".join(lines)


def write_files() -> None:
    CUSTOMUI_FILE.write_text(customui_xml(), encoding="utf-8")
    VBA_FILE.write_bytes(vba_module().encode("ascii"))  # VBA imports .bas files as ANSI with CRLF


if __name__ == "__main__":
    write_files()
