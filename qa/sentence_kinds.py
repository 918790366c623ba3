"""The kinds of sentence: body text, heading, caption, running page header or footer, code, table
header row, table of contents entry."""

# The kinds of text a document holds; each sentence is of one kind (`Document.regions` marks the
# spans that are not body text). Only body text is ever quoted as an answer.
BODY, HEADING, CAPTION, RUNNING = "body", "heading", "caption", "running"  # RUNNING: a running page header or footer
CODE = "code"  # a code block (Markdown fences and indented blocks, HTML <pre>): what the prose explains, not prose
TABLE_HEADER = "table_header"  # a Markdown table's header row: it names the columns and answers nothing
CONTENTS = "contents"  # a table of contents entry ("2.1 Naming . . . . 3"): names a section, answers nothing
SENTENCE_KINDS = (BODY, HEADING, CAPTION, RUNNING, CODE, TABLE_HEADER, CONTENTS)
# What joins the cells of a table row in a document's text, whatever its format (each row is a line
# of its own); the reader reads a row after its table's header row (`qa.answering.context_before`).
CELLS = " | "
