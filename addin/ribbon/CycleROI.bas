Attribute VB_Name = "CycleROI"
' Cycle ROI ribbon callbacks. Generated from addin/ribbon/registry.py by
' python -m addin.ribbon.customui - do not edit by hand.
Option Explicit

Sub On_refresh_reports(control As IRibbonControl)
    RunPython "import addin.ribbon; addin.ribbon.main('refresh_reports')"
End Sub

Sub On_validate_data(control As IRibbonControl)
    RunPython "import addin.ribbon; addin.ribbon.main('validate_data')"
End Sub

Sub On_import_spend(control As IRibbonControl)
    RunPython "import addin.ribbon; addin.ribbon.main('import_spend')"
End Sub

Sub On_import_leads(control As IRibbonControl)
    RunPython "import addin.ribbon; addin.ribbon.main('import_leads')"
End Sub

Sub On_import_deals(control As IRibbonControl)
    RunPython "import addin.ribbon; addin.ribbon.main('import_deals')"
End Sub

Sub On_share_with_finance(control As IRibbonControl)
    RunPython "import addin.ribbon; addin.ribbon.main('share_with_finance')"
End Sub

Sub On_settings_help(control As IRibbonControl)
    RunPython "import addin.ribbon; addin.ribbon.main('settings_help')"
End Sub
