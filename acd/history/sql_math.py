"""SQL arithmetic that SQLite and PostgreSQL spell differently (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class floor_int(FunctionElement[int]):  # noqa: N801 - SQLAlchemy's naming for a function
    """floor(x) as an integer; SQLite's CAST truncates, which is floor for the x >= 0
    the history's arithmetic gives it (PostgreSQL's CAST would round)."""

    type = BigInteger()
    inherit_cache = True


@compiles(floor_int)
def _floor_default(element: floor_int, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor({compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(floor_int, "sqlite")
def _floor_sqlite(element: floor_int, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"
