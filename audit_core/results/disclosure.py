"""The smallest count of patients a result may show: one constant for the engine, which
pools rarer subgroup values unnamed (data/subgroup_categories.py), and the report, which
hides rarer counts (report/small_cells.py).

CMS cell-size suppression policy (compliance.md 6.9): cells of 1 to 10 are not shown.
A probe's or plan's larger `min_cell` raises it; nothing lowers it.
"""

MIN_CELL = 11
