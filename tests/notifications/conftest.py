"""Fixtures of the notification tests: an organizer's event, sign-ups in a given language, a local SMTP server."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from tests.conftest import NOW
from tests.notifications.smtp_server import SMTPTestServer


@pytest.fixture()
def organizer(factory):
    org = factory.organization("厦门市信息化协会")
    return org, factory.user(organization=org, role="organizer")


@pytest.fixture()
def event(factory, organizer):
    org, _actor = organizer
    return factory.event(org, status="published", capacity=2, title="海峡两岸信息化论坛")


def signup(event, i: int, *, email: str | None = None, language: str = "zh_Hans", name: str | None = None,
           now=NOW, **extra):
    """Sign up through the service, as a participant whose page speaks ``language``."""
    from registration import services as registration_services

    with force_locale(language):
        registration, _key = registration_services.register_participant(
            event, registration_services.SignupData(name=name or f"参会者{i}", phone=f"1390000{i:04d}",
                                                    unit="厦门信息集团", email=email, **extra),
            now=now, ignore_window=True)
    return registration


@pytest.fixture()
def smtp(app):
    """A local SMTP server; the app sends to it while the test runs."""
    server = SMTPTestServer().start()
    saved = {key: app.config.get(key) for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DEFAULT_SENDER", "MAIL_TIMEOUT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DEFAULT_SENDER="赛会 <noreply@saihui.test>",
                      MAIL_TIMEOUT=5)
    try:
        yield server
    finally:
        app.config.update(saved)
        server.stop()
