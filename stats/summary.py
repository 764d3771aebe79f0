"""The generated summary paragraph of a year or half year, of the kind that goes into a work report (工作总结).

Every number comes from ``stats.services.PeriodStats``; nothing is typed. Simplified Chinese is the main text;
Traditional Chinese and English follow the page's language. The wording is held here (not in the message catalogs)
because it is a document with its own grammar per language, not interface text.
"""
from __future__ import annotations

from stats.services import PeriodStats, format_count as n

KINDS = {
    "zh_Hans": {"forum": "论坛", "salon": "沙龙", "seminar": "研讨会", "training": "培训", "competition": "竞赛",
                "ceremony": "颁奖/年会"},
    "zh_Hant": {"forum": "論壇", "salon": "沙龍", "seminar": "研討會", "training": "培訓", "competition": "競賽",
                "ceremony": "頒獎/年會"},
    "en": {"forum": ("forum", "forums"), "salon": ("salon", "salons"), "seminar": ("seminar", "seminars"),
           "training": ("training", "trainings"), "competition": ("competition event", "competition events"),
           "ceremony": ("ceremony", "ceremonies")},
}


def language_of(locale: str | None) -> str:
    text = str(locale or "zh_Hans")
    if text.startswith("en"):
        return "en"
    if text in ("zh_Hant", "zh_TW", "zh_HK") or text.startswith("zh_Hant"):
        return "zh_Hant"
    return "zh_Hans"


def period_label(stats: PeriodStats, language: str) -> str:
    year, half = stats.period.year, stats.period.half
    if language == "en":
        return {None: f"In {year}", 1: f"In the first half of {year}", 2: f"In the second half of {year}"}[half]
    return {None: f"{year}年", 1: f"{year}年上半年", 2: f"{year}年下半年"}[half]


def _who(stats: PeriodStats, language: str) -> str:
    name = stats.organization.name
    branches = [o.name for o in stats.organizations if o.id != stats.organization.id]
    if not branches:
        return name
    if language == "en":
        return f"{name} (with {', '.join(branches)})"
    return f"{name}（含{'、'.join(branches)}）"


def _en_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _en_plural(count: int, one: str, many: str) -> str:
    return f"{n(count)} {one if count == 1 else many}"


def summary(stats: PeriodStats, locale: str | None = "zh_Hans") -> str:
    language = language_of(locale)
    return {"en": _english, "zh_Hant": _traditional}.get(language, _simplified)(stats)


def _simplified(s: PeriodStats) -> str:
    when, who = period_label(s, "zh_Hans"), _who(s, "zh_Hans")
    if s.empty:
        return f"{when}，{who}未举办活动。"
    kinds = "、".join(f"{KINDS['zh_Hans'][k]}{n(c)}场" for k, c in s.by_kind)
    text = (f"{when}，{who}共举办活动{n(len(s.events))}场，其中{kinds}；"
            f"有效报名{n(s.persons)}人次，签到{n(s.attended_persons)}人次，"
            f"报名者共{n(s.distinct_people)}人，其中首次参加{n(s.first_time)}人，来自{n(s.distinct_units)}家单位。")
    if s.competitions:
        text += f"举办竞赛项目{n(len(s.competitions))}个，{_entrants_zh(s, '支', '名', '参赛队', '选手')}"
        awards = "、".join(f"{tier}{n(c)}项" for tier, c in s.awards)
        text += f"，共评出{awards}" if awards else "，暂无已发布的获奖结果"
        if s.unpublished:
            text += f"（另有{n(len(s.unpublished))}个竞赛项目成绩未发布，未计入）"
        text += "。"
    if s.certificates:
        text += f"共颁发证书{n(s.certificates)}份。"
    return text


def _traditional(s: PeriodStats) -> str:
    when, who = period_label(s, "zh_Hant"), _who(s, "zh_Hant")
    if s.empty:
        return f"{when}，{who}未舉辦活動。"
    kinds = "、".join(f"{KINDS['zh_Hant'][k]}{n(c)}場" for k, c in s.by_kind)
    text = (f"{when}，{who}共舉辦活動{n(len(s.events))}場，其中{kinds}；"
            f"有效報名{n(s.persons)}人次，簽到{n(s.attended_persons)}人次，"
            f"報名者共{n(s.distinct_people)}人，其中首次參加{n(s.first_time)}人，來自{n(s.distinct_units)}家單位。")
    if s.competitions:
        text += f"舉辦競賽項目{n(len(s.competitions))}個，{_entrants_zh(s, '支', '名', '參賽隊', '選手')}"
        awards = "、".join(f"{tier}{n(c)}項" for tier, c in s.awards)
        text += f"，共評出{awards}" if awards else "，暫無已發布的獲獎結果"
        if s.unpublished:
            text += f"（另有{n(len(s.unpublished))}個競賽項目成績未發布，未計入）"
        text += "。"
    if s.certificates:
        text += f"共頒發證書{n(s.certificates)}份。"
    return text


def _entrants_zh(s: PeriodStats, team_unit: str, person_unit: str, teams_word: str, people_word: str) -> str:
    teams, individuals = s.teams, s.entrants - s.teams
    if teams and individuals:
        return f"{teams_word}{n(teams)}{team_unit}、{people_word}{n(individuals)}{person_unit}"
    if individuals:
        return f"{people_word}{n(individuals)}{person_unit}"
    return f"{teams_word}{n(teams)}{team_unit}"


def _english(s: PeriodStats) -> str:
    when, who = period_label(s, "en"), _who(s, "en")
    if s.empty:
        return f"{when}, {who} held no events."
    kinds = _en_list([_en_plural(c, *KINDS["en"][k]) for k, c in s.by_kind])
    text = (f"{when}, {who} held {_en_plural(len(s.events), 'event', 'events')} ({kinds}), with "
            f"{n(s.persons)} confirmed sign-ups (persons) and {n(s.attended_persons)} check-ins (persons): "
            f"{_en_plural(s.distinct_people, 'different person', 'different people')} signed up, "
            f"{n(s.first_time)} of them for the first time, from {_en_plural(s.distinct_units, 'unit', 'units')}.")
    if s.competitions:
        teams, individuals = s.teams, s.entrants - s.teams
        entrants = _en_list([x for x in (_en_plural(teams, "team", "teams") if teams else "",
                                         _en_plural(individuals, "individual entrant", "individual entrants")
                                         if individuals else "") if x]) or "no entrants"
        text += f" {_en_plural(len(s.competitions), 'competition', 'competitions')} had {entrants}"
        awards = _en_list([f"{_en_plural(c, 'award', 'awards')} of {tier}" for tier, c in s.awards])
        text += f"; {awards} were given" if awards else "; no published awards yet"
        if s.unpublished:
            text += (f" ({_en_plural(len(s.unpublished), 'competition', 'competitions')} with unpublished results "
                     "not counted)")
        text += "."
    if s.certificates:
        text += f" {_en_plural(s.certificates, 'certificate was', 'certificates were')} issued."
    return text
