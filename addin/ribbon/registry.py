"""The one registry of ribbon buttons: id -> label, icon, group, VBA callback and Python action.

The customUI XML and the VBA callbacks (``CycleROI.bas``) are generated from this registry
(``customui.py``) and a test checks the committed copies against it, so no button can point at a
macro that does not exist or at a Python action that is not registered.
"""
from __future__ import annotations

from dataclasses import dataclass

#: VBA module that holds the callbacks (imported into the .xlam by ``cycle-roi addin install``).
VBA_MODULE = "CycleROI"
TAB_ID, TAB_LABEL = "CycleROITab", "Cycle ROI"


@dataclass(frozen=True)
class Button:
    id: str            # also the action id passed to addin.ribbon.main(...)
    label: str
    image: str         # a built-in Office icon (imageMso)
    group: str
    screentip: str

    @property
    def callback(self) -> str:
        """Name of the VBA Sub the button's onAction calls."""
        return f"On_{self.id}"


GROUPS = {"reports": "Reports", "data": "Data", "share": "Share", "help": "Help"}

BUTTONS: tuple[Button, ...] = (
    Button("refresh_reports", "Refresh reports", "Refresh", "reports",
           "Recompute every report sheet from this workbook's Spend, Leads and Deals tables."),
    Button("validate_data", "Validate data", "AcceptInvitation", "data",
           "Check Spend, Leads and Deals and list every problem with its rows and the fix."),
    Button("import_spend", "Import Spend", "ImportTextFile", "data",
           "Replace the Spend table with a CSV/XLSX export of your ad platform."),
    Button("import_leads", "Import Leads", "ImportTextFile", "data",
           "Replace the Leads table with a CSV/XLSX export of your CRM's consultations."),
    Button("import_deals", "Import Deals", "ImportTextFile", "data",
           "Replace the Deals table with a CSV/XLSX export of your won deals."),
    Button("share_with_finance", "Share with finance", "FileSendAsAttachment", "share",
           "Save a values-only copy that opens anywhere without the add-in."),
    Button("settings_help", "Settings / Help", "Help", "help",
           "Go to the Settings sheet and show where the help pages are."),
)

BY_ID = {b.id: b for b in BUTTONS}
