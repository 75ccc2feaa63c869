"""Reports a union office prints and files.

``inputs`` (what a report shows), ``html`` (HTML and PDF), ``xlsx`` (the
workbook), ``figures`` (static maps and charts), ``text`` (the report's words),
``write`` (the format a file name asks for).
"""
