"""Issuing, numbering, reissue, revoke, designs, sources and verification (certificates.services, .sources)."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from certificates import layout, services, sources
from certificates.models import Certificate, CertificateKind, CertificateStatus, NumberCounter
from core.models import AuditEntry
from tests.certificates.helpers import attended_event
from tests.conftest import NOW

PARTICIPATION = CertificateKind.PARTICIPATION


def data_of(design, **changes) -> services.DesignData:
    values = dict(
        base=design.base, orientation=design.orientation, preprinted=design.preprinted, offset_x=design.offset_x,
        offset_y=design.offset_y, fields=layout.fields_from_dict(design.fields), date_style=design.date_style,
        issue_date=design.issue_date, organizers_text=design.organizers_text, number_format=design.number_format,
        number_scope=design.number_scope,
    )
    values.update(changes)
    return services.DesignData(**values)


def issue_all(db, event, organizer, kind=PARTICIPATION, holders=None):
    design = services.ensure_design(event, kind, actor=organizer, now=NOW)
    outcome = services.issue(event, kind, holders if holders is not None else sources.checked_in_holders(event),
                             design=design, actor=organizer, now=NOW)
    db.session.commit()
    return outcome


def test_only_people_who_checked_in_get_participation_certificates(db, factory):
    event, organizer, people = attended_event(db, factory)
    holders = sources.checked_in_holders(event)
    assert [h.name for h in holders] == ["王喆", "李堃", "张赟"]  # 赵缺席 signed up but did not come
    assert holders[0].key == f"reg:{people['王喆'][0].id}" and holders[0].unit == "第1中学"
    with pytest.raises(sources.HolderError) as caught:
        sources.checked_in_holders(event, registration_ids=[people["王喆"][0].id, people["赵缺席"][0].id])
    assert caught.value.code == "not_checked_in"
    chosen = sources.checked_in_holders(event, registration_ids=[people["李堃"][0].id])
    assert [h.name for h in chosen] == ["李堃"]


def test_an_undone_check_in_does_not_count(db, factory):
    from registration.checkin import undo_check_in
    from registration.models import CheckIn

    event, organizer, people = attended_event(db, factory, names=("王喆", "李堃"), absent=())
    check_in = db.session.scalar(sa.select(CheckIn).where(CheckIn.registration_id == people["李堃"][0].id))
    undo_check_in(check_in, actor=organizer, now=NOW)
    db.session.commit()
    assert [h.name for h in sources.checked_in_holders(event)] == ["王喆"]


def test_issuing_numbers_in_order_and_issuing_twice_duplicates_nothing(db, factory):
    event, organizer, _people = attended_event(db, factory)
    first = issue_all(db, event, organizer)
    assert first.issued == 3 and first.existing == 0
    numbers = [c.number for c in first.certificates]
    year = services.printed_date(event, services.get_design(event, PARTICIPATION)).year
    assert numbers == [f"〔{year}〕参证字第{n:04d}号" for n in (1, 2, 3)]
    codes = {c.verify_code for c in first.certificates}
    assert len(codes) == 3 and all(len(c) == 10 and set(c) <= set(services.VERIFY_ALPHABET) for c in codes)
    again = issue_all(db, event, organizer)
    assert again.issued == 0 and again.existing == 3
    assert [c.number for c in again.certificates] == numbers
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 3
    counter = db.session.scalar(sa.select(NumberCounter))
    assert counter.last_seq == 3 and counter.scope_key == f"year:{year}"
    audit = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "certificates.issued")).all()
    assert len(audit) == 1 and audit[0].details["count"] == 3


def test_a_per_year_sequence_runs_across_events_and_kinds_keep_their_own_series(db, factory):
    event, organizer, _people = attended_event(db, factory)
    other = factory.event(event.organization, title="第二场沙龙", status="published", starts_at=event.starts_at)
    issue_all(db, event, organizer)
    holders = sources.typed_holders("林一\n林二")
    second = issue_all(db, other, organizer, holders=holders)
    assert [c.seq for c in second.certificates] == [4, 5]  # the organization's year series continues
    award = issue_all(db, event, organizer, kind=CertificateKind.AWARD,
                      holders=sources.typed_holders("王喆, 厦门大学, 一等奖"))
    assert award.certificates[0].seq == 1 and "证字第0001号" in award.certificates[0].number


def test_a_per_event_sequence_and_a_clash_between_events_is_refused(db, factory):
    event, organizer, _people = attended_event(db, factory)
    design = services.ensure_design(event, PARTICIPATION, actor=organizer, now=NOW)
    services.save_design(event, PARTICIPATION, data_of(design, number_format="HX-{seq:03d}", number_scope="event"),
                         seen_version=design.version, actor=organizer, now=NOW)
    outcome = issue_all(db, event, organizer)
    assert [c.number for c in outcome.certificates] == ["HX-001", "HX-002", "HX-003"]
    assert outcome.certificates[0].scope_key == f"event:{event.id}"
    other = factory.event(event.organization, title="第二场沙龙", status="published")
    other_design = services.new_design(other, PARTICIPATION)
    with pytest.raises(services.CertificateError) as caught:
        services.save_design(other, PARTICIPATION, data_of(other_design, number_format="HX-{seq:03d}",
                                                           number_scope="event"),
                             seen_version=0, actor=organizer, now=NOW)
    assert caught.value.field == "number_format" and "海峡两岸信息化论坛" in caught.value.message
    db.session.rollback()
    # With the event's number in the format the sequences cannot collide.
    services.save_design(other, PARTICIPATION, data_of(other_design, number_format="HX{event_id}-{seq:03d}",
                                                       number_scope="event"), seen_version=0, actor=organizer, now=NOW)


def test_a_number_taken_by_another_series_is_refused_and_nothing_is_issued(db, factory):
    event, organizer, _people = attended_event(db, factory)
    issue_all(db, event, organizer)  # 〔year〕参证字第0001号 …
    design = services.ensure_design(event, CertificateKind.TRAINING, actor=organizer, now=NOW)
    year = services.printed_date(event, design).year
    # A training design whose literal text prints the same numbers, in a per-event series.
    services.save_design(event, CertificateKind.TRAINING, data_of(
        design, number_format=f"〔{year}〕参证字第{{seq:04d}}号", number_scope="event"),
        seen_version=design.version, actor=organizer, now=NOW)
    db.session.commit()
    with pytest.raises(services.CertificateError) as caught:
        services.issue(event, CertificateKind.TRAINING, sources.checked_in_holders(event),
                       design=services.get_design(event, CertificateKind.TRAINING), actor=organizer, now=NOW)
    assert caught.value.code == "number_taken"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id)).where(
        Certificate.kind == CertificateKind.TRAINING)) == 0


def test_empty_names_and_empty_batches_are_refused(db, factory):
    with pytest.raises(sources.HolderError) as caught:
        sources.typed_holders("王喆\n , 厦门大学\n李堃")
    assert caught.value.code == "empty_name" and "2" in caught.value.message
    with pytest.raises(services.CertificateError):
        services.check_holders([])
    with pytest.raises(services.CertificateError):
        services.check_holders([sources.Holder(key="x", name=" ")])


def test_typed_names():
    holders = sources.typed_holders("王喆, 厦门大学, 一等奖\n\n李堃\t集美大学\n王喆，厦门大学\n张赟；福州大学；评委")
    assert [(h.name, h.unit, h.award) for h in holders] == [
        ("王喆", "厦门大学", "一等奖"), ("李堃", "集美大学", ""), ("张赟", "福州大学", "评委")]
    assert holders[0].key.startswith("name:")
    with pytest.raises(sources.HolderError):
        sources.typed_holders("\n".join(["某"] * 5), max_lines=4)


def test_judges_get_appointment_letters(db, factory):
    organization = factory.organization()
    event = factory.event(organization, status="published")
    factory.user(name="王评委", organization=organization, role="judge")
    chief = factory.user(name="李裁判长", organization=organization, role="chief_judge")
    factory.user(name="赵组织", organization=organization, role="organizer")
    factory.user(name="别家评委", organization=factory.organization(), role="judge")
    holders = sources.judge_holders(event)
    assert sorted((h.name, h.award) for h in holders) == [("李裁判长", "裁判长"), ("王评委", "评委")]
    assert f"user:{chief.id}" in {h.key for h in holders}
    assert {h.award for h in sources.judge_holders(event, "专家组成员")} == {"专家组成员"}


def test_award_batch_before_results_are_published_is_refused(db, factory):
    from competition.models import Competition

    organization = factory.organization()
    event = factory.event(organization, kind="competition", status="published")
    competition = Competition(event_id=event.id, title="云计算")
    db.session.add(competition)
    db.session.commit()
    with pytest.raises(sources.ResultsNotPublished) as caught:
        sources.award_holders(competition)
    assert caught.value.code == "results_not_published" and caught.value.status == 409
    assert "云计算" in caught.value.message


def test_award_holders_come_from_the_published_results(db, factory):
    from tests.certificates.helpers import published_results
    from tests.competition.builders import make_competition

    organization = factory.organization()
    organizer = factory.user(organization=organization, role="organizer")
    event = factory.event(organization, kind="competition", status="published")
    competition = make_competition(event, organizer, entrants=3)
    db.session.commit()
    with published_results({competition.id: ["一等奖", "二等奖", None]}):
        holders = sources.award_holders(competition)
    assert [(h.name, h.award, h.group) for h in holders] == [("参赛队1", "一等奖", "中职组"), ("参赛队2", "二等奖", "高职组")]
    assert holders[0].members == "队员0甲、队员0乙" and holders[0].competition == competition.title
    assert holders[0].key.startswith("entrant:") and holders[0].entrant_id is not None


def test_reissue_keeps_the_number_and_logs_the_change(db, factory):
    event, organizer, _people = attended_event(db, factory)
    certificate = issue_all(db, event, organizer).certificates[0]
    number, code = certificate.number, certificate.verify_code
    services.reissue(certificate, services.HolderChanges(holder_name="王哲", unit="第1中学", members="", award="",
                                                         competition="", group_name=""),
                     reason="姓名写错", actor=organizer, now=NOW)
    db.session.commit()
    db.session.refresh(certificate)
    assert (certificate.holder_name, certificate.number, certificate.verify_code, certificate.revision) == \
        ("王哲", number, code, 2)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "certificate.reissued"))
    assert entry.details["before"] == {"holder_name": "王喆"} and entry.details["after"] == {"holder_name": "王哲"}
    assert entry.details["reason"] == "姓名写错"
    with pytest.raises(services.CertificateError) as empty:
        services.reissue(certificate, services.HolderChanges("  ", "", "", "", "", ""), reason="", actor=organizer,
                         now=NOW)
    assert empty.value.code == "empty_name"
    with pytest.raises(services.CertificateError) as missing:
        services.reissue(certificate, services.HolderChanges("王𠀀", "", "", "", "", ""), reason="",
                         actor=organizer, now=NOW)
    assert missing.value.code == "missing_glyphs" and "𠀀" in missing.value.message


def test_revoke_needs_a_reason_happens_once_and_is_logged(db, factory):
    event, organizer, _people = attended_event(db, factory)
    certificate = issue_all(db, event, organizer).certificates[0]
    with pytest.raises(services.CertificateError):
        services.revoke(certificate, reason="  ", actor=organizer, now=NOW)
    services.revoke(certificate, reason="冒名参会", actor=organizer, now=NOW)
    db.session.commit()
    assert certificate.status == CertificateStatus.REVOKED and certificate.revoke_reason == "冒名参会"
    with pytest.raises(services.CertificateError) as again:
        services.revoke(certificate, reason="again", actor=organizer, now=NOW)
    assert again.value.code == "already_revoked"
    with pytest.raises(services.CertificateError):
        services.reissue(certificate, services.HolderChanges("王喆", "", "", "", "", ""), reason="",
                         actor=organizer, now=NOW)
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "certificate.revoked")) == 1
    # Issuing again leaves the revoked certificate out, and does not make a new one.
    outcome = issue_all(db, event, organizer)
    assert outcome.issued == 0 and len(outcome.revoked) == 1 and len(outcome.certificates) == 2


def test_verification_lookups(db, factory):
    event, organizer, _people = attended_event(db, factory)
    certificate = issue_all(db, event, organizer).certificates[0]
    assert services.find_by_code(certificate.verify_code.lower()) == certificate
    assert services.find_by_code(" " + certificate.verify_code[:5] + "-" + certificate.verify_code[5:]) == certificate
    assert services.find_by_code("NOPE") is None
    assert services.find_by_number(certificate.number, "王喆") == [certificate]
    assert services.find_by_number(certificate.number, "王 喆") == [certificate]
    assert services.find_by_number(certificate.number, "李堃") == []  # the number alone reveals nobody
    assert services.find_by_number(certificate.verify_code, "王喆") == [certificate]
    facts = services.verification_json(certificate)
    assert set(facts) >= {"number", "holder", "award", "event", "issued_at", "valid"}
    assert facts["valid"] is True and facts["holder"] == "王喆" and facts["event"] == event.title
    assert "phone" not in str(facts) and "13900" not in str(facts)


def test_design_validation(db, factory):
    event, organizer, _people = attended_event(db, factory)
    design = services.new_design(event, PARTICIPATION)
    fields = layout.fields_from_dict(design.fields)
    fields["qr"] = layout.Field("qr", x=280, y=180, width=24)  # off the right edge
    with pytest.raises(services.CertificateError) as caught:
        services.save_design(event, PARTICIPATION, data_of(design, fields=fields), seen_version=0, actor=organizer,
                             now=NOW)
    assert caught.value.field == "f-qr" and "297 × 210" in caught.value.message  # off the page of that size
    for changes, field in [({"number_format": "SH-{year}"}, "number_format"),
                           ({"number_format": "SH-{seq}", "number_scope": "year"}, "number_format"),
                           ({"base": "custom"}, "background"), ({"offset_x": 45.0}, "offset_x")]:
        with pytest.raises(services.CertificateError) as caught:
            services.save_design(event, PARTICIPATION, data_of(design, **changes), seen_version=0, actor=organizer,
                                 now=NOW)
        assert caught.value.field == field, changes
    assert services.get_design(event, PARTICIPATION) is None  # nothing saved


def test_saving_twice_from_the_same_version_is_refused(db, factory):
    event, organizer, _people = attended_event(db, factory)
    design = services.ensure_design(event, PARTICIPATION, actor=organizer, now=NOW)
    version = design.version
    services.save_design(event, PARTICIPATION, data_of(design, date_style="plain"), seen_version=version,
                         actor=organizer, now=NOW)
    with pytest.raises(services.CertificateError) as caught:
        services.save_design(event, PARTICIPATION, data_of(design, date_style="chinese"), seen_version=version,
                             actor=organizer, now=NOW)
    assert caught.value.status == 409


def _image(size, mode="RGB", fmt="PNG", color=(250, 240, 220)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else color + (128,)).save(buffer, fmt)
    return buffer.getvalue()


def test_background_uploads_are_checked_and_normalized(db, factory):
    jpeg, width, height = services.normalize_background(_image((3508, 2480)))  # 300 dpi A4 landscape
    assert jpeg[:2] == b"\xff\xd8" and (width, height) == (2480, 1753)
    _jpeg, width, height = services.normalize_background(_image((1400, 1980), mode="RGBA"))  # portrait, transparent
    assert (width, height) == (1400, 1980)
    for raw, code in [
        (b"%PDF-1.4 not an image", "background_type"),
        (_image((1600, 1131), fmt="GIF"), "background_type"),
        (_image((800, 566)), "background_small"),
        (_image((2000, 2000)), "background_ratio"),
        (b"", "background_empty"),
        (b"\x89PNG" + b"0" * (8 * 1024 * 1024), "background_too_large"),
    ]:
        with pytest.raises(services.CertificateError) as caught:
            services.normalize_background(raw)
        assert caught.value.code == code and caught.value.field == "background"


def test_a_custom_design_with_its_background(db, factory):
    event, organizer, _people = attended_event(db, factory)
    design = services.new_design(event, PARTICIPATION)
    saved = services.save_design(event, PARTICIPATION, data_of(design, base="custom"), seen_version=0,
                                 background=_image((1980, 1400)), actor=organizer, now=NOW)
    assert saved.background_sha and saved.orientation == "landscape" and saved.version == 1
    spec = services.design_spec(saved)
    assert spec.background is not None and spec.base == "custom"
    removed = services.save_design(event, PARTICIPATION, data_of(saved, base="custom", preprinted=True),
                                   seen_version=1, remove_background=True, actor=organizer, now=NOW)
    assert removed.background_sha is None and removed.preprinted


def test_placeholder_values_and_printed_date(db, factory):
    event, organizer, _people = attended_event(db, factory)
    design = services.new_design(event, PARTICIPATION)
    assert services.printed_date(event, design) == date(2026, 12, 12)  # the event's last day, Beijing time
    design.issue_date = date(2026, 12, 20)
    values = services.placeholder_values(event, design, holder="王喆", issued_on=date(2026, 12, 20), number="N1",
                                         code="C1")
    assert values["date"] == "二〇二六年十二月二十日" and values["dates"] == "二〇二六年十二月十二日"
    assert values["organizers"] == event.organization.name and values["event"] == event.title


def test_ready_messages_are_queued_once_per_certificate(db, factory):
    from notifications.models import Message, MessageKind

    event, organizer, people = attended_event(db, factory)
    issue_all(db, event, organizer)
    queued, skipped = services.queue_ready_messages(event, None, actor=organizer, now=NOW)
    db.session.commit()
    assert (queued, skipped) == (3, 0)
    again = services.queue_ready_messages(event, PARTICIPATION, actor=organizer, now=NOW)
    assert again == (0, 3)
    messages = db.session.scalars(sa.select(Message).where(Message.kind == MessageKind.CERTIFICATE_READY)).all()
    assert len(messages) == 3
    assert all("/certificates/" in m.body and m.body.count("http://testserver/certificates/") == 1 for m in messages)
