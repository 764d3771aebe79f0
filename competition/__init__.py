"""Competitions (赛项), groups (组别), rounds (轮次), entrants, draw codes, rubrics, results and awards.

Built by the competitions issue; registrations of a competition event already carry their group (组别).
"""
