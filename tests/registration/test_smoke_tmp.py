import re
from tests.conftest import csrf_token, login
def test_flow(client, factory, db):
    org = factory.organization(); org_user = factory.user(organization=org, role="organizer")
    ev = factory.event(org, status="published", capacity=1)
    html = client.get(f"/e/{ev.id}/register").get_data(as_text=True)
    assert "报名" in html or "Sign up" in html
    tok = csrf_token(client, f"/e/{ev.id}/register")
    r = client.post(f"/e/{ev.id}/register", data={"csrf_token": tok, "name": "王喆", "phone": "138 0013 8000", "unit": "厦门城市职业学院"})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    page = client.get(r.location).get_data(as_text=True)
    assert "138****8000" in page and "ticket.png" in page
    assert client.get(r.location + "/ticket.png").status_code == 200
    r2 = client.post(f"/e/{ev.id}/register", data={"csrf_token": tok, "name": "李堃", "phone": "13800138000", "unit": "x"})
    assert r2.status_code == 409
    r3 = client.post(f"/e/{ev.id}/register", data={"csrf_token": tok, "name": "李堃", "phone": "12", "unit": "x"})
    assert r3.status_code == 422 and "13800138000" in r3.get_data(as_text=True)
    r4 = client.post(f"/e/{ev.id}/register", data={"csrf_token": tok, "name": "李堃", "phone": "13900139000", "unit": "x"})
    page = client.get(r4.location).get_data(as_text=True)
    assert "1" in page
    login(client, org_user)
    lst = client.get(f"/manage/events/{ev.id}/registrations").get_data(as_text=True)
    assert "王喆" in lst and "李堃" in lst
