"""The ``doorstep`` command: database, accounts, demo data, the optimiser alone, serving.

Commands open their own app from the environment (``Settings.from_env``), or use
the app passed as click's ``obj`` (tests do that). Each command is one
transaction that it commits. Errors a user can fix are one readable line on
stderr and exit 1 (2 for a bad ``plan`` input), never a traceback; progress
bars go to stderr, results to stdout.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import date as Date
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

if TYPE_CHECKING:
    from flask import Flask

    from doorstep.seed import DemoHospital

ROLES_HELP = "patient, nurse, courier, pharmacist, dispatcher or admin"
PASSWORD_MIN = 8  # as POST /users


class InputError(click.ClickException):
    """A problem file that cannot be used: exit 2, like a usage error."""

    exit_code = 2


class DoorstepGroup(click.Group):
    """Turns the errors a user can act on into one readable line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        from doorstep.errors import DomainError
        from doorstep.geography import GeographyConfigError

        try:
            return super().invoke(ctx)
        except GeographyConfigError as exc:
            raise click.ClickException(str(exc)) from None
        except DomainError as exc:
            fields = "".join(f"\n  {path}: {' '.join(msgs)}" for path, msgs in exc.errors.items())
            raise click.ClickException(exc.detail + fields) from None
        except SQLAlchemyError as exc:
            raise click.ClickException(_database_problem(exc)) from None


@click.group(cls=DoorstepGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show the INFO logs (serving shows them anyway).")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Doorstep: dispatch for hospitals' home nursing visits and prescription deliveries."""
    ctx.meta["doorstep.verbose"] = verbose


# --- database ----------------------------------------------------------------------------

@cli.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Apply the migrations, then seed the home-care catalogue."""
    app = get_app()
    click.echo(upgrade_database(app, revision))


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the latest one."""
    from doorstep import migrate

    app = get_app()
    at = migrate.current(app.extensions["doorstep.engine"])
    click.echo(f"database: {at or 'empty (never migrated)'}; head: {', '.join(migrate.heads())}")


@db.command("check")
def db_check() -> None:
    """Fail when the models differ from what the migrations build (run before committing models)."""
    from doorstep import migrate

    found = migrate.differences_from_head()
    if found:
        click.echo("The migrations do not build the models; missing from the migrations:", err=True)
        for difference in found:
            click.echo(f"  {difference}", err=True)
        raise click.ClickException("write a revision: doorstep db revision -m 'what changed'")
    click.echo("The migrations build exactly the models.")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What changed, e.g. 'add stop notes'.")
@click.option("--rev-id", default=None, help="A chosen revision id (default: random).")
def db_revision(message: str, rev_id: str | None) -> None:
    """Autogenerate a revision from the models (review it by hand before committing)."""
    from doorstep import migrate

    click.echo(migrate.autogenerate(message, rev_id=rev_id))


def upgrade_database(app: Flask, revision: str = "head") -> str:
    from doorstep import migrate
    from doorstep.db import session
    from orders.catalogue import seed_catalogue

    settings = app.config["SETTINGS"]
    click.echo(f"Migrating {_safe_url(settings.database_url)} to {revision} ...", err=True)
    migrate.upgrade(settings.database_url, revision)
    with app.app_context():
        added = seed_catalogue()
        session.commit()
    return (f"Database at revision {migrate.current(app.extensions['doorstep.engine'])}; "
            f"catalogue: {added} items added.")


# --- accounts ----------------------------------------------------------------------------

@cli.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, help=f"One of {ROLES_HELP}.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--worker", "worker_id", type=int, help="Worker id (nurse and courier accounts).")
@click.option("--pharmacy", "pharmacy_id", type=int, help="Pharmacy id (pharmacist accounts).")
@click.option("--name", default=None, help="The patient's name (patient accounts).")
@click.option("--phone", default=None, help="The patient's phone (patient accounts).")
def users_create(username: str, role: str, password_stdin: bool, worker_id: int | None,
                 pharmacy_id: int | None, name: str | None, phone: str | None) -> None:
    """Create an account; a patient account gets a patient record."""
    from doorstep.accounts import create_user
    from doorstep.db import session

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < PASSWORD_MIN:
        raise click.ClickException(f"The password needs at least {PASSWORD_MIN} characters.")
    app = get_app()
    with app.app_context():
        user = create_user(username, password, role, worker_id=worker_id, pharmacy_id=pharmacy_id,
                           name=name, phone=phone)
        session.commit()
        click.echo(f"Created {role} account {username!r} (user id {user.id}).")


# --- demo data ---------------------------------------------------------------------------

@cli.group()
def seed() -> None:
    """Demo data."""


@seed.command("demo")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The demo day, YYYY-MM-DD (default: tomorrow, local time).")
def seed_demo_command(day: datetime | None) -> None:
    """A demo hospital: six districts, two pharmacies, 12 nurses, 8 couriers and a day of orders."""
    app = get_app()
    with app.app_context():
        hospital = seed_hospital(app, day.date() if day else None)
    click.echo("\n".join(accounts_table(hospital)))


def seed_hospital(app: Flask, day: Date | None) -> DemoHospital:
    """Seed in the current app context with a progress bar; commits."""
    from tqdm import tqdm

    from doorstep.db import session
    from doorstep.seed import STEPS, demo_date, seed_demo

    existing = demo_date()
    if existing is not None:  # before the progress bar; seed_demo refuses too
        raise click.ClickException(f"Demo data already exists (seeded for {existing}); start from an empty "
                                   "database to seed it again.")
    day = day or datetime.now(ZoneInfo(app.config["SETTINGS"].timezone)).date() + timedelta(days=1)
    with tqdm(total=STEPS, desc="seeding", unit="step", file=sys.stderr, dynamic_ncols=True) as bar:
        def progress(stage: str) -> None:
            bar.set_description(stage, refresh=False)
            bar.update(1)

        hospital = seed_demo(day, progress=progress)
        bar.set_description("committing")
        session.commit()
    counts = hospital.counts
    click.echo(f"Seeded the demo hospital for {hospital.date}: {counts['nurses']} nurses, {counts['couriers']} "
               f"couriers, {counts['patients']} patients, {counts['care_orders']} care orders "
               f"({counts['care_orders_accepted']} accepted), {counts['delivery_orders']} delivery orders "
               f"({counts['delivery_orders_ready']} ready, {counts['cold_chain']} cold chain).")
    return hospital


def accounts_table(hospital: DemoHospital) -> list[str]:
    from doorstep.demo import table

    rows = [(a.role, a.username, a.password, a.who) for a in hospital.accounts]
    return ["", "Demo accounts (the passwords are shown this once):", "",
            *table(("role", "username", "password", "who"), rows), ""]


# --- the optimiser alone -----------------------------------------------------------------

@cli.command("plan")
@click.argument("problem", metavar="PROBLEM.json")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds to search, at most (default: the document's options, else 5).")
@click.option("--seed", "seed_", type=int, default=None, help="Random seed (default: the document's).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the plan here instead of stdout.")
def plan_command(problem: str, time_limit: float | None, seed_: int | None, out: Path | None) -> None:
    """Solve a problem document (docs/dispatch-problem.md) and print the plan. Use - for stdin.

    A malformed problem prints the invalid_problem document on stdout and exits 2.
    """
    from tqdm import tqdm

    from dispatch.search import solve_document

    doc = _read_problem(problem)
    with tqdm(total=100, desc="solving", unit="%", file=sys.stderr, dynamic_ncols=True,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}") as bar:
        def progress(fraction: float, message: str) -> None:
            bar.n = round(100 * fraction)
            bar.set_postfix_str(message[:60], refresh=False)
            bar.refresh()

        result = solve_document(doc, time_limit_s=time_limit, seed=seed_, on_progress=progress)
    if result.get("status") == "invalid_problem":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        raise InputError(f"{problem} is not a valid problem ({len(result.get('errors', []))} errors, listed "
                         "on stdout).")
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    summary = result.get("summary", {})
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    click.echo(f"{summary.get('assigned', 0)} tasks assigned, {summary.get('unassigned', 0)} unassigned, "
               f"travel {summary.get('travel_time', 0) / 60:.0f} min" + (f"; plan written to {out}" if out else ""),
               err=True)


def _read_problem(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        click.echo(json.dumps({"version": 1, "status": "invalid_problem",
                               "errors": [{"path": "$", "message": message}]}, indent=2))
        raise InputError(f"{path} is {message}.") from None


# --- geography -------------------------------------------------------------------------

@cli.group()
def routing() -> None:
    """Geography: which district a point is in, travel times between places."""


@routing.command("district")
@click.argument("lat", type=float)
@click.argument("lon", type=float)
@click.option("--crs", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84", show_default=True,
              help="The coordinates' system: GPS/OpenStreetMap (wgs84), AMap/Tencent/WeChat (gcj02), Baidu (bd09).")
def routing_district(lat: float, lon: float, crs: str) -> None:
    """Print the served district of a point (its code, then its names); exit 1 outside every district."""
    from routing.crs import to_wgs84
    from routing.geo import check_lat_lon

    try:
        check_lat_lon(lat, lon)
        lat, lon = to_wgs84(lat, lon, crs)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    index = _district_index()
    code = index.locate(lat, lon)
    if code is None:
        raise click.ClickException(f"({lat:.6f}, {lon:.6f}) is outside every served district "
                                   f"({', '.join(index.codes)}).")
    district = index.district(code)
    click.echo(f"{code}\t{district.name}\t{district.name_zh}")


def _district_index() -> Any:
    """The deployment's districts: ``DOORSTEP_DISTRICTS_FILE`` if set, else the shipped ones.

    The app's own index when there is an app (tests pass one); otherwise the file
    alone, so a look-up needs no database, broker or instance folder.
    """
    import os

    from flask import Flask

    from doorstep.geography import districts, load_districts

    app = click.get_current_context().find_root().obj
    if isinstance(app, Flask):
        return districts(app)
    return load_districts(os.environ.get("DOORSTEP_DISTRICTS_FILE") or None)


@routing.command("matrix")
@click.argument("locations", metavar="LOCATIONS.json")
@click.option("--mode", type=click.Choice(["car", "ebike", "walking"]), default="car", show_default=True,
              help="How the worker travels: nurses drive (car), couriers ride (ebike).")
def routing_matrix(locations: str, mode: str) -> None:
    """Print the travel tables between LOCATIONS by the configured engine. Use - for stdin.

    LOCATIONS.json is {"locations": [{"id", "lat", "lon"}, ...]} in WGS-84 degrees; the
    output is {"durations": seconds, "distances": metres}, row i from location i.
    DOORSTEP_ROUTING_ENGINE and DOORSTEP_ROUTING_URL choose geodesic, OSRM or Valhalla.
    """
    from tqdm import tqdm

    from routing.tables_json import write_tables_json

    points = _read_locations(locations)
    provider = _travel()
    with tqdm(total=0, desc=f"asking {provider.engine_name}", unit="request", file=sys.stderr,
              dynamic_ncols=True, disable=provider.engine is None) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        durations, distances = provider.arrays(points, mode, on_progress=progress)
    sys.stdout.flush()
    write_tables_json(sys.stdout.buffer, durations, distances)  # straight from numpy: fast
    sys.stdout.buffer.flush()


def _travel() -> Any:
    """The app's travel provider when there is an app (tests pass one); otherwise one from the
    environment alone, so a matrix needs no database, broker or instance folder."""
    import os

    from flask import Flask

    from doorstep.settings import Settings
    from doorstep.travel import TRAVEL, TravelConfigError, make_travel

    app = click.get_current_context().find_root().obj
    if isinstance(app, Flask) and TRAVEL in app.extensions:
        return app.extensions[TRAVEL]
    env = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY") or "unused: a matrix signs no tokens, " * 2}
    try:
        return make_travel(Settings.from_env(env))
    except (TravelConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _read_locations(path: str) -> list[tuple[float, float]]:
    """``(lat, lon)`` of each location in a LOCATIONS.json, or exit 2 naming the first bad field."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    items = doc.get("locations") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise InputError(f'{path}: locations: required, a list of {{"id", "lat", "lon"}} objects.')
    points, seen = [], set()
    for k, item in enumerate(items):
        where = f"{path}: locations[{k}]"
        if not isinstance(item, dict):
            raise InputError(f"{where}: must be an object with id, lat and lon.")
        ident = item.get("id")
        if not isinstance(ident, str | int) or isinstance(ident, bool) or ident == "":
            raise InputError(f"{where}.id: required, a string or an integer.")
        if ident in seen:
            raise InputError(f"{where}.id: {ident!r} is used by an earlier location.")
        seen.add(ident)
        for field, limit in (("lat", 90), ("lon", 180)):
            value = item.get(field)
            if not isinstance(value, int | float) or isinstance(value, bool) or not -limit <= value <= limit:
                raise InputError(f"{where}.{field}: required, a number of degrees in [-{limit}, {limit}].")
        points.append((float(item["lat"]), float(item["lon"])))
    return points


# --- running it --------------------------------------------------------------------------

@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """The web app and a Celery worker together (Ctrl-C stops both)."""
    from doorstep import migrate
    from doorstep.serve import celery_worker

    app = get_app()
    if migrate.current(app.extensions["doorstep.engine"]) is None:
        raise click.ClickException("The database has no tables yet: run `doorstep db upgrade` first.")
    _check_port(host, port)
    with celery_worker(app.config["SETTINGS"]):
        _serve_web(app, host, port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Stop after printing the plan.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Migrate, seed the demo hospital, plan its day on a real worker, print the plan, serve."""
    from sqlalchemy import select

    from doorstep.db import session
    from doorstep.demo import PlanningFailed, finished_plan, plan_summary, plan_through_worker
    from doorstep.models import User
    from doorstep.seed import actor_of, demo_date
    from doorstep.serve import celery_worker

    app = get_app()
    settings = app.config["SETTINGS"]
    if not no_serve:
        _check_port(host, port)
    click.echo(upgrade_database(app))
    hospital = None
    with app.app_context():
        day = demo_date()
        if day is None:
            hospital = seed_hospital(app, None)
            day = hospital.date
        else:
            click.echo(f"The demo hospital is already seeded for {day} (its passwords were shown then).")
    worker_log = settings.instance_path / "worker.log"
    click.echo(f"Starting a Celery worker (log: {worker_log}) ...", err=True)
    with celery_worker(settings, log_path=worker_log) as worker:
        with app.app_context():
            plan = finished_plan(day)
            if plan is not None:
                click.echo(f"Showing the plan already made for {day}.")
            else:
                dispatcher = session.scalar(select(User).where(User.username == "demo_dispatcher"))
                actor = actor_of(dispatcher) if dispatcher else None
                try:
                    plan = plan_through_worker(day, actor, worker, timeout_s=settings.task_time_limit_s + 60)
                except PlanningFailed as exc:
                    raise click.ClickException(f"Planning failed: {exc}. See {worker_log}.") from None
            click.echo("\n".join(["", *plan_summary(plan)]))
        if hospital is not None:
            click.echo("\n".join(accounts_table(hospital)))
        if no_serve:
            click.echo(f"Serve it with `doorstep serve --port {port}`, then sign in to "
                       f"http://{host}:{port}/admin/login as demo_dispatcher.")
        else:
            _serve_web(app, host, port)


def _serve_web(app: Flask, host: str, port: int) -> None:
    from doorstep.serve import run_web

    logging.getLogger().setLevel(logging.INFO)  # request and worker logs are what a server shows
    base = f"http://{host}:{port}"
    click.echo(f"\nServing on {base} (Ctrl-C to stop)\n  API docs:          {base}/api/v1/docs\n"
               f"  dispatcher board:  {base}/admin/login (the demo's dispatcher: demo_dispatcher)\n"
               f"  health:            {base}/healthz\n")
    run_web(app, host, port)


def _check_port(host: str, port: int) -> None:
    from doorstep.serve import check_port_free

    try:
        check_port_free(host, port)
    except OSError as exc:
        raise click.ClickException(f"Cannot listen on {host}:{port} ({exc.strerror}); try --port "
                                   f"{port + 1}.") from None


# --- helpers -----------------------------------------------------------------------------

def get_app() -> Flask:
    """The app given as click's ``obj`` (tests), else one built from the environment (once)."""
    from flask import Flask

    ctx = click.get_current_context().find_root()
    if not isinstance(ctx.obj, Flask):
        from doorstep.app import create_app

        ctx.obj = create_app()
        # create_app logs at INFO for servers; a command's own output is enough, unless -v.
        if not ctx.meta.get("doorstep.verbose"):
            logging.getLogger().setLevel(logging.WARNING)
    return ctx.obj


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _database_problem(exc: Exception) -> str:
    """A database error in one line, without row values (they may be personal data)."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    first_line = message.splitlines()[0] if message else ""
    if "no such table" in first_line or ("relation" in first_line and "does not exist" in first_line):
        return "The database has no tables yet: run `doorstep db upgrade` first."
    kind = type(exc).__name__
    if kind == "OperationalError":
        return f"Cannot use the database: {first_line[:200]}"
    return f"Database error ({kind}); nothing was saved."


def main() -> None:
    cli(prog_name="doorstep")


if __name__ == "__main__":
    main()
