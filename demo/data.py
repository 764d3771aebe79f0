"""Demo organizations, people and events. Names are generated, never real people.

Each ``ensure_*`` finds what is already there by a natural key and creates only what is missing, so running the
demo twice changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from accounts.models import MembershipRole, Organization, User
from accounts.services import add_membership, create_user, find_user_by_login
from core.timezones import local_to_utc
from events import services as event_services
from events.models import Event, EventKind, EventState, HostRole
from demo.people import people, units
from extensions import db

DEMO_PASSWORD = "saihui-demo-2026"
TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class DemoUser:
    login: str
    name: str
    role: MembershipRole | None
    organization: str
    note: str


ASSOCIATION = "海峡信息化协会"
BRANCH = "海峡信息化协会青年工作委员会"
OTHER_ASSOCIATION = "东海软件行业协会"

DEMO_USERS = [
    DemoUser("admin@demo.saihui", "林秘书长", MembershipRole.ADMIN, ASSOCIATION, "协会管理员 organization admin"),
    DemoUser("organizer@demo.saihui", "陈晓雯", MembershipRole.ORGANIZER, ASSOCIATION, "组织者 organizer"),
    DemoUser("staff@demo.saihui", "黄志强", MembershipRole.CHECKIN_STAFF, ASSOCIATION, "签到人员 check-in staff"),
    DemoUser("judge@demo.saihui", "王喆", MembershipRole.JUDGE, ASSOCIATION, "评委 judge"),
    DemoUser("chief@demo.saihui", "欧阳子轩", MembershipRole.CHIEF_JUDGE, ASSOCIATION, "裁判长 chief judge"),
    DemoUser("other@demo.saihui", "張偉", MembershipRole.ORGANIZER, OTHER_ASSOCIATION, "另一协会的组织者 organizer of another association"),
    # four more judges of the competition's panels (generated names)
    *[DemoUser(f"judge{i}@demo.saihui", name, MembershipRole.JUDGE, ASSOCIATION, f"评委 judge {i}")
      for i, (name, _phone) in enumerate(people(40, seed=55)[-4:], start=2)],
]


def local(text: str) -> datetime:
    return local_to_utc(datetime.strptime(text, "%Y-%m-%d %H:%M"), TZ)


def ensure_organization(name: str, short_name: str, parent: Organization | None = None) -> Organization:
    org = db.session.scalar(sa.select(Organization).where(Organization.name == name))
    if org is None:
        org = Organization(name=name, short_name=short_name, parent=parent)
        db.session.add(org)
        db.session.flush()
    return org


def ensure_user(spec: DemoUser, organizations: dict[str, Organization]) -> User:
    user = find_user_by_login(spec.login)
    if user is None:
        user = create_user(login=spec.login, name=spec.name, password=DEMO_PASSWORD)
    if spec.role is not None:
        add_membership(user, organizations[spec.organization], spec.role)
    return user


def ensure_event(organization: Organization, actor: User, *, title: str, kind: EventKind, starts: str, ends: str,
                 venue: str, description: str, capacity: int | None = None, opens: str | None = None,
                 closes: str | None = None, requires_approval: bool = False,
                 hosts: dict[HostRole, list[str]] | None = None, sessions: list[tuple[str, str, str, str, int | None]] = (),
                 state: EventState = EventState.PUBLISHED, now: datetime) -> Event:
    event = db.session.scalar(
        sa.select(Event).where(Event.organization_id == organization.id, Event.title == title)
    )
    if event is not None:
        return event
    data = event_services.EventData(
        kind=kind, title=title, starts_at=local(starts), ends_at=local(ends), timezone=TZ, description=description,
        venue=venue, capacity=capacity, registration_opens_at=local(opens) if opens else None,
        registration_closes_at=local(closes) if closes else None, requires_approval=requires_approval,
        hosts=hosts or {},
    )
    event = event_services.create_event(organization, data, actor=actor, now=now)
    for s_title, s_start, s_end, room, s_capacity in sessions:
        event_services.add_session(
            event,
            event_services.SessionData(title=s_title, starts_at=local(s_start), ends_at=local(s_end), room=room,
                                       capacity=s_capacity),
            actor=actor, now=now,
        )
    if state in (EventState.PUBLISHED, EventState.ARCHIVED):
        event_services.publish_event(event, actor=actor, now=now)
    if state == EventState.ARCHIVED:
        event_services.archive_event(event, actor=actor, now=now)
    return event


def load_demo(now: datetime) -> list[DemoUser]:
    """Load everything; return the demo logins to print."""
    association = ensure_organization(ASSOCIATION, "海信协")
    branch = ensure_organization(BRANCH, "青工委", parent=association)
    other = ensure_organization(OTHER_ASSOCIATION, "东软协")
    organizations = {o.name: o for o in (association, branch, other)}
    users = {spec.login: ensure_user(spec, organizations) for spec in DEMO_USERS}
    organizer = users["organizer@demo.saihui"]

    forum = ensure_event(
        association, organizer, now=now,
        title="2026海峡两岸信息化论坛", kind=EventKind.FORUM,
        starts="2026-11-21 08:30", ends="2026-11-21 17:30", venue="厦门国际会议中心 三楼报告厅",
        description="聚焦数字政府、智慧城市与两岸信息产业合作。\n上午为主论坛，下午分设两个分论坛。",
        capacity=320, opens="2026-10-20 09:00", closes="2026-11-19 18:00",
        hosts={
            HostRole.HOST: [ASSOCIATION, "厦门市信息中心"],
            HostRole.ORGANIZER: ["厦门信息集团"],
            HostRole.CO_ORGANIZER: ["厦门移动公司", "厦门联通公司", "厦门电信公司"],
        },
        sessions=[
            ("主论坛：数字中国建设新机遇", "2026-11-21 08:30", "2026-11-21 12:00", "三楼报告厅", 320),
            ("分论坛一：智慧城市与数据要素", "2026-11-21 14:00", "2026-11-21 17:30", "二楼A厅", 160),
            ("分论坛二：两岸信息产业合作", "2026-11-21 14:00", "2026-11-21 17:30", "二楼B厅", 160),
        ],
    )
    contest = ensure_event(
        association, organizer, now=now,
        title="2026年云计算、小程序行业技能大赛", kind=EventKind.COMPETITION,
        starts="2026-12-19 08:00", ends="2026-12-20 18:00", venue="厦门城市职业学院 实训楼",
        description="赛项：云计算、小程序开发。分中职组、高职组、企业组。\n参赛队由学校或企业报名，经协会审核后参赛。",
        capacity=30, opens="2026-11-10 09:00", closes="2026-12-15 18:00", requires_approval=True,
        hosts={HostRole.HOST: [ASSOCIATION], HostRole.ORGANIZER: ["厦门城市职业学院"],
               HostRole.CO_ORGANIZER: ["厦门鉴真云计算有限公司"]},
        sessions=[
            ("检录与开幕", "2026-12-19 08:00", "2026-12-19 09:00", "实训楼一楼大厅", None),
            ("云计算赛项", "2026-12-19 09:00", "2026-12-19 17:00", "实训楼301–305", None),
            ("小程序赛项", "2026-12-20 09:00", "2026-12-20 17:00", "实训楼401–405", None),
        ],
    )
    ensure_forum_signups(forum, now=now)
    ensure_forum_check_ins(forum, staff=users["staff@demo.saihui"])
    ensure_forum_certificates(forum, actor=organizer, now=now)
    ensure_competition_teams(contest, actor=organizer, now=now)
    ensure_competition_setup(contest, actor=organizer, now=now)
    ensure_competition_judging(contest, judges=[users["judge@demo.saihui"]] + [users[f"judge{i}@demo.saihui"]
                                                                               for i in range(2, 6)],
                               chief=users["chief@demo.saihui"], actor=organizer, now=now)
    ensure_competition_results(contest, actor=organizer, chief=users["chief@demo.saihui"], now=now)
    topics = ["大模型应用落地", "数据安全合规", "低代码开发", "云原生架构", "物联网平台", "数字孪生",
              "开源治理", "信创适配", "智能客服", "网络安全攻防", "元宇宙与文旅"]
    salons = []
    for month, topic in enumerate(topics, start=1):
        day = f"2026-{month:02d}-20"
        salons.append(ensure_event(
            branch, organizer, now=now,
            title=f"青年科技沙龙第{month}期：{topic}", kind=EventKind.SALON,
            starts=f"{day} 14:30", ends=f"{day} 17:00", venue="协会活动室（软件园二期）",
            description=f"本期主题：{topic}。欢迎会员单位青年技术骨干参加。", capacity=60,
            hosts={HostRole.HOST: [BRANCH]},
            state=EventState.PUBLISHED,  # held salons are archived by ensure_salon_attendance, after their check-ins
        ))
    ensure_salon_attendance(salons, staff=users["staff@demo.saihui"], actor=organizer, now=now)
    ensure_event(
        other, users["other@demo.saihui"], now=now,
        title="东海软件行业年会", kind=EventKind.CEREMONY,
        starts="2026-12-26 09:00", ends="2026-12-26 12:00", venue="东海会展中心", description="年度颁奖与交流。",
        hosts={HostRole.HOST: [OTHER_ASSOCIATION]},
    )
    return DEMO_USERS


def ensure_forum_certificates(event: Event, *, actor: User, now: datetime) -> None:
    """Participation certificates (参会证明) for everyone who checked in at the forum: numbers and verification codes
    only (a PDF is made when someone opens one). Names with a character the font lacks are left out, as the check
    before printing would ask the organizer to correct them first (the design page lists them)."""
    from certificates import glyphs, services, sources
    from certificates.models import Certificate, CertificateKind

    if db.session.scalar(sa.select(sa.func.count(Certificate.id)).where(Certificate.event_id == event.id)):
        return
    kind = CertificateKind.PARTICIPATION
    design = services.ensure_design(event, kind, actor=actor, now=now)
    try:
        available = glyphs.font_characters(services.font_path())
    except OSError:  # no font installed: the numbers are issued all the same
        available = None
    holders = [h for h in sources.checked_in_holders(event)
               if available is None or not glyphs.missing_characters([h.name, h.unit], available)]
    services.issue(event, kind, holders, design=design, actor=actor, now=now)


FORUM_ATTENDEES = 316


def ensure_forum_signups(event: Event, *, now: datetime) -> None:
    """316 approved attendees of the forum, each choosing the main forum and one afternoon session."""
    from registration.models import Registration
    from registration.services import SignupData, get_settings, register_participant

    if db.session.scalar(sa.select(sa.func.count(Registration.id)).where(Registration.event_id == event.id)):
        return
    settings = get_settings(event)
    settings.allow_session_choice = True
    db.session.add(settings)
    unit_names = units()
    main, first, second = event.sessions[0], event.sessions[1], event.sessions[2]
    for i, (name, phone) in enumerate(people(FORUM_ATTENDEES, seed=316)):
        register_participant(
            event,
            SignupData(name=name, phone=phone, unit=unit_names[i % len(unit_names)],
                       session_ids=[main.id, (first if i % 2 else second).id]),
            now=event.registration_opens_at or now, ignore_window=True,
        )


def ensure_competition_teams(event: Event, *, actor: User, now: datetime) -> None:
    """20 school teams (10 中职组, 10 高职组) and 5 company teams (企业组); most approved, a few pending."""
    from registration.models import MemberRole, Registration, RegistrationKind, RegistrationState
    from registration.services import MemberData, SignupData, approve_registration, register_participant, save_settings

    if db.session.scalar(sa.select(sa.func.count(Registration.id)).where(Registration.event_id == event.id)):
        return
    save_settings(event, kind=RegistrationKind.TEAM, team_min_members=2, team_max_members=3, team_max_coaches=2,
                  groups=["中职组", "高职组", "企业组"], ask_id_number=False, ask_email=False, ask_job_title=False,
                  allow_session_choice=False, actor=actor, now=now)
    schools = [u for u in units() if u.endswith(("学院", "学校", "大学", "中学"))] or units()
    companies = [u for u in units() if u.endswith(("公司", "集团"))] or units()
    crowd = people(25 * 4, seed=25)
    plan = [("中职组", schools[i % len(schools)]) for i in range(10)] + \
           [("高职组", schools[(i + 5) % len(schools)]) for i in range(10)] + \
           [("企业组", companies[i % len(companies)]) for i in range(5)]
    for i, (group, unit) in enumerate(plan):
        leader, member, member2, coach = crowd[i * 4: i * 4 + 4]
        registration, _key = register_participant(
            event,
            SignupData(name=leader[0], phone=leader[1], unit=unit, group_name=group,
                       team_name=f"{unit.replace('有限公司', '').replace('股份', '')}{'一队' if i % 2 == 0 else '二队'}",
                       members=[MemberData(MemberRole.MEMBER, member[0], member[1]),
                                MemberData(MemberRole.MEMBER, member2[0], member2[1]),
                                MemberData(MemberRole.COACH, coach[0], coach[1])]),
            now=event.registration_opens_at or now, ignore_window=True,
        )
        if i < 22 and registration.status == RegistrationState.PENDING:
            approve_registration(registration, now=now, actor=actor)


COMPETITION_TITLE = "云计算、小程序行业技能大赛"


def ensure_competition_setup(event: Event, *, actor: User, now: datetime) -> None:
    """The competition (赛项) of the contest, set up: its groups, a 决赛 round whose rubric has module A (客观,
    measurement) and module B (主观, judgement, two criteria on the 0–3 ladder), the approved teams as entrants,
    and the station numbers drawn (a fixed seed, so that every demo has the same draw)."""
    import random
    from decimal import Decimal

    from competition import services as competition_services
    from competition.draw import draw
    from competition.models import Competition, CriterionKind

    if db.session.scalar(sa.select(Competition.id).where(Competition.event_id == event.id,
                                                         Competition.title == COMPETITION_TITLE)):
        return
    s = competition_services
    competition = s.create_competition(
        event, s.CompetitionData(title=COMPETITION_TITLE, groups=["中职组", "高职组", "企业组"],
                                 description="云计算平台搭建与运维、微信小程序开发。团体赛，每队 2–3 人。"),
        actor=actor, now=now)
    final = s.add_round(competition, s.RoundData(name="决赛", starts_at=local("2026-12-19 09:00"),
                                                 ends_at=local("2026-12-20 17:00"), carries_scores_forward=True,
                                                 weight=Decimal(100)), actor=actor, now=now)
    rubric = s.rubric_for(final)
    objective = s.add_module(rubric, s.ModuleData(code="A", name="客观", weight=Decimal(60)), actor=actor, now=now)
    for code, name, maximum, step, full_or_zero, description in (
        ("A1", "云主机创建与网络配置", "15", "0.5", False, "按检查点逐项测量，每个检查点 0.5 分。"),
        ("A2", "容器化部署与服务发布", "20", "0.5", False, "服务可访问、配置正确，按检查点计分。"),
        ("A3", "安全组与访问控制", "5", "5", True, "策略全部正确得满分，否则不得分。"),
        ("A4", "小程序核心功能实现", "20", "1", False, "按功能清单逐项测试。"),
    ):
        s.add_criterion(objective, s.CriterionData(code=code, name=name, maximum=maximum, step=step,
                                                   kind=CriterionKind.MEASUREMENT, full_or_zero=full_or_zero,
                                                   description=description), actor=actor, now=now)
    subjective = s.add_module(rubric, s.ModuleData(code="B", name="主观", weight=Decimal(40)), actor=actor, now=now)
    s.add_criterion(subjective, s.CriterionData(
        code="B1", name="方案设计与架构合理性", maximum="9", step="3", kind=CriterionKind.JUDGEMENT, ladder=True,
        levels=["未提交方案或方案不可行", "方案基本可行，架构存在明显缺陷", "方案合理，架构清晰", "方案优秀，兼顾高可用与成本"]),
        actor=actor, now=now)
    s.add_criterion(subjective, s.CriterionData(
        code="B2", name="界面与用户体验", maximum="6", step="2", kind=CriterionKind.JUDGEMENT, ladder=True,
        levels=["界面不可用", "界面可用但交互混乱", "界面规范、交互顺畅", "界面美观、体验出色"]),
        actor=actor, now=now)
    s.add_criterion(subjective, s.CriterionData(
        code="B3", name="现场答辩", maximum="10", step="0.5", kind=CriterionKind.JUDGEMENT,
        description="表达清晰、回答准确、团队协作。"), actor=actor, now=now)
    s.add_entrants_from_registrations(competition, actor=actor, now=now)
    draw(competition, 1, actor=actor, now=now, rng=random.Random(20261219), prefix="")


def ensure_competition_judging(event: Event, *, judges: list[User], chief: User, actor: User,
                               now: datetime) -> None:
    """Five judges for the competition (王喆 and four more, each with a declared unit for 回避) and the chief judge;
    a panel per group in 决赛: four judges score the judgement criteria (B), one measuring judge the measurement
    criteria (A). Roll call done for 中职组 and 高职组; 中职组 fully scored and submitted, 高职组 partly (drafts of
    some judges), 企业组 not yet — so the tablet, the progress and the results all have something to show."""
    import random
    from decimal import Decimal

    from competition import services as competition_services
    from competition.models import Competition, CriterionKind, Entrant, Group, RollCallSource
    from judging import services as judging
    from judging.models import JudgeProfile, JudgeRole

    competition = db.session.scalar(sa.select(Competition).where(Competition.event_id == event.id,
                                                                 Competition.title == COMPETITION_TITLE))
    if competition is None or db.session.scalar(sa.select(JudgeProfile.id).where(
            JudgeProfile.competition_id == competition.id)):
        return
    final = competition.rounds[0]
    entrants = list(db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)
                                       .order_by(Entrant.position, Entrant.id)))
    school_units = sorted({e.unit for e in entrants if e.unit and not e.unit.endswith(("公司", "集团"))})
    profiles = []
    for i, user in enumerate(judges):  # three judges come from schools that take part: each has exclusions
        declared = [school_units[i * 3 % len(school_units)]] if i < 3 and school_units else ["厦门软件园管理中心"]
        profiles.append(judging.add_judge(competition, judging.JudgeData(
            name=user.name, login=user.login, units=declared, limit_to_event=False), actor=actor, now=now).profile)
    judges = profiles
    judging.add_judge(competition, judging.JudgeData(name=chief.name, login=chief.login, role=JudgeRole.CHIEF,
                                                     limit_to_event=False), actor=actor, now=now)
    criteria = judging.round_criteria(final)
    measurement = [c.id for c in criteria if c.kind == CriterionKind.MEASUREMENT]
    judgement = [c.id for c in criteria if c.kind == CriterionKind.JUDGEMENT]
    groups = {g.name: g for g in db.session.scalars(sa.select(Group).where(Group.competition_id == competition.id))}
    for name, group in groups.items():
        panel = judging.create_panel(competition, judging.PanelData(name=f"{name}评委组", round_id=final.id,
                                                                    group_id=group.id), actor=actor, now=now)
        for position, profile in enumerate(judges):
            share = measurement if position == len(judges) - 1 else judgement  # the last one measures
            judging.add_panel_judge(panel, profile, share, actor=actor, now=now)
        judging.apply_suggestion(panel, actor=actor, now=now)
    rng = random.Random(20261219)
    scored_groups = {"中职组": "submit", "高职组": "drafts"}
    for entrant in entrants:
        group = next((n for n, g in groups.items() if g.id == entrant.group_id), None)
        if group not in scored_groups:
            continue
        competition_services.set_roll_call(entrant, final, True, actor=actor, now=now, source=RollCallSource.SCAN)
        skill = rng.uniform(0.55, 0.95)
        for number, profile in enumerate(judges):
            if scored_groups[group] == "drafts" and number not in (0, len(judges) - 1):
                continue
            seat = judging.judge_seat(profile.user, final.id)
            share = seat.shares.get(entrant.id)
            if not share:
                continue  # 回避: this judge does not score this entrant
            for criterion in criteria:
                if criterion.id not in share:
                    continue
                if criterion.ladder:
                    value = str(max(0, min(3, round(skill * 3 + rng.uniform(-0.8, 0.8)))))
                elif getattr(criterion, "full_or_zero", False):
                    value = str(criterion.maximum) if rng.random() < skill else "0"
                else:
                    steps = int(criterion.maximum / criterion.step)
                    fraction = max(0.0, min(1.0, skill + rng.uniform(-0.12, 0.12)))
                    value = str(criterion.step * Decimal(round(steps * fraction)))
                judging.save_draft(profile.user, round_id=final.id, entrant_id=entrant.id, criterion_id=criterion.id,
                                   value=value, nonce=None, now=now)
            if scored_groups[group] == "submit":
                judging.submit_entrant(profile.user, round_id=final.id, entrant_id=entrant.id, nonce=None, now=now)
    db.session.flush()


def ensure_competition_results(event: Event, *, actor: User, chief: User, now: datetime) -> None:
    """Results of the contest's competition (issue 8): ties broken by module B (主观), then module A (客观), then
    drawn lots; 优秀奖 for every other ranked team; medal points 4/3/2/1; published as provisional results (公示).
    中职组 is fully scored (ranked, with awards); 高职组 and 企业组 are still being scored (listed apart). After
    review the chief judge corrects one measured score of 中职组's third team, so the ranking history has a step."""
    from decimal import Decimal

    from competition import results
    from competition.models import Competition, Criterion, CriterionKind
    from competition.result_models import ChainEnd
    from judging import services as judging
    from judging.models import Score, ScoreState

    competition = db.session.scalar(sa.select(Competition).where(Competition.event_id == event.id,
                                                                 Competition.title == COMPETITION_TITLE))
    if competition is None:
        return
    state = results.get_state(competition.id)
    if state is not None and state.published:
        return
    results.update_settings(competition, results.SettingsData(
        tiebreaks=["module:B", "module:A"], chain_end=ChainEnd.LOTS, lift_ties=True, rest_tier="优秀奖",
        points=["4", "3", "2", "1"]), actor=actor, now=now)
    results.publish(competition, actor=actor, now=now)
    computed = results.standings(competition, now=now)
    results.record_history(competition, computed, now=now)  # the first recorded board
    board = next((b for b in computed.boards if b.has_awards and len(b.ranked) >= 3), None)
    if board is None:
        return
    third = board.ranked[2].entrant.id
    candidates = db.session.execute(
        sa.select(Score, Criterion).join(Criterion, Criterion.id == Score.criterion_id)
        .where(Score.entrant_id == third, Score.state == ScoreState.SUBMITTED,
               Criterion.kind == CriterionKind.MEASUREMENT, Criterion.full_or_zero.is_(False))).all()
    if not candidates:
        return
    score, criterion = max(candidates, key=lambda pair: pair[1].maximum - pair[0].value)
    raised = min(Decimal(criterion.maximum), Decimal(score.value) + Decimal("1.5"))
    raised -= raised % Decimal(criterion.step)
    judging.change_submitted_score(score, str(raised), actor=chief, reason="复核：漏计两个检查点，已更正", now=now)
    results.record_history(competition, results.standings(competition, now=now), now=now)


def ensure_forum_check_ins(event: Event, *, staff: User) -> None:
    """The door on the forum's day: 291 of 316 came to the main forum, most stayed for their afternoon session.

    Each check-in is made with ``now`` set to the moment of the scan (between 08:00 and 08:50, and 13:30–14:10),
    as if the staff had scanned then, so the arrival chart of the live view has a realistic shape.
    """
    import random
    from datetime import timedelta

    from registration.checkin import check_in_registration
    from registration.models import CheckIn, CheckInSource, Registration, RegistrationState

    if db.session.scalar(sa.select(sa.func.count(CheckIn.id)).join(Registration).where(Registration.event_id == event.id)):
        return
    rng = random.Random(291)
    main, first, second = event.sessions[0], event.sessions[1], event.sessions[2]
    attendees = list(db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id, Registration.status == RegistrationState.APPROVED)
        .order_by(Registration.id)))
    came = rng.sample(attendees, 291)
    morning, afternoon = local("2026-11-21 08:00"), local("2026-11-21 13:30")
    for registration in came:
        at = morning + timedelta(seconds=int(rng.triangular(0, 50 * 60, 25 * 60)))
        check_in_registration(event, registration.id, session_id=main.id, actor=staff, now=at,
                              source=CheckInSource.SCAN)
        if rng.random() < 0.85:
            chosen = {c.session_id for c in registration.sessions} & {first.id, second.id}
            session_id = next(iter(chosen), first.id)
            at = afternoon + timedelta(seconds=int(rng.triangular(0, 40 * 60, 25 * 60)))
            check_in_registration(event, registration.id, session_id=session_id, actor=staff, now=at,
                                  source=CheckInSource.SCAN)


def ensure_salon_attendance(salons: list[Event], *, staff: User, actor: User, now: datetime) -> None:
    """Sign-ups and check-ins of the monthly salons (for the statistics of issue 10): 30–50 people each from a pool
    of regulars, so many come back month after month; some of them later sign up for the forum (so the forum has
    returning participants too). A few cancel. About four in five of the confirmed people of a held salon check
    in; held salons are then archived. A salon that is already archived without sign-ups is left as it is."""
    import random
    from datetime import timedelta

    from registration.checkin import check_in_registration
    from registration.models import CheckInSource, Registration, RegistrationState
    from registration.services import SignupData, cancel_registration, register_participant

    unit_names = units()
    forum_people = people(FORUM_ATTENDEES, seed=316)
    # the regulars: 120 of their own and 30 people who also come to the forum (same name, phone and unit)
    pool = [(name, phone, unit_names[(i * 7) % len(unit_names)]) for i, (name, phone)
            in enumerate(people(150, seed=2026)[30:])]
    pool += [(name, phone, unit_names[i % len(unit_names)]) for i, (name, phone) in enumerate(forum_people)
             if 40 <= i < 70]
    for number, salon in enumerate(salons, start=1):
        held = salon.ends_at < now
        has_signups = db.session.scalar(sa.select(sa.func.count(Registration.id))
                                        .where(Registration.event_id == salon.id))
        if has_signups or salon.status == EventState.ARCHIVED:
            if held and salon.status != EventState.ARCHIVED:
                event_services.archive_event(salon, actor=actor, now=now)
            continue
        rng = random.Random(2026_00 + number)
        chosen = rng.sample(pool, rng.randint(30, 50))
        signed = []
        for name, phone, unit in chosen:
            at = salon.starts_at - timedelta(days=rng.randint(1, 14), minutes=rng.randint(0, 600))
            registration, _key = register_participant(
                salon, SignupData(name=name, phone=phone, unit=unit), now=at, ignore_window=True)
            signed.append(registration)
        for registration in signed[-2:]:  # two cancel
            cancel_registration(registration, now=salon.starts_at - timedelta(hours=20), reason="临时有事")
        if held:
            doors = salon.starts_at - timedelta(minutes=30)
            for registration in signed[:-2]:
                if registration.status == RegistrationState.APPROVED and rng.random() < 0.8:
                    at = doors + timedelta(seconds=rng.randint(0, 45 * 60))
                    check_in_registration(salon, registration.id, actor=staff, now=at, source=CheckInSource.SCAN)
            event_services.archive_event(salon, actor=actor, now=now)
