"""Messages to participants: the outbox, templates in their language, reminders, bulk messages, SMTP sending."""
