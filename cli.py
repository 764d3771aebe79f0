"""Command-line commands: ``flask --app app demo``, ``flask --app app create-admin``."""
from __future__ import annotations

import click
from flask import Flask

from extensions import db


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command():
        """Load the demo data (idempotent) and print the demo logins."""
        from core.types import utcnow
        from demo.data import DEMO_PASSWORD, load_demo

        users = load_demo(now=utcnow())
        db.session.commit()
        click.echo("Demo data loaded. Logins (password for all: %s):" % DEMO_PASSWORD)
        for spec in users:
            click.echo(f"  {spec.login:<24} {spec.name}  — {spec.note}")

    @app.cli.command("create-admin")
    @click.option("--login", required=True, help="Phone or e-mail to log in with.")
    @click.option("--name", required=True, help="Display name.")
    @click.option("--organization", required=True, help="Organization name; created if missing.")
    @click.password_option()
    def create_admin(login: str, name: str, organization: str, password: str):
        """Create an organization admin (for a fresh production install)."""
        import sqlalchemy as sa

        from accounts.models import MembershipRole, Organization
        from accounts.services import AccountError, add_membership, create_user

        org = db.session.scalar(sa.select(Organization).where(Organization.name == organization))
        if org is None:
            org = Organization(name=organization)
            db.session.add(org)
            db.session.flush()
        try:
            user = create_user(login=login, name=name, password=password)
        except AccountError as error:
            raise click.ClickException(error.message) from None
        add_membership(user, org, MembershipRole.ADMIN)
        db.session.commit()
        click.echo(f"Created {user.login} as admin of {org.name}.")

    @app.cli.command("scheduler")
    @click.option("--once", is_flag=True, help="Run every sweep once, advance queued background tasks, and exit.")
    @click.option("--tasks-for", default=60, show_default=True, type=click.IntRange(0, 3600),
                  help="With --once: seconds to spend on background tasks.")
    def scheduler_command(once: bool, tasks_for: int):
        """Run the scheduler (sweeps and background tasks). Production: exactly one, as its own service."""
        from tasks.cli import run_scheduler

        run_scheduler(app, once=once, tasks_for=tasks_for)
