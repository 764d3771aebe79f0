"""Judge panels, conflicts of interest (回避), scores, aggregation, chief-judge review and appeals.

Built by the judging issues.
"""
