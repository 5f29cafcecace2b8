"""SQLAlchemy's dialect compliance suite, run against the ``prestoha://`` dialect.

What Trino cannot do is closed in :mod:`prestoha.sqlalchemy.requirements`, each with its
reason. A few tests assume something of every database that no requirement switches off;
the classes below narrow those, each with its reason:

- ``TRINO``: Trino itself behaves otherwise;
- ``EMULATOR``: Trino supports it, the coordinator emulator these tests run on does not yet.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Numeric
from sqlalchemy.testing.suite import *  # noqa: F403
from sqlalchemy.testing.suite import (
    ComponentReflectionTest as _ComponentReflectionTest,
)
from sqlalchemy.testing.suite import (
    ComponentReflectionTestExtra as _ComponentReflectionTestExtra,
)
from sqlalchemy.testing.suite import FutureTableDDLTest as _FutureTableDDLTest
from sqlalchemy.testing.suite import HasTableTest as _HasTableTest
from sqlalchemy.testing.suite import LongNameBlowoutTest as _LongNameBlowoutTest
from sqlalchemy.testing.suite import NameDenormalizeTest as _NameDenormalizeTest
from sqlalchemy.testing.suite import ReturningGuardsTest as _ReturningGuardsTest
from sqlalchemy.testing.suite import SameNamedSchemaTableTest as _SameNamedSchemaTableTest
from sqlalchemy.testing.suite import TableDDLTest as _TableDDLTest
from sqlalchemy.testing.suite import TableViaSelectTest as _TableViaSelectTest
from sqlalchemy.testing.suite import TrueDivTest as _TrueDivTest

from prestoha.sqlalchemy.requirements import EMULATOR_GAPS

TRINO_FOLDS_CASE = (
    "Trino stores every identifier, quoted or not, in lower case: names that come back from "
    "the server (raw SQL, driver column names) are lower-cased"
)
TRINO_NO_INDEXES = "Trino has no indexes to reflect"

EMULATOR_VIEWS = EMULATOR_GAPS["views"]
EMULATOR_NOT_NULL = (
    "emulator: information_schema.columns says is_nullable = 'YES' for NOT NULL columns "
    "(Trino's memory and Iceberg connectors keep NOT NULL)"
)
EMULATOR_SCHEMA_QUALIFIED = (
    "emulator: a column qualified by schema and table (SELECT s.t.c FROM s.t) fails in the "
    "lake catalog with 'Referenced table not found' (Trino resolves it)"
)
EMULATOR_COMMENT_NULL = (
    "emulator: COMMENT ON TABLE t IS NULL is a syntax error (Trino removes the comment)"
)
EMULATOR_RETURNING = (
    "emulator: INSERT/UPDATE/DELETE ... RETURNING runs and ignores RETURNING (Trino refuses "
    "the syntax, which this test expects)"
)
EMULATOR_DECIMAL = (
    "emulator: decimal division is computed in double precision and returns a double "
    "(Trino divides decimals exactly and returns a decimal)"
)


def _skip_when(
    reason: str, when: Callable[..., bool] = lambda **kw: True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Skip a suite test (all of its parameter sets, or those ``when`` picks) with a reason."""

    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        # wraps() keeps the suite's parametrisation marks and fixture names.
        @functools.wraps(test)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            if when(**kwargs):
                pytest.skip(reason)
            return test(self, *args, **kwargs)

        return run

    return decorate


class NameDenormalizeTest(_NameDenormalizeTest):
    test_cols_driver_cols = _skip_when(
        TRINO_FOLDS_CASE,
        lambda stmt_type, use_driver_cols, **kw: (
            not (stmt_type.core_select and not use_driver_cols)
        ),
    )(_NameDenormalizeTest.test_cols_driver_cols)


class LongNameBlowoutTest(_LongNameBlowoutTest):
    test_long_convention_name = _skip_when(TRINO_NO_INDEXES, lambda type_, **kw: type_ == "ix")(
        _LongNameBlowoutTest.test_long_convention_name
    )


class HasTableTest(_HasTableTest):
    @classmethod
    def define_views(cls, metadata: Any) -> None:
        """No views: the emulator's lake catalog has none (SQLAlchemy creates them even when
        the views requirement is closed)."""

    test_has_table_view = _skip_when(EMULATOR_VIEWS)(_HasTableTest.test_has_table_view)
    test_has_table_view_schema = _skip_when(EMULATOR_VIEWS)(
        _HasTableTest.test_has_table_view_schema
    )


class ComponentReflectionTest(_ComponentReflectionTest):
    test_get_view_names = _skip_when(EMULATOR_VIEWS)(_ComponentReflectionTest.test_get_view_names)
    test_get_multi_columns = _skip_when(EMULATOR_NOT_NULL)(
        _ComponentReflectionTest.test_get_multi_columns
    )
    test_schema_cache = _skip_when(EMULATOR_SCHEMA_QUALIFIED)(
        _ComponentReflectionTest.test_schema_cache
    )


class ComponentReflectionTestExtra(_ComponentReflectionTestExtra):
    test_nullable_reflection = _skip_when(EMULATOR_NOT_NULL)(
        _ComponentReflectionTestExtra.test_nullable_reflection
    )


class TableDDLTest(_TableDDLTest):
    test_create_table_schema = _skip_when(EMULATOR_SCHEMA_QUALIFIED)(
        _TableDDLTest.test_create_table_schema
    )
    test_drop_table_comment = _skip_when(EMULATOR_COMMENT_NULL)(
        _TableDDLTest.test_drop_table_comment
    )


class FutureTableDDLTest(_FutureTableDDLTest):
    test_create_table_schema = _skip_when(EMULATOR_SCHEMA_QUALIFIED)(
        _FutureTableDDLTest.test_create_table_schema
    )
    test_drop_table_comment = _skip_when(EMULATOR_COMMENT_NULL)(
        _FutureTableDDLTest.test_drop_table_comment
    )


class SameNamedSchemaTableTest(_SameNamedSchemaTableTest):
    test_simple_join_both_tables = _skip_when(EMULATOR_SCHEMA_QUALIFIED)(
        _SameNamedSchemaTableTest.test_simple_join_both_tables
    )
    test_simple_join_whereclause_only = _skip_when(EMULATOR_SCHEMA_QUALIFIED)(
        _SameNamedSchemaTableTest.test_simple_join_whereclause_only
    )
    test_subquery = _skip_when(EMULATOR_SCHEMA_QUALIFIED)(_SameNamedSchemaTableTest.test_subquery)


class TableViaSelectTest(_TableViaSelectTest):
    test_without_metadata = _skip_when(EMULATOR_SCHEMA_QUALIFIED)(
        _TableViaSelectTest.test_without_metadata
    )


class ReturningGuardsTest(_ReturningGuardsTest):
    test_insert_single = _skip_when(EMULATOR_RETURNING)(_ReturningGuardsTest.test_insert_single)
    test_update_single = _skip_when(EMULATOR_RETURNING)(_ReturningGuardsTest.test_update_single)
    test_delete_single = _skip_when(EMULATOR_RETURNING)(_ReturningGuardsTest.test_delete_single)


def _beyond_double(type_: Any = None, **kw: Any) -> bool:
    # 38 significant digits: a double cannot hold the exact quotient.
    return isinstance(type_, Numeric) and type_.precision == 38 and type_.scale == 0


class TrueDivTest(_TrueDivTest):
    test_truediv_numeric = _skip_when(EMULATOR_DECIMAL)(_TrueDivTest.test_truediv_numeric)
    test_truediv_divisor = _skip_when(EMULATOR_DECIMAL, _beyond_double)(
        _TrueDivTest.test_truediv_divisor
    )
