"""``GET /api/v1/competitions/<id>/leaderboard?group=<id>`` exactly as SPEC says: the shape, names and units only
where the caller may see them (after publishing, or for organizers), totals as decimal strings with the
competition's precision; and the version screens poll."""
from __future__ import annotations

import pytest

from accounts.services import create_api_token
from competition import results
from competition.result_models import BeforePublish
from tests.competition.results_builders import build_scored, submit_scores
from tests.conftest import NOW

ENTRANT_KEYS = {"rank", "code", "name", "unit", "total", "award"}


@pytest.fixture()
def built(db, factory):
    entrants = [("星火队", "福州职业技术学院", "高职组"), ("海燕队", "泉州信息工程学院", "高职组"),
                ("青松队", "厦门工商旅游学校", "中职组"), ("晨光队", "漳州职业技术学院", "高职组")]
    scored = build_scored(db, factory, entrants=entrants, places=1)
    submit_scores(db, scored, {"星火队": {"A1": "85"}, "海燕队": {"A1": "91.5"}, "青松队": {"A1": "77"}})
    return scored


def url(built, group=None) -> str:
    base = f"/api/v1/competitions/{built.competition.id}/leaderboard"
    return base if group is None else f"{base}?group={group}"


def bearer(db, user) -> dict:
    _token, secret = create_api_token(user, name="大屏", now=NOW)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_shape_before_publishing_is_an_empty_list(client, built):
    response = client.get(url(built, built.groups["高职组"].id))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["competition"] == {"id": built.competition.id, "title": built.competition.title}
    assert data["group"] == {"id": built.groups["高职组"].id, "name": "高职组", "key": f"g{built.groups['高职组'].id}"}
    assert data["published"] is False and data["entries"] == [] and data["incomplete"] == []


def test_codes_only_before_publishing_when_the_organizer_chooses(db, client, built):
    results.update_settings(built.competition, results.SettingsData(before_publish=BeforePublish.CODES),
                            actor=built.organizer, now=NOW)
    db.session.commit()
    data = client.get(url(built, built.groups["高职组"].id)).get_json()
    assert data["published"] is False
    assert [set(e) for e in data["entries"]] == [{"rank", "code", "total", "award"}] * 2
    assert [(e["rank"], e["total"]) for e in data["entries"]] == [(1, "91.5"), (2, "85.0")]
    assert data["incomplete"] == [{"code": data["incomplete"][0]["code"]}]
    body = client.get(url(built, built.groups["高职组"].id)).get_data(as_text=True)
    for hidden in ("海燕队", "泉州信息工程学院", "晨光队"):
        assert hidden not in body


def test_after_publishing_names_units_totals_and_awards(db, client, built):
    results.publish(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    data = client.get(url(built, built.groups["高职组"].id)).get_json()
    assert data["published"] is True and data["final"] is False and data["frozen"] is False
    assert data["group"] == {"id": built.groups["高职组"].id, "name": "高职组", "key": f"g{built.groups['高职组'].id}"}
    assert all(set(e) == ENTRANT_KEYS for e in data["entries"])
    assert [(e["rank"], e["name"], e["unit"], e["total"]) for e in data["entries"]] == [
        (1, "海燕队", "泉州信息工程学院", "91.5"), (2, "星火队", "福州职业技术学院", "85.0")]
    assert all(isinstance(e["total"], str) for e in data["entries"])
    assert data["incomplete"][0]["name"] == "晨光队"
    # without group: the first group's board
    assert client.get(url(built)).get_json()["group"]["name"] == "高职组"
    assert client.get(url(built, built.groups["中职组"].id)).get_json()["entries"][0]["name"] == "青松队"


def test_organizers_see_names_before_publishing(db, client, built, factory):
    data = client.get(url(built, built.groups["高职组"].id), headers=bearer(db, built.organizer)).get_json()
    assert data["published"] is False
    assert [e["name"] for e in data["entries"]] == ["海燕队", "星火队"]
    judge = built.judges[0]  # a judge of the competition is not an organizer: the public view
    data = client.get(url(built, built.groups["高职组"].id), headers=bearer(db, judge)).get_json()
    assert data["entries"] == []
    outsider = factory.user("outsider@example.org", organization=factory.organization("别的协会"),
                            role="organizer")
    data = client.get(url(built, built.groups["高职组"].id), headers=bearer(db, outsider)).get_json()
    assert data["entries"] == []


def test_precision_places(db, client, factory):
    scored = build_scored(db, factory, entrants=[("甲", "A校", None), ("乙", "B校", None)], judges=3, places=0)
    submit_scores(db, scored, {"甲": {"A1": ["80", "81", "81"]}, "乙": {"A1": ["70.5", "70", "70"]}})
    results.publish(scored.competition, actor=scored.organizer, now=NOW)
    db.session.commit()
    data = client.get(url(scored)).get_json()
    assert data["group"] == {"id": None, "name": None, "key": "all"}
    assert [e["total"] for e in data["entries"]] == ["81", "70"]  # 80.67 → 81, 70.17 → 70


def test_groups_unknown_bad_and_overall(db, client, built):
    results.publish(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    response = client.get(url(built, 999999))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_group"
    response = client.get(url(built, "abc"))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_group"
    assert client.get(url(built, "overall")).status_code == 404
    state = results.get_state(built.competition.id)
    results.update_settings(built.competition, results.SettingsData(overall=True, tiebreaks=[],
                                                                    rest_tier=state.rest_tier), actor=built.organizer,
                            now=NOW)
    db.session.commit()
    data = client.get(url(built, "overall")).get_json()
    assert [e["name"] for e in data["entries"]] == ["海燕队", "星火队", "青松队"]


def test_unknown_competition_or_unpublished_event(db, client, built, factory):
    assert client.get("/api/v1/competitions/999999/leaderboard").status_code == 404
    draft = build_scored(db, factory, entrants=[("甲", "A校", None)], event_status="draft",
                         organization=built.organization, organizer=built.organizer, title="小程序赛项")
    response = client.get(url(draft))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get(url(draft), headers=bearer(db, built.organizer)).status_code == 200


def test_version_moves_with_what_the_public_sees(db, client, built):
    def version():
        response = client.get(f"/api/v1/competitions/{built.competition.id}/leaderboard/version")
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        return response.get_json()["version"]

    hidden = version()
    submit_scores(db, built, {"晨光队": {"A1": "60"}})
    assert version() == hidden  # nothing is shown yet: a new score does not show through the version
    results.publish(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    published = version()
    assert published != hidden
    submit_scores(db, built, {"晨光队": {"A1": "61"}})
    live = version()
    assert live != published
    results.freeze(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    frozen = version()
    submit_scores(db, built, {"晨光队": {"A1": "99"}})
    assert version() == frozen
    data = client.get(url(built, built.groups["高职组"].id)).get_json()
    assert data["frozen"] is True and data["version"] == frozen
    assert [e["name"] for e in data["entries"]] == ["海燕队", "星火队", "晨光队"]
    assert data["entries"][2]["total"] == "61.0"
