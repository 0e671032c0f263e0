"""Database wiring: one engine per app, a scoped session, the declarative Base.

Transactions belong to the caller (a view through ``unit_of_work``, a Celery
task, a command): service functions add and flush, never commit, so a use case
and its history, audit and idempotency rows land together or not at all.
Work for Celery is queued with ``enqueue_after_commit`` and sent only once the
transaction that made it necessary has committed.
"""
from __future__ import annotations

import functools
import time
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import (
    JSON,
    DateTime,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapper,
    Session,
    make_transient_to_detached,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every database: stored as UTC, read back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Doorstep stores aware datetimes only")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON, list[Any]: JSON}


session: scoped_session[Session] = scoped_session(sessionmaker(expire_on_commit=False))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    engine = create_engine(url)
    _ping_connections_left_idle(engine)
    return engine


PING_AFTER_IDLE_S = 10.0
"""A pooled connection idle this long is checked before use. SQLAlchemy's ``pool_pre_ping``
checks at every checkout: a round trip per request, about a twelfth of a busy web worker's
time on order intake. A connection in steady use has just proved itself; one that sat idle
may have been closed by the server, a proxy or a failover meanwhile."""


def _ping_connections_left_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - the pool replaces the connection and tries again
            raise DisconnectionError("an idle connection did not answer") from exc


def init_app(app: Any) -> None:
    settings = app.config["SETTINGS"]
    if settings.database_url.startswith("sqlite"):
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    app.extensions["doorstep.engine"] = engine
    session.remove()
    session.configure(bind=engine)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        session.remove()


def enqueue_after_commit(sess: Session, send: Callable[[], Any]) -> None:
    """Run ``send`` (e.g. ``lambda: task.delay(id)``) once the transaction commits."""
    sess.info.setdefault("after_commit", []).append(send)


# Append-only rows -------------------------------------------------------------------------
# The audit log, the outbox and the stored idempotent answers are written with every change and
# never read back in the request that wrote them. Through the ORM each costs its unit of work
# (state tracking, dependency sort, one flush step per mapper), about a third of a care order's
# CPU; queued here they are inserted with Core (on PostgreSQL all in one statement), when the transaction
# commits, or earlier when the session runs a statement (as autoflush would), so a query in the
# same transaction still sees them. A rollback drops them with the rest.
PENDING_ROWS = "doorstep.pending_rows"


def add_row(table: Table, **values: Any) -> None:
    """Queue one row of an append-only table for the current transaction (see above).

    Python-side column defaults (``at=utcnow``) are filled in now: a multi-row INSERT inside
    a WITH would leave them to the database, which has none.
    """
    for column in table.columns:
        if column.default is not None and column.name not in values:
            default = column.default
            values[column.name] = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
    current = session()
    if not current.in_transaction():
        current.begin()  # so that a rollback before any statement still drops the row (after_soft_rollback)
    current.info.setdefault(PENDING_ROWS, {}).setdefault((table, tuple(sorted(values))), []).append(values)


def _write_pending_rows(sess: Session) -> None:
    pending = sess.info.pop(PENDING_ROWS, None)
    if not pending:
        return
    sess.flush()  # rows they refer to (a new user, a new order) go first
    connection = sess.connection()
    if connection.dialect.name != "postgresql":
        for (table, _keys), rows in pending.items():
            connection.execute(insert(table), rows)  # executemany, one statement per table
        return
    shape = tuple((table, keys, len(rows)) for (table, keys), rows in pending.items())
    params = {f"r{n}_{key}": value for n, row in enumerate(r for rows in pending.values() for r in rows)
              for key, value in row.items()}
    connection.execute(_rows_in_one_statement(shape), params)


@functools.lru_cache(maxsize=256)
def _rows_in_one_statement(shape: tuple[tuple[Table, tuple[str, ...], int], ...]) -> Any:
    """One INSERT per table, all but the last inside WITH (PostgreSQL's data-modifying CTEs): one
    round trip. Built once per shape (which tables, which columns, how many rows) and with named
    parameters, so SQLAlchemy compiles it once too (a multi-row VALUES it compiles each time)."""
    inserts, n = [], 0
    for table, keys, count in shape:  # a table's rows in one VALUES list: their ids follow the order they came
        rows = [{key: bindparam(f"r{n + i}_{key}", type_=table.c[key].type) for key in keys} for i in range(count)]
        inserts.append(insert(table).values(rows if count > 1 else rows[0]))  # one row: cacheable
        n += count
    ctes = [statement.cte(f"pending_{n}") for n, statement in enumerate(inserts[:-1])]
    return inserts[-1].add_cte(*ctes) if ctes else inserts[-1]


# New entities written at once ----------------------------------------------------------------
# The unit of work spends more on one new order than the database does: state tracking, a
# dependency sort, and for joined-table inheritance (``orders`` + ``care_orders``) one INSERT per
# table, each its own round trip. ``insert_now`` writes such an object's rows with Core, on
# PostgreSQL in one statement, and hands the object back as if the session had loaded it.


def insert_now(obj: Any, *, only_if: Any = None, params: dict[str, Any] | None = None) -> Any:
    """Insert a new mapped object now, with Core, and attach it to the session as persistent.

    Column defaults are filled in as the unit of work would (the polymorphic identity, the
    version counter, ``created_at=utcnow``), the new primary key is set, and the object is
    attached with every column loaded, so reading it, serialising it or changing it later (a
    versioned UPDATE) costs no further query. Relationships not set stay unloaded, as after a
    flush. The statement runs through the session, so its autoflush (and the queued rows above)
    goes first. Only for entities without mapper events on insert (none would run); raises
    ``ValueError`` for a composite primary key.

    ``only_if``: a SQL condition, built once (e.g. a module constant: the statement is cached per
    condition), with its named parameters in ``params``. The rows are written only where it
    holds, judged in the same statement on PostgreSQL (a round trip less than asking first);
    otherwise nothing is written, the object stays transient, and the answer is None.
    """
    plan = _insert_plan(sa_inspect(type(obj)))
    values = obj.__dict__  # a transient object's own state: written directly, committed below
    bound = dict(params or {})
    for key, default, binds in plan.columns:
        if key not in values:
            values[key] = default() if default is not None else None
        for bind in binds:
            bound[bind] = values[key]
    current = session()
    if values[plan.key] is None and current.get_bind().dialect.name == "postgresql":
        statement = _insert_rows_in_one_statement(plan.tables, plan.key_column, only_if)
        new_key = current.execute(statement, bound).scalar()
        if new_key is None:
            return None
        values[plan.key] = new_key
    else:
        if only_if is not None and not current.execute(select(only_if), bound).scalar():
            return None
        for statement, returns_key in plan.per_table(values[plan.key] is None):
            result = current.execute(statement, bound)
            if returns_key:
                values[plan.key] = result.scalar_one()
                bound.update(dict.fromkeys(plan.key_binds, values[plan.key]))  # the tables below refer to it
    make_transient_to_detached(obj)  # every column as committed: no UPDATE follows, no reload
    current.add(obj)
    return obj


class _InsertPlan:
    """What ``insert_now`` needs of a mapped class, worked out once: each column attribute with
    its default and the parameters it fills, and the statements."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        if len(mapper.primary_key) != 1:
            raise ValueError(f"insert_now: {mapper.class_.__name__} has a composite primary key")
        self.key = mapper.get_property_by_column(mapper.primary_key[0]).key
        self.key_column = mapper.primary_key[0].key
        self.columns = [(prop.key, _default(mapper, prop), tuple(_bind_name(c) for c in prop.columns))
                        for prop in mapper.column_attrs]
        self.key_binds = next(binds for key, _d, binds in self.columns if key == self.key)
        self.tables = tuple(m.local_table for m in reversed(list(mapper.iterate_to_root())))

    def per_table(self, key_unknown: bool) -> list[tuple[Any, bool]]:
        """One INSERT per table, base first; the first returns the new key when it is not known."""
        return [(_insert_row(table, key_unknown and n == 0), key_unknown and n == 0)
                for n, table in enumerate(self.tables)]


@functools.lru_cache(maxsize=64)
def _insert_plan(mapper: Mapper[Any]) -> _InsertPlan:
    return _InsertPlan(mapper)


def _default(mapper: Mapper[Any], prop: Any) -> Callable[[], Any] | None:
    """The value the unit of work would give an unset column attribute, as a function; None for NULL."""
    if mapper.version_id_col is not None and mapper.version_id_col in prop.columns:
        first = mapper.version_id_generator(None)  # type: ignore[operator]
        return lambda: first
    for column in prop.columns:
        default = column.default
        if default is not None:
            if default.is_callable:  # type: ignore[attr-defined]
                return functools.partial(default.arg, None)  # type: ignore[attr-defined]
            return lambda value=default.arg: value  # type: ignore[attr-defined]
    return None


def _bind_name(column: Any) -> str:
    return f"{column.table.name}__{column.key}"


@functools.lru_cache(maxsize=64)
def _insert_row(table: Table, returning_key: bool) -> Any:
    """One table's INSERT; with ``returning_key``, without the key, which the database assigns and returns."""
    columns = [c for c in table.c if not (returning_key and c.primary_key)]
    statement = insert(table).values({c.key: bindparam(_bind_name(c), type_=c.type) for c in columns})
    return statement.returning(*table.primary_key.columns) if returning_key else statement


@functools.lru_cache(maxsize=64)
def _insert_rows_in_one_statement(tables: tuple[Table, ...], key_name: str, only_if: Any) -> Any:
    """``WITH new_row AS (INSERT INTO base ... RETURNING id) INSERT INTO sub (id, ...) SELECT
    new_row.id, ... FROM new_row RETURNING id``: each table below the base takes the base's
    new key (PostgreSQL checks the foreign keys at the statement's end). With ``only_if`` the
    base row is ``INSERT ... SELECT ... WHERE <only_if>``: no row there, none below. Built once
    per class and condition, with named parameters, so SQLAlchemy compiles it once."""
    base, *below = tables
    first = _insert_row(base, True)
    if only_if is not None:
        columns = [c for c in base.c if not c.primary_key]
        first = (insert(base).from_select([c.key for c in columns], select(
            *(bindparam(_bind_name(c), type_=c.type) for c in columns)).where(only_if))
            .returning(*base.primary_key.columns))
    if not below:
        return first
    new_row = first.cte("new_row")
    key = new_row.c[key_name]
    inserts = [insert(table).from_select(
        [c.key for c in table.c],
        select(*(key if c.primary_key else bindparam(_bind_name(c), type_=c.type) for c in table.c)))
        for table in below]
    *between, last = inserts
    ctes = [new_row, *(statement.cte(f"new_row_{n}") for n, statement in enumerate(between, 1))]
    return last.add_cte(*ctes).returning(*last.table.primary_key.columns)


@event.listens_for(Session, "before_commit")
def _rows_before_commit(sess: Session) -> None:
    _write_pending_rows(sess)


@event.listens_for(Session, "do_orm_execute")
def _rows_before_statement(state: Any) -> None:
    if state.session.autoflush and PENDING_ROWS in state.session.info:
        _write_pending_rows(state.session)


@event.listens_for(Session, "after_commit")
def _send_after_commit(sess: Session) -> None:
    pending = sess.info.pop("after_commit", [])
    for send in pending:
        send()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(sess: Session, previous_transaction: Any) -> None:
    """Every ``rollback()``, also one before any statement ran (no database rollback then)."""
    if not previous_transaction.nested:
        sess.info.pop("after_commit", None)
        sess.info.pop(PENDING_ROWS, None)
