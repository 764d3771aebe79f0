from tests.conftest import login


def test_login_and_dashboard(client, factory):
    org = factory.organization()
    user = factory.user(organization=org, role="organizer")
    factory.event(org, title="厦门信息化论坛")
    login(client, user)
    html = client.get("/manage/").get_data(as_text=True)
    assert "厦门信息化论坛" in html
