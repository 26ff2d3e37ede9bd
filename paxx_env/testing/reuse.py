"""Setting a test's database back to the template's state, so a later test can have it.

Emptying the rows a test wrote is much cheaper than cloning the template again, but only
when rows are all it changed. Whether it is so is read from PostgreSQL itself, not guessed:

- Every row PostgreSQL writes carries the id of the transaction that wrote it (`xmin`), and
  ids only grow. The *point* of a database is the next transaction id at the moment it was
  handed to a test. Any row of a system catalog with an id from the point on was written by
  the test: a table, column, index, type, function, schema, comment or large object made or
  changed. A catalog with fewer rows than the template's lost one (something dropped). Either
  way the database is not reused.
- The same two counts on every table the template filled (an `alembic_version` row, seed
  data) tell whether the test changed it; if it did, the database is not reused.
- The tables the template left empty are emptied (`TRUNCATE`), and every sequence is set
  back to the template's value (`setval`).

The counts are compared with those of a database no test has touched yet: the template
itself, read just before it is closed to connections (or, in a process that did not make it,
the first clone).
Planner statistics (`pg_statistic`, which ANALYZE and autovacuum write) are not compared:
they change plans, not results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The next transaction id, as a 32-bit id (the form `xmin` has).
POINT = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint % 4294967296"

#: Whether a row's xmin was written from the point ($1) on. age() counts back from the next
#: transaction id, the same for every call in a query, and handles the wrap-around at 2^32;
#: it gives PostgreSQL's own ids (frozen, bootstrap) the largest age. A row is fresh when it
#: is younger than the point, or as old: 0 < age(xmin) <= age(point). Cheaper per row than
#: comparing the ids as numbers (a text cast each).
FRESH = "age(xmin) <= age($1::bigint::text::xid)"

#: The catalogs of this database (not the shared ones), but the planner's statistics.
CATALOGS = """
SELECT format('pg_catalog.%I', c.relname) FROM pg_class c
 WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r' AND NOT c.relisshared
   AND c.relname NOT IN ('pg_statistic', 'pg_statistic_ext_data')
 ORDER BY 1
"""

#: The user's tables (not partitioned parents: their partitions are tables too).
TABLES = """
SELECT format('%I.%I', n.nspname, c.relname), c.oid
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY 1
"""

#: The database's own entries in the shared catalogs: its settings and comment (which a
#: clone does not have), and whether its pg_database row was rewritten (ALTER DATABASE).
DATABASE = f"""
SELECT -1,
       (SELECT count(*) FROM pg_db_role_setting WHERE setdatabase = d.oid)
       + (SELECT count(*) FROM pg_shdescription
           WHERE objoid = d.oid AND classoid = 'pg_database'::regclass),
       (SELECT count(*) FROM pg_database WHERE oid = d.oid AND {FRESH})
  FROM pg_database d WHERE d.datname = current_database()
"""

#: Foreign keys between those tables: (the referencing table, the referenced one).
FOREIGN_KEYS = "SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f'"

#: Every sequence: its value, or NULL when nextval was never called (then its start).
SEQUENCES = """
SELECT s.seqrelid::bigint, pg_sequence_last_value(s.seqrelid), s.seqstart
  FROM pg_sequence s ORDER BY 1
"""


@dataclass(frozen=True)
class Reference:
    """What the template left: the check to run on a used database, and how to set it back.

    `check` answers, for relation number i: its rows, and its rows written from the point on
    (-1 is the database itself). `tables` answers the same for the user's tables only.
    """

    check: str
    tables: str
    #: relation number -> its rows in the template (catalogs and the tables it filled)
    rows: dict[int, int]
    #: relation number -> the name of a table the template left empty
    emptied: dict[int, str]
    #: `SELECT setval(...)` for every sequence, or "" when there is none
    sequences: str
    #: A table the template filled refers to one it left empty: TRUNCATE ... CASCADE could
    #: empty the filled one, so such a database is never reused.
    reusable: bool


async def read_reference(connection: Any) -> Reference:
    """The reference, read from the template or a clone no test has touched (asyncpg).

    A clone starts with no settings or comment of its own (CREATE DATABASE copies neither),
    whichever of the two the reference is read from: its DATABASE count is 0.
    """
    catalogs = [row[0] for row in await connection.fetch(CATALOGS)]
    tables = [(row[0], row[1]) for row in await connection.fetch(TABLES)]
    parts = [_counted(i, name) for i, name in enumerate(catalogs)]
    parts += [_counted(len(catalogs) + i, name) for i, (name, _) in enumerate(tables)]
    counts = {row[0]: row[1] for row in await connection.fetch(" UNION ALL ".join(parts), 0)}
    rows = {-1: 0, **{i: counts[i] for i in range(len(catalogs))}}
    emptied, filled = {}, set()
    for i, (name, oid) in enumerate(tables, start=len(catalogs)):
        if counts[i]:
            rows[i] = counts[i]
            filled.add(oid)
        else:
            emptied[i] = name
    empty_oids = {oid for _, oid in tables if oid not in filled}
    keys = await connection.fetch(FOREIGN_KEYS)
    reusable = not any(row[0] in filled and row[1] in empty_oids for row in keys)
    check = [_counted(i, name) for i, name in enumerate(catalogs)]
    user = [_counted(i, tables[i - len(catalogs)][0]) for i in rows if i >= len(catalogs)]
    user += [_any_row(i, name) for i, name in emptied.items()]
    return Reference(
        check=" UNION ALL ".join([*check, DATABASE, *user]),
        tables=" UNION ALL ".join(user),
        rows=rows,
        emptied=emptied,
        sequences=await _sequences(connection),
        reusable=reusable,
    )


async def reset(connection: Any, reference: Reference, point: int) -> bool:
    """Set the database back to the template's state; False when that is not possible.

    `point`: the next transaction id when the database was handed out. On False the
    database is to be dropped.
    """
    if not reference.reusable:
        return False
    written = []
    for number, rows, fresh in await _fetch(connection, reference.check, point):
        if number in reference.emptied:
            if rows:
                written.append(reference.emptied[number])
        elif rows != reference.rows[number] or fresh:
            return False
    if written:
        await connection.execute(f"TRUNCATE {', '.join(written)} CASCADE")
        # A trigger ON TRUNCATE of the user's may have written rows: look again.
        for number, rows, _ in await _fetch(connection, reference.tables, point):
            if rows != reference.rows.get(number, 0):
                return False
    if reference.sequences:
        await connection.execute(reference.sequences)
    return True


async def _fetch(connection: Any, query: str, point: int) -> Any:
    """The rows of `query`, which uses the point as $1 unless it only checks empty tables."""
    return await connection.fetch(query, *([point] if "$1" in query else []))


def _counted(number: int, name: str) -> str:
    return f"SELECT {number}, count(*), count(*) FILTER (WHERE {FRESH}) FROM {name}"


def _any_row(number: int, name: str) -> str:
    return f"SELECT {number}, (SELECT count(*) FROM (SELECT FROM {name} LIMIT 1) AS one), 0"


async def _sequences(connection: Any) -> str:
    """`SELECT setval(oid, value, is_called), ...` for every sequence, as it is now."""
    calls = []
    for oid, last, start in await connection.fetch(SEQUENCES):
        value, called = (start, "false") if last is None else (last, "true")
        calls.append(f"setval({int(oid)}::regclass, {int(value)}, {called})")
    return "SELECT " + ", ".join(calls) if calls else ""
