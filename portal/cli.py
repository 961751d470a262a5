"""`flask --app wsgi portal …`: operator commands."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from portal.auth.models import Role
from portal.extensions import db


@click.group("portal")
def cli() -> None:
    """Kopir operator commands."""


@cli.command("create-user")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", required=True)
@click.option("--institution", "schac", help="SCHAC code of the user's institution.")
@click.option("--password", help="Leave out to be asked; an empty answer generates one.")
@with_appcontext
def create_user(role: str, email: str, schac: str | None, password: str | None) -> None:
    """Create an account (verified) for a staff member or a student."""
    from email_validator import EmailNotValidError

    from portal.auth.forms import normalize_email
    from portal.auth.services import create_user as make_user
    from portal.institutions.models import Institution

    try:
        email = normalize_email(email)
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="--email") from exc
    institution_id = None
    if schac:
        institution = db.session.scalar(sa.select(Institution).where(Institution.schac == schac))
        if institution is None:
            raise click.BadParameter(f"no institution {schac!r}", param_hint="--institution")
        institution_id = institution.id
    elif role == Role.PARTNER:
        raise click.BadParameter("a partner needs --institution", param_hint="--institution")
    if password is None:
        password = click.prompt(
            "Password (empty to generate)",
            default="",
            hide_input=True,
            confirmation_prompt=True,
            show_default=False,
        )
    if password and len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    try:
        user, password = make_user(
            email, role, password=password or None, institution_id=institution_id
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} with password: {password}")


@cli.command("seed-demo")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=5000,
    show_default=True,
    envvar="FLASK_RUN_PORT",
    help="The port `flask run` serves the demo on, for links when BASE_URL is not set.",
)
@click.option(
    "--base-url",
    help="The portal's address in the demo's letters and e-mails "
    "(default: BASE_URL, else http://127.0.0.1:PORT).",
)
@with_appcontext
def seed_demo(port: int, base_url: str | None) -> None:
    """Load demo institutions, programmes and one account per role (idempotent)."""
    from flask import current_app

    from portal.demo import seed

    base_url = base_url or current_app.config.get("BASE_URL") or f"http://127.0.0.1:{port}"
    if not base_url.startswith(("https://", "http://")):
        raise click.BadParameter(
            "give an address such as http://127.0.0.1:8000", param_hint="--base-url"
        )
    # Letters' QR codes and the e-mails queued here link to where the demo is served.
    configured = current_app.config.get("BASE_URL")
    current_app.config["BASE_URL"] = base_url
    try:
        for line in seed():
            click.echo(line)
        db.session.commit()
    finally:
        current_app.config["BASE_URL"] = configured


@cli.command("worker")
@click.option(
    "--threads",
    type=click.IntRange(1, 32),
    default=2,
    show_default=True,
    help="Tasks run at once (a batch of letters renders on every core whatever this says).",
)
@with_appcontext
def worker(threads: int) -> None:
    """Run the task queue's worker: letters, mail, offer expiry (SIGTERM stops it gently)."""
    from flask import current_app

    from portal.tasks import run_worker

    try:
        run_worker(current_app._get_current_object(), workers=threads)  # type: ignore[attr-defined]
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command("send-mail")
@with_appcontext
def send_mail() -> None:
    """Send the queued e-mail that is due now (the worker does this by itself)."""
    from portal.mail import send_pending

    sent, failed = send_pending(limit=500)
    click.echo(f"sent {sent}, failed {failed}")


@cli.command("issue-offers")
@click.argument("program")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Processes that render (default: one per core)."
)
@click.option(
    "--base-url",
    help="The portal's public address, in the letters' QR codes and e-mails (default: BASE_URL).",
)
@with_appcontext
def issue_offers(program: str, workers: int | None, base_url: str | None) -> None:
    """Issue the offer letters of every accepted applicant of PROGRAM (slug or id)."""
    from flask import current_app

    from portal import jobs
    from portal.mail import external_url_on
    from portal.programs.models import Program

    base_url = base_url or current_app.config.get("BASE_URL")
    if not base_url or not base_url.startswith(("https://", "http://")):
        # A letter keeps its QR code for ever: never print a guessed address in it.
        raise click.UsageError(
            "Set BASE_URL (or pass --base-url), the address people open the portal at, "
            "e.g. https://kopir.example.edu: the letters' QR codes point there."
        )

    query = sa.select(Program).where(Program.slug == program)
    if program.isdigit():
        query = sa.select(Program).where(
            sa.or_(Program.slug == program, Program.id == int(program))
        )
    found = db.session.scalar(query)
    if found is None:
        raise click.BadParameter(f"no programme {program!r}", param_hint="PROGRAM")
    if workers:
        current_app.config["LETTER_WORKERS"] = workers
    try:
        job = jobs.create("issue_offers", program_id=found.id, created_by_id=None)
        job.result = {"verify_prefix": external_url_on(base_url, "offers.verify_form")}
    except jobs.JobBusy as busy:
        raise click.ClickException(
            f"letters are already being issued for {found.slug} (job {busy.job.id})"
        ) from busy
    db.session.commit()
    click.echo(f"Job {job.id}: issuing the letters of {found.slug}")
    with click.progressbar(length=1, label="Letters", show_pos=True) as bar:

        def progress(state: jobs.Job) -> None:
            bar.length = max(state.total, 1)
            bar.update(state.processed - bar.pos)

        # The e-mails announcing the letters link to the same address as their QR codes.
        configured = current_app.config.get("BASE_URL")
        current_app.config["BASE_URL"] = base_url
        try:
            job = jobs.run(job.id, progress=progress)
        finally:
            current_app.config["BASE_URL"] = configured
    click.echo(f"Issued {job.done}, failed {job.failed} (job {job.id}: {job.state}).")
    for failure in job.failures:
        click.echo(f"  application {failure.get('application_id')}: {failure.get('error')}")
    if job.state != jobs.JobState.DONE or job.failed:
        if job.error:
            click.echo(f"Stopped: {job.error}", err=True)
        click.echo("Run the command again to finish the rest.", err=True)
        raise SystemExit(1)


@cli.command("expire-offers")
@with_appcontext
def expire_offers() -> None:
    """Expire offers whose deadline passed unanswered, and promote (the worker does this too)."""
    from portal.jobs import send_queued_mail
    from portal.offers.services import expire_due

    count = expire_due()
    db.session.commit()
    send_queued_mail()
    click.echo(f"Expired {count} offer(s).")
