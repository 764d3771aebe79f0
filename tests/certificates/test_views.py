"""The certificate pages: overview, design with live preview, issue, one certificate, public verification, API,
participant downloads and the "certificate ready" messages."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from certificates import services, sources
from certificates.models import Certificate, CertificateKind
from tests.certificates.helpers import attended_event, decode_qr_codes, pdf_text, run_tasks
from tests.conftest import NOW, csrf_token, login

PARTICIPATION = CertificateKind.PARTICIPATION


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English (the msgids), so that messages can be checked whatever the catalogs say."""
    client.set_cookie("saihui_lang", "en")


@pytest.fixture()
def forum(db, factory):
    return attended_event(db, factory)


def issued(db, event, organizer, holders=None, kind=PARTICIPATION):
    design = services.ensure_design(event, kind, actor=organizer, now=NOW)
    outcome = services.issue(event, kind, holders or sources.checked_in_holders(event), design=design,
                             actor=organizer, now=NOW)
    db.session.commit()
    return outcome.certificates


def test_overview_design_and_issue_pages(client, db, forum):
    event, organizer, _people = forum
    login(client, organizer)
    page = client.get(f"/manage/events/{event.id}/certificates")
    assert page.status_code == 200
    for kind in ("award", "participation", "training", "appointment"):
        assert f"/certificates/issue/{kind}" in page.get_data(as_text=True)
    html = client.get(f"/manage/events/{event.id}/certificates/designs/participation").get_data(as_text=True)
    assert 'id="design-form"' in html and "preview.png" in html
    assert "glyph-report" in html  # the font check of the likely batch (the checked-in attendees)
    html = client.get(f"/manage/events/{event.id}/certificates/issue/participation").get_data(as_text=True)
    assert "王喆" in html and "赵缺席" not in html  # only people who checked in can be chosen
    assert client.get(f"/manage/events/{event.id}/certificates/designs/medal").status_code == 404


def test_preview_of_the_saved_design_and_of_a_posted_draft(client, db, forum):
    event, organizer, _people = forum
    login(client, organizer)
    base = f"/manage/events/{event.id}/certificates/designs/participation"
    for sample in ("sample", "longest"):
        response = client.get(f"{base}/preview.png?sample={sample}")
        assert response.status_code == 200 and response.mimetype == "image/png"
    token = csrf_token(client, base)
    form = _design_form(client, base)
    form.update({"csrf_token": token, "f-holder-enabled": "y", "f-holder-width": "10"})
    response = client.post(f"{base}/preview.png?sample=sample", data=form)
    assert response.status_code == 200 and response.mimetype == "image/png", response.get_data(as_text=True)
    form["f-qr-x"] = "290"  # off the page
    response = client.post(f"{base}/preview.png", data=form, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 422
    assert any("off the page" in e for e in response.get_json()["errors"])
    assert services.get_design(event, PARTICIPATION) is None  # previews never save


def _design_form(client, path) -> dict:
    """The design form's fields as the page sends them (inputs, selects and textareas)."""
    html = client.get(path).get_data(as_text=True)
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        data[name] = value
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = body.replace("&#34;", '"').replace("&amp;", "&").strip("\n")
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', options) or \
            re.search(r'<option[^>]*value="([^"]*)"', options)
        data[name] = selected.group(1)
    for name in re.findall(r'<input[^>]*type="checkbox"[^>]*name="([^"]+)"[^>]*checked', html):
        data[name] = "y"
    for name in re.findall(r'<input[^>]*name="([^"]+)"[^>]*type="checkbox"(?![^>]*checked)', html):
        data.pop(name, None)
    return {k: v for k, v in data.items() if not k.endswith("-enabled") or v == "y"}


def test_saving_a_design_and_refusing_a_field_off_the_page(client, db, forum):
    event, organizer, _people = forum
    login(client, organizer)
    path = f"/manage/events/{event.id}/certificates/designs/participation"
    form = _design_form(client, path)
    form.update({"base": "portrait", "reset_layout": "1", "number_format": "SH-{year}-{seq:04d}"})
    response = client.post(path, data=form)
    assert response.status_code == 302, re.findall(r'(?:invalid-feedback d-block|alert-danger|text-danger small mb-1)[^>]*>([^<]+)',
                                                   response.get_data(as_text=True))
    design = services.get_design(event, PARTICIPATION)
    assert design.base == "portrait" and design.orientation == "portrait" and design.fields["qr"]["x"] == 25
    form = _design_form(client, path)
    form["f-holder-enabled"] = "y"
    form["f-holder-y"] = "296"
    response = client.post(path, data=form)
    assert response.status_code == 422
    assert "lies (partly) off the page" in response.get_data(as_text=True)
    db.session.expire_all()
    assert services.get_design(event, PARTICIPATION).version == 1  # unchanged


def test_uploading_a_background(client, db, forum):
    from PIL import Image

    event, organizer, _people = forum
    login(client, organizer)
    path = f"/manage/events/{event.id}/certificates/designs/award"
    form = _design_form(client, path)
    form["base"] = "custom"
    not_image = dict(form, background=(io.BytesIO(b"GIF89a nope"), "bg.png"))
    response = client.post(path, data=not_image, content_type="multipart/form-data")
    assert response.status_code == 422 and "not a PNG or JPG" in response.get_data(as_text=True)
    small = io.BytesIO()
    Image.new("RGB", (600, 424), "white").save(small, "PNG")
    small.seek(0)
    response = client.post(path, data=dict(form, background=(small, "small.png")), content_type="multipart/form-data")
    assert response.status_code == 422 and "too coarse" in response.get_data(as_text=True)
    good = io.BytesIO()
    Image.new("RGB", (2000, 1414), (250, 240, 220)).save(good, "JPEG")
    good.seek(0)
    response = client.post(path, data=dict(form, background=(good, "bg.jpg")), content_type="multipart/form-data")
    assert response.status_code == 302
    design = services.get_design(event, CertificateKind.AWARD)
    assert design.base == "custom" and design.background_width == 2000
    big = io.BytesIO(b"\xff\xd8" + b"0" * (9 * 1024 * 1024))
    response = client.post(path, data=dict(form, background=(big, "big.jpg")), content_type="multipart/form-data")
    assert response.status_code == 413


def test_check_before_printing_reports_missing_characters_and_issues_nothing(client, db, forum):
    event, organizer, _people = forum
    login(client, organizer)
    path = f"/manage/events/{event.id}/certificates/issue/award"
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "source": "typed", "names": "王喆\n李𠀀, 某大学",
                                       "order": "source", "action": "check"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "𠀀" in html and "U+20000" in html and "李𠀀" in html
    response = client.post(path, data={"csrf_token": token, "source": "typed", "names": "王喆\n李𠀀, 某大学",
                                       "order": "source", "action": "issue"})
    assert response.status_code == 422 and "empty boxes" in response.get_data(as_text=True)
    response = client.post(path, data={"csrf_token": token, "source": "typed", "names": "王喆\n , 某大学",
                                       "order": "source", "action": "issue"})
    assert response.status_code == 422 and "Line 2 has no name" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_award_batch_before_results_is_refused(client, db, factory):
    from tests.competition.builders import make_competition

    organization = factory.organization()
    organizer = factory.user(organization=organization, role="organizer")
    event = factory.event(organization, kind="competition", status="published")
    competition = make_competition(event, organizer)
    db.session.commit()
    login(client, organizer)
    path = f"/manage/events/{event.id}/certificates/issue/award"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "source": "award",
                                       "competition_id": str(competition.id), "order": "award", "action": "issue"})
    assert response.status_code == 409
    assert "not published yet" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_issue_a_batch_through_the_pages_and_download_everything(app, client, db, forum, tmp_path):
    import zipfile

    event, organizer, people = forum
    login(client, organizer)
    path = f"/manage/events/{event.id}/certificates/issue/participation"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "source": "checked_in",
                                       "order": "name", "action": "issue"})
    assert response.status_code == 302 and "/manage/tasks/" in response.location
    task_id = int(response.location.rstrip("/").split("/")[-1])
    run_tasks(app)
    status = client.get(f"/api/v1/tasks/{task_id}").get_json()["task"]
    assert status["state"] == "done" and status["result"]["count"] == 3, status
    merged = client.get(status["download_url"])
    assert merged.status_code == 200 and merged.mimetype == "application/pdf"
    text = pdf_text(merged.data, tmp_path)
    assert all(name in text for name in ("王喆", "李堃", "张赟")) and "赵缺席" not in text
    zipped = client.get(f"/manage/events/{event.id}/certificates/batches/{task_id}/certificates.zip")
    assert zipped.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert len(names) == 3 and all(n.endswith(".pdf") and "_" in n for n in names)
    assert any(n.endswith("_王喆.pdf") for n in names)
    html = client.get(f"/manage/events/{event.id}/certificates").get_data(as_text=True)
    assert "王喆" in html and "ZIP" in html

    # The participant downloads their own from their sign-up page.
    registration, key = people["王喆"]
    page = client.get(f"/r/{key}").get_data(as_text=True)
    link = re.search(r'href="(/r/[^"]+/certificates/\d+\.pdf)"', page)
    assert link, "no certificate link on the sign-up page"
    own = client.get(link.group(1))
    assert own.status_code == 200 and "王喆" in pdf_text(own.data, tmp_path)
    other_certificate = db.session.scalar(sa.select(Certificate).where(Certificate.holder_name == "李堃"))
    assert client.get(f"/r/{key}/certificates/{other_certificate.id}.pdf").status_code == 404
    absent_key = people["赵缺席"][1]
    assert "/certificates/" not in client.get(f"/r/{absent_key}").get_data(as_text=True)


def test_the_qr_code_opens_a_page_that_says_valid_then_revoked(client, db, forum, tmp_path):
    event, organizer, _people = forum
    certificate = issued(db, event, organizer)[0]
    pdf = services.certificate_pdf(certificate)
    [url] = decode_qr_codes(pdf, tmp_path)
    assert url == f"http://testserver/verify/{certificate.verify_code}"
    page = client.get(url.replace("http://testserver", ""))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-verify-state="valid"' in html
    assert "王喆" in html and certificate.number in html and event.title in html
    assert "13900" not in html and "第1中学" not in html  # nothing beyond what is printed (no phone, no unit)
    api = client.get(f"/api/v1/certificates/{certificate.verify_code}").get_json()
    assert api == {"number": certificate.number, "holder": "王喆", "award": None, "event": event.title,
                   "issued_at": certificate.issued_on.isoformat(), "valid": True, "kind": "participation",
                   "issuer": event.organization.name}

    login(client, organizer)
    detail = f"/manage/events/{event.id}/certificates/{certificate.id}"
    response = client.post(f"{detail}/revoke", data={"csrf_token": csrf_token(client, detail), "reason": "冒名"})
    assert response.status_code == 302
    html = client.get(url.replace("http://testserver", "")).get_data(as_text=True)
    assert 'data-verify-state="revoked"' in html and "冒名" not in html  # the reason is not public
    assert client.get(f"/api/v1/certificates/{certificate.verify_code}").get_json()["valid"] is False
    unknown = client.get("/verify/ZZZZZZZZZZ")
    assert unknown.status_code == 404 and 'data-verify-state="unknown"' in unknown.get_data(as_text=True)
    missing = client.get("/api/v1/certificates/ZZZZZZZZZZ")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_typing_the_number_needs_the_name_too_and_is_rate_limited(app, client, db, forum):
    event, organizer, _people = forum
    certificate = issued(db, event, organizer)[0]
    token = csrf_token(client, "/verify")
    found = client.post("/verify", data={"csrf_token": token, "number": certificate.number, "name": "王喆"})
    assert found.status_code == 200 and 'data-verify-state="valid"' in found.get_data(as_text=True)
    wrong = client.post("/verify", data={"csrf_token": token, "number": certificate.number, "name": "李堃"})
    assert wrong.status_code == 404 and "王喆" not in wrong.get_data(as_text=True)
    assert client.post("/verify", data={"csrf_token": token, "number": "", "name": ""}).status_code == 422
    limit = int(app.config["FIND_RATE_LIMIT"].split()[0])
    codes = [client.post("/verify", data={"csrf_token": token, "number": "X", "name": "Y"}).status_code
             for _ in range(limit)]
    assert codes[-1] == 429


def test_reissue_from_the_page_keeps_the_number(client, db, forum, tmp_path):
    event, organizer, _people = forum
    certificate = issued(db, event, organizer)[0]
    login(client, organizer)
    detail = f"/manage/events/{event.id}/certificates/{certificate.id}"
    response = client.post(f"{detail}/reissue", data={
        "csrf_token": csrf_token(client, detail), "holder_name": "王哲", "unit": "第1中学", "members": "",
        "award": "", "competition": "", "group_name": "", "reason": "错字"})
    assert response.status_code == 302
    html = client.get(detail).get_data(as_text=True)
    assert "王哲" in html and "错字" in html and certificate.number in html
    pdf = client.get(f"{detail}/certificate.pdf")
    assert pdf.status_code == 200 and "王哲" in pdf_text(pdf.data, tmp_path)
    empty = client.post(f"{detail}/reissue", data={"csrf_token": csrf_token(client, detail), "holder_name": " "})
    assert empty.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).holder_name == "王哲"


def test_ready_messages_link_to_a_signed_download(client, db, forum, tmp_path):
    from notifications.models import Message, MessageKind

    event, organizer, _people = forum
    certificates = issued(db, event, organizer)
    login(client, organizer)
    index = f"/manage/events/{event.id}/certificates"
    response = client.post(f"{index}/notify", data={"csrf_token": csrf_token(client, index), "kind": ""})
    assert response.status_code == 302
    messages = db.session.scalars(sa.select(Message).where(Message.kind == MessageKind.CERTIFICATE_READY)
                                  .order_by(Message.id)).all()
    assert len(messages) == 3
    link = re.search(r"http://testserver(/certificates/[^\s]+\.pdf)", messages[0].body).group(1)
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert client.get(link.replace(".pdf", "x.pdf")).status_code == 404  # altered: refused
    services.revoke(db.session.get(Certificate, certificates[0].id), reason="错误", actor=organizer, now=NOW)
    db.session.commit()
    statuses = {client.get(re.search(r"http://testserver(/certificates/[^\s]+\.pdf)", m.body).group(1)).status_code
                for m in messages}
    assert statuses == {200, 410}


def test_calibration_page(client, db, forum, tmp_path):
    event, organizer, _people = forum
    login(client, organizer)
    response = client.get(f"/manage/events/{event.id}/certificates/designs/award/calibration.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "100 %" in pdf_text(response.data, tmp_path) or "100" in pdf_text(response.data, tmp_path)


def test_award_certificates_from_published_results_in_award_order(app, client, db, factory, tmp_path):
    from tests.certificates.helpers import published_results
    from tests.competition.builders import make_competition

    organization = factory.organization()
    organizer = factory.user(organization=organization, role="organizer")
    event = factory.event(organization, kind="competition", status="published")
    competition = make_competition(event, organizer, entrants=4)
    db.session.commit()
    login(client, organizer)
    path = f"/manage/events/{event.id}/certificates/issue/award"
    with published_results({competition.id: ["三等奖", "一等奖", None, "二等奖"]}):
        response = client.post(path, data={"csrf_token": csrf_token(client, path), "source": "award",
                                           "competition_id": str(competition.id), "order": "award",
                                           "action": "issue"})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        run_tasks(app)
    certificates = db.session.scalars(sa.select(Certificate).order_by(Certificate.seq)).all()
    # Numbered in the merged PDF's order (by award): 一等奖 first; the entrant without an award gets nothing.
    assert [(c.holder_name, c.award) for c in certificates] == [("参赛队2", "一等奖"), ("参赛队4", "二等奖"),
                                                               ("参赛队1", "三等奖")]
    assert certificates[0].members == "队员1甲、队员1乙" and certificates[0].group_name == "高职组"
    task_id = certificates[0].task_id
    status = client.get(f"/api/v1/tasks/{task_id}").get_json()["task"]
    text = pdf_text(client.get(status["download_url"]).data, tmp_path)
    assert text.index("参赛队2") < text.index("参赛队4") < text.index("参赛队1")
    assert "一等奖" in text and competition.title in text and "（高职组）" in text


def test_appointment_letters_for_the_judges(app, client, db, factory, tmp_path):
    organization = factory.organization()
    organizer = factory.user(organization=organization, role="organizer")
    factory.user(name="王评委", organization=organization, role="judge")
    event = factory.event(organization, title="2026云计算技能大赛", kind="competition", status="published")
    login(client, organizer)
    path = f"/manage/events/{event.id}/certificates/issue/appointment"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "source": "judges", "role": "评委会委员",
                                       "order": "name", "action": "issue"})
    assert response.status_code == 302
    run_tasks(app)
    letter = db.session.scalar(sa.select(Certificate))
    assert (letter.holder_name, letter.award, letter.kind) == ("王评委", "评委会委员", CertificateKind.APPOINTMENT)
    text = pdf_text(services.certificate_pdf(letter), tmp_path)
    assert "兹聘请王评委为2026云计算技能大赛评委会委员" in text.replace("\n", "").replace(" ", "")
    assert "聘" in text


def test_chosen_people_only(app, client, db, forum):
    event, organizer, people = forum
    login(client, organizer)
    path = f"/manage/events/{event.id}/certificates/issue/training"
    token = csrf_token(client, path)
    absent = client.post(path, data={"csrf_token": token, "source": "selected", "order": "source", "action": "issue",
                                     "registration_ids": [str(people["赵缺席"][0].id)]})
    assert absent.status_code == 422 and "only for people who checked in" in absent.get_data(as_text=True)
    response = client.post(path, data={"csrf_token": token, "source": "selected", "order": "source",
                                       "action": "issue", "registration_ids": [str(people["李堃"][0].id)]})
    assert response.status_code == 302
    run_tasks(app)
    assert [c.holder_name for c in db.session.scalars(sa.select(Certificate))] == ["李堃"]


def test_a_missing_font_is_explained_not_a_500(app, client, db, forum, monkeypatch, tmp_path):
    event, organizer, people = forum
    certificate = issued(db, event, organizer)[0]
    monkeypatch.setitem(app.config, "CERTIFICATE_FONT", str(tmp_path / "no-such-font.ttf"))
    login(client, organizer)
    base = f"/manage/events/{event.id}/certificates"
    page = client.get(f"{base}/designs/participation")
    assert page.status_code == 200 and "fonts-lxgw-wenkai" in page.get_data(as_text=True)
    assert client.get(f"{base}/designs/participation/preview.png").status_code == 503
    assert client.get(f"{base}/{certificate.id}/certificate.pdf").status_code == 503
    path = f"{base}/issue/participation"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "source": "checked_in",
                                       "order": "source", "action": "issue"})
    assert response.status_code == 503
    key = people["王喆"][1]
    assert client.get(f"/r/{key}/certificates/{certificate.id}.pdf").status_code == 503
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 3  # nothing more issued
