"""Names an Excel function or argument must not have, because xlwings writes them into VBA as they are.

xlwings classic turns every Python parameter into a parameter of a generated VBA wrapper
(``xlwings/udfs.py: generate_vba_wrapper``) and does not check the names (xlwings issue 384). A
reserved word (``End``, ``Date``, ``String``, ``Currency``, ``Type`` …) stops the whole generated
module from compiling, so every function of it shows ``#NAME?``; a built-in function or statement
name (``Filter``, ``Name``, ``Format`` …) compiles but shadows the built-in inside the wrapper, and a
name the wrapper body itself uses (``Range``, ``Application``, ``Err`` …) changes what that body does.
The registry (``addin/udfs/registry.py``) rejects all of them when it is imported.

The lists are data with their sources, compared case-insensitively (VBA identifiers are).
"""
from __future__ import annotations

#: MS-VBAL (the VBA language specification, [MS-VBAL] v1.0), section 3.3.5.2 "Reserved Identifiers and
#: IDENTIFIER": every alternative of <reserved-identifier>, group by group as the grammar lists them.
RESERVED_IDENTIFIERS: dict[str, tuple[str, ...]] = {
    "statement-keyword": (
        "Call", "Case", "Close", "Const", "Declare", "DefBool", "DefByte", "DefCur", "DefDate", "DefDbl", "DefInt",
        "DefLng", "DefLngLng", "DefLngPtr", "DefObj", "DefSng", "DefStr", "DefVar", "Dim", "Do", "Else", "ElseIf",
        "End", "EndIf", "Enum", "Erase", "Event", "Exit", "For", "Friend", "Function", "Get", "Global", "GoSub",
        "GoTo", "If", "Implements", "Input", "Let", "Lock", "Loop", "LSet", "Next", "On", "Open", "Option", "Print",
        "Private", "Public", "Put", "RaiseEvent", "ReDim", "Resume", "Return", "RSet", "Seek", "Select", "Set",
        "Static", "Stop", "Sub", "Type", "Unlock", "Wend", "While", "With", "Write"),
    "rem-keyword": ("Rem",),
    "marker-keyword": (
        "Any", "As", "ByRef", "ByVal", "Case", "Each", "Else", "In", "New", "Shared", "Until", "WithEvents", "Write",
        "Optional", "ParamArray", "Preserve", "Spc", "Tab", "Then", "To"),
    "operator-identifier": ("AddressOf", "And", "Eqv", "Imp", "Is", "Like", "New", "Mod", "Not", "Or", "TypeOf", "Xor"),
    "reserved-name": (
        "Abs", "CBool", "CByte", "CCur", "CDate", "CDbl", "CDec", "CInt", "CLng", "CLngLng", "CLngPtr", "CSng", "CStr",
        "CVar", "CVErr", "Date", "Debug", "DoEvents", "Fix", "Int", "Len", "LenB", "Me", "PSet", "Scale", "Sgn",
        "String"),
    "special-form": ("Array", "Circle", "Input", "InputB", "LBound", "Scale", "UBound"),
    "reserved-type-identifier": (
        "Boolean", "Byte", "Currency", "Date", "Double", "Integer", "Long", "LongLong", "LongPtr", "Single", "String",
        "Variant"),
    "literal-identifier": ("True", "False", "Nothing", "Empty", "Null"),
    "reserved-for-implementation-use": (
        "Attribute", "LINEINPUT", "VB_Base", "VB_Control", "VB_Creatable", "VB_Customizable", "VB_Description",
        "VB_Exposed", "VB_Ext_KEY", "VB_GlobalNameSpace", "VB_HelpID", "VB_Invoke_Func", "VB_Invoke_Property",
        "VB_Invoke_PropertyPut", "VB_Invoke_PropertyPutRef", "VB_MemberFlags", "VB_Name", "VB_PredeclaredId",
        "VB_ProcData", "VB_TemplateDerived", "VB_UserMemId", "VB_VarDescription", "VB_VarHelpID",
        "VB_VarMemberFlags", "VB_VarProcData", "VB_VarUserMemId"),
    "future-reserved": ("CDecl", "Decimal", "DefDec"),
}

#: The VBA library's functions, as listed in the VBA language reference (learn.microsoft.com,
#: "Functions (Visual Basic for Applications)", office/vba/language/reference/functions-visual-basic-for-applications).
BUILTIN_FUNCTIONS: tuple[str, ...] = (
    "Abs", "Array", "Asc", "AscB", "AscW", "Atn", "CallByName", "CBool", "CByte", "CCur", "CDate", "CDbl", "CDec",
    "Choose", "Chr", "ChrB", "ChrW", "CInt", "CLng", "CLngLng", "CLngPtr", "Command", "Cos", "CreateObject", "CSng",
    "CStr", "CurDir", "CVar", "CVDate", "CVErr", "Date", "DateAdd", "DateDiff", "DatePart", "DateSerial", "DateValue",
    "Day", "DDB", "Dir", "DoEvents", "Environ", "EOF", "Error", "Exp", "FileAttr", "FileDateTime", "FileLen",
    "Filter", "Fix", "Format", "FormatCurrency", "FormatDateTime", "FormatNumber", "FormatPercent", "FreeFile", "FV",
    "GetAllSettings", "GetAttr", "GetObject", "GetSetting", "Hex", "Hour", "IIf", "IMEStatus", "Input", "InputB",
    "InputBox", "InStr", "InStrB", "InStrRev", "Int", "IPmt", "IRR", "IsArray", "IsDate", "IsEmpty", "IsError",
    "IsMissing", "IsNull", "IsNumeric", "IsObject", "Join", "LBound", "LCase", "Left", "LeftB", "Len", "LenB", "Loc",
    "LOF", "Log", "LTrim", "MacID", "MacScript", "Mid", "MidB", "Minute", "MIRR", "Month", "MonthName", "MsgBox",
    "Now", "NPer", "NPV", "Oct", "Partition", "Pmt", "PPmt", "PV", "QBColor", "Rate", "Replace", "RGB", "Right",
    "RightB", "Rnd", "Round", "RTrim", "Second", "Seek", "Sgn", "Shell", "Sin", "SLN", "Space", "Spc", "Split", "Sqr",
    "Str", "StrComp", "StrConv", "String", "StrReverse", "Switch", "SYD", "Tab", "Tan", "Time", "Timer", "TimeSerial",
    "TimeValue", "Trim", "TypeName", "UBound", "UCase", "Val", "VarType", "Weekday", "WeekdayName", "Year")

#: The VBA statements, as listed in the VBA language reference ("Statements (Visual Basic for Applications)",
#: office/vba/language/reference/statements), by their first word.
BUILTIN_STATEMENTS: tuple[str, ...] = (
    "AppActivate", "Beep", "Call", "ChDir", "ChDrive", "Close", "Const", "Date", "Declare", "DefType", "DeleteSetting",
    "Dim", "Do", "End", "Enum", "Erase", "Error", "Event", "Exit", "FileCopy", "For", "Function", "Get", "GoSub",
    "GoTo", "If", "Implements", "Input", "Kill", "Let", "Line", "Load", "Lock", "LSet", "Mid", "MidB", "MkDir", "Name",
    "On", "Open", "Option", "Print", "Private", "Property", "Public", "Put", "RaiseEvent", "Randomize", "ReDim", "Rem",
    "Reset", "Resume", "Return", "RmDir", "RSet", "SavePicture", "SaveSetting", "Seek", "Select", "SendKeys", "Set",
    "SetAttr", "Static", "Stop", "Sub", "Time", "Type", "Unload", "While", "Width", "With", "Write")

#: Names the body of xlwings' generated wrapper refers to unqualified (xlwings 0.37.8, udfs.py
#: generate_vba_wrapper): a parameter with one of these names would change what the wrapper calls.
WRAPPER_NAMES: tuple[str, ...] = (
    "Application", "ActiveWorkbook", "ThisWorkbook", "Range", "Err", "XLPy", "argsArray", "k", "failed")

FORBIDDEN: frozenset[str] = frozenset(
    n.casefold() for n in (*(w for group in RESERVED_IDENTIFIERS.values() for w in group),
                           *BUILTIN_FUNCTIONS, *BUILTIN_STATEMENTS, *WRAPPER_NAMES))


def why_forbidden(name: str) -> str | None:
    """Why ``name`` cannot name a VBA parameter or function, or None if it can.

    >>> why_forbidden("end")
    'a VBA reserved word (MS-VBAL 3.3.5.2 statement-keyword)'
    >>> why_forbidden("filter"), why_forbidden("end_date")
    ('a VBA built-in function', None)
    """
    folded = name.casefold()
    for group, words in RESERVED_IDENTIFIERS.items():
        if folded in {w.casefold() for w in words}:
            return f"a VBA reserved word (MS-VBAL 3.3.5.2 {group})"
    if folded in {w.casefold() for w in BUILTIN_FUNCTIONS}:
        return "a VBA built-in function"
    if folded in {w.casefold() for w in BUILTIN_STATEMENTS}:
        return "a VBA statement"
    if folded in {w.casefold() for w in WRAPPER_NAMES}:
        return "a name xlwings' generated VBA wrapper uses"
    return None
