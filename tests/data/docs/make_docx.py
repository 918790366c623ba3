"""Writes tests/data/docs/harbor-report.docx with python-docx (run from the repository root):

    .venv/bin/python tests/data/docs/make_docx.py

A title, two headings, paragraphs (one with a line break and bold run), a bulleted list, a table
with a merged cell, and a paragraph inside the table's neighbour. tests/test_documents.py reads it.
"""

from pathlib import Path

import docx

out = Path(__file__).with_name("harbor-report.docx")
document = docx.Document()
document.core_properties.author = "Harbor Works Office"
document.add_heading("Harbor Bridge Restoration Report", level=0)
document.add_paragraph("Prepared for the city council in March 2025.")
document.add_heading("Summary", level=1)
summary = document.add_paragraph("The Harbor Bridge was restored in 2025 by the city council. ")
summary.add_run("The works took eleven months").bold = True
summary.add_run(" and closed the bridge to cars from April to September.")
document.add_paragraph("The chief engineer was Dr. Marta\u00a0Lindqvist,\tof the Harbor Works Office.")
document.add_heading("Works", level=1)
document.add_paragraph("Replace the corroded cables", style="List Bullet")
document.add_paragraph("Repaint the main span", style="List Bullet")
document.add_heading("Costs", level=2)
table = document.add_table(rows=4, cols=2)
for row, (item, cost) in zip(table.rows, [("Item", "Cost"), ("Restoration", "$2.4 million"),
                                          ("Cables", "$0.9 million"), ("Total", "")]):
    row.cells[0].text, row.cells[1].text = item, cost
total = table.rows[3].cells[0].merge(table.rows[3].cells[1])
total.text = "Total $3.3 million"
lines = document.add_paragraph("The bridge reopened on 1 October 2025.")
lines.add_run().add_break()
lines.add_run("Traffic returned the same day.")
document.save(out)
print(out)
