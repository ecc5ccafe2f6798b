"""Cycle ROI's Excel side: xlwings functions, ribbon actions, workbook I/O and the command line.

Everything here adapts calc to the outside world; the numbers are computed in :mod:`calc`.
"""
