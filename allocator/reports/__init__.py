"""Sixth floor: what people read: the console summary, the HTML report and its figures, solution workbooks."""
