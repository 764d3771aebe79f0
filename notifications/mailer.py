"""Talking to the SMTP server: one connection per sending round, short timeouts, errors sorted by what they mean.

- ``ServerFailure``: the server cannot be reached or will not take mail from us at all (refused connection, timeout,
  TLS or login failure, wrong sender). Every message waits and is retried with backoff.
- ``MessageFailure``: this one message was refused for now (a 4xx reply); it is retried, the others go on.
- ``PermanentFailure``: this message is refused for good (a 5xx reply for its recipient or content); it is failed
  at once, visible to the organizer.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr


class ServerFailure(Exception):
    pass


class MessageFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config) -> MailSettings | None:
        """None when no MAIL_SERVER is configured (messages are then kept in the outbox)."""
        server = (config.get("MAIL_SERVER") or "").strip()
        if not server:
            return None
        use_ssl = _bool(config.get("MAIL_USE_SSL", False))
        port = config.get("MAIL_PORT") or (465 if use_ssl else 25)
        return cls(
            server=server, port=int(port), use_tls=_bool(config.get("MAIL_USE_TLS", False)), use_ssl=use_ssl,
            username=config.get("MAIL_USERNAME") or None, password=config.get("MAIL_PASSWORD") or None,
            sender=config.get("MAIL_DEFAULT_SENDER") or None, timeout=float(config.get("MAIL_TIMEOUT", 10)),
        )

    @property
    def from_address(self) -> str | None:
        if self.sender:
            return self.sender
        if self.username and "@" in self.username:
            return self.username
        return None


def build_email(*, sender: str, recipient: str, recipient_name: str, subject: str, body: str,
                message_id: int | None = None) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = sender
    email["To"] = formataddr((recipient_name, recipient)) if recipient_name else recipient
    email["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    email["Message-ID"] = make_msgid(idstring=f"saihui.{message_id}" if message_id else "saihui", domain=domain)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(body)
    return email


class Mailer:
    """Sends messages over one SMTP connection, opened on first use and closed by ``close``."""

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.server}:{s.port}"
        try:
            if s.use_ssl:
                connection = smtplib.SMTP_SSL(s.server, s.port, timeout=s.timeout,
                                              context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(s.server, s.port, timeout=s.timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise ServerFailure(f"cannot connect to {where}: {error}") from error
        try:
            connection.ehlo()
            if s.use_tls:
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if s.username:
                connection.login(s.username, s.password or "")
        except (OSError, smtplib.SMTPException) as error:
            _quietly_close(connection)
            raise ServerFailure(f"{where} refused the session: {_describe(error)}") from error
        return connection

    def send(self, *, recipient: str, recipient_name: str, subject: str, body: str, message_id: int | None = None
             ) -> None:
        sender = self.settings.from_address
        if not sender:
            raise ServerFailure("MAIL_DEFAULT_SENDER is not set")
        email = build_email(sender=sender, recipient=recipient, recipient_name=recipient_name, subject=subject,
                            body=body, message_id=message_id)
        if self._connection is None:
            self._connection = self._connect()
        try:
            self._connection.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {_describe(error)}") from error
            raise MessageFailure(f"recipient refused for now: {_describe(error)}") from error
        except smtplib.SMTPDataError as error:
            if error.smtp_code >= 500:
                raise PermanentFailure(f"message refused: {_describe(error)}") from error
            raise MessageFailure(f"message refused for now: {_describe(error)}") from error
        except smtplib.SMTPNotSupportedError as error:  # e.g. a non-ASCII address on a server without SMTPUTF8
            raise PermanentFailure(f"the server cannot take this address: {error}") from error
        except (OSError, smtplib.SMTPException) as error:  # disconnected, timeout, sender refused …
            self.close()
            raise ServerFailure(f"{self.settings.server}:{self.settings.port}: {_describe(error)}") from error

    def close(self) -> None:
        if self._connection is not None:
            _quietly_close(self._connection)
            self._connection = None


def _quietly_close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        try:
            connection.close()
        except OSError:
            pass


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{address}: {code} {_text(text)}" for address, (code, text) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
