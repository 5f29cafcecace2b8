# mypy: allow-untyped-calls
"""What SQLAlchemy's dialect suite may expect of Trino through ``prestoha://``.

Four kinds of switches, each with its reason:

- ``NOT_IN_TRINO``: closed, Trino does not have it;
- ``OPENED``: SQLAlchemy leaves it off by default, Trino has it (and the suite proves it);
- ``DIALECT_GAPS``: Trino has it, the dialect does not do it yet;
- ``EMULATOR_GAPS``: Trino has it, the coordinator emulator the tests run on does not yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.testing import exclusions
from sqlalchemy.testing.requirements import SuiteRequirements

__all__ = ["DIALECT_GAPS", "EMULATOR_GAPS", "NOT_IN_TRINO", "OPENED", "Requirements"]

#: Requirement -> why Trino cannot meet it.
NOT_IN_TRINO: dict[str, str] = {
    # constraints and keys
    # foreign_key_ddl stays open: the dialect accepts a ForeignKey and leaves it out of
    # CREATE TABLE, so a column typed by its foreign key still gets its type.
    "foreign_keys": "Trino has no foreign key constraints",
    "foreign_key_constraint_reflection": "Trino has no foreign key constraints",
    "self_referential_foreign_keys": "Trino has no foreign key constraints",
    "on_update_cascade": "Trino has no foreign key constraints",
    "recursive_fk_cascade": "Trino has no foreign key constraints",
    "primary_key_constraint_reflection": "Trino has no primary key constraints",
    "unique_constraint_reflection": "Trino has no unique constraints",
    "named_constraints": "Trino has no named constraints",
    "implicitly_named_constraints": "Trino has no constraints to name",
    "duplicate_key_raises_integrity_error": "Trino enforces no primary or unique key",
    # indexes
    "index_reflection": "Trino has no indexes",
    "indexes_with_ascdesc": "Trino has no indexes",
    "reflect_indexes_with_ascdesc": "Trino has no indexes",
    # generated keys
    "autoincrement_insert": "Trino has no auto-increment or identity columns",
    "autoincrement_without_sequence": "Trino has no auto-increment or identity columns",
    "implements_get_lastrowid": "Trino has no row ids to return after an INSERT",
    # temporary objects
    "temporary_tables": "Trino has no temporary tables",
    "temp_table_reflection": "Trino has no temporary tables",
    # types and syntax
    "datetime_microseconds": "DateTime compiles to TIMESTAMP, whose precision in Trino is 3",
    "time_microseconds": "Time compiles to TIME, whose precision in Trino is 3",
    "sql_expression_limit_offset": "Trino's LIMIT/OFFSET take a literal or a ?, not an expression",
    # SQLAlchemy leaves these closed already; the reasons say why they stay so.
    "fetch_expression": "Trino's FETCH FIRST takes a literal or a ?, not an expression",
    "timestamp_microseconds": "TIMESTAMP without a precision is timestamp(3) in Trino",
    "unicode_ddl": "Trino folds identifiers to lower case, so 'Unitéble2' is found as 'unitéble2'",
    "savepoints": "Trino has no savepoints",
    "two_phase_transactions": "Trino has no two-phase commit",
    "sequences": "Trino has no sequences",
    "identity_columns": "Trino has no identity columns",
    "computed_columns": "Trino has no computed columns",
    "server_defaults": "Trino columns have no DEFAULT",
    "delete_from": "Trino has no DELETE ... USING / multi-table DELETE",
    "update_from": "Trino has no UPDATE ... FROM",
    "supports_distinct_on": "Trino has no DISTINCT ON",
    "temp_table_names": "Trino has no temporary tables",
    "temporary_views": "Trino has no temporary views",
}

#: Requirement -> what Trino has that the dialect (trino's, under prestoha) does not do yet.
DIALECT_GAPS: dict[str, str] = {
    "json_type": "JSON values are bound as varchar; Trino inserts into json only via json_parse",
    "uuid_data_type": "UUIDs are bound as varchar; Trino inserts into uuid only via a CAST",
    "array_type": "nested ARRAY values are rendered one level too deep",
    "datetime_literals": "date and time literals render as plain strings, not DATE '...'",
    "datetime_interval": "Interval literals do not render, and interval arithmetic is untyped",
    "time_timezone": "a time with a zone is bound as time(6), not time with time zone",
}

#: Requirement -> what the coordinator emulator lacks that Trino has.
EMULATOR_GAPS: dict[str, str] = {
    "fetch_ties": "the emulator ignores FETCH FIRST ... WITH TIES (Trino keeps the ties)",
    "precision_numerics_many_significant_digits": (
        "the emulator divides decimals in double precision (Trino divides them exactly)"
    ),
    "views": "the emulator's catalogs refuse CREATE VIEW (Trino's memory and Iceberg have views)",
    "view_reflection": "the emulator's catalogs refuse CREATE VIEW",
    "view_column_reflection": "the emulator's catalogs refuse CREATE VIEW",
    "create_or_replace_view": "the emulator's catalogs refuse CREATE VIEW",
}


#: Requirement -> what Trino offers that SQLAlchemy leaves off by default.
OPENED: dict[str, str] = {
    "schema_create_delete": "CREATE SCHEMA and DROP SCHEMA",
    "comment_reflection": "COMMENT ON TABLE / COLUMN, in system.metadata and information_schema",
    "comment_reflection_full_unicode": "comments are varchar, any Unicode",
    "ctes": "WITH ... SELECT",
    "window_functions": "OVER (PARTITION BY ... ORDER BY ...)",
    "intersect": "INTERSECT",
    "except_": "EXCEPT",
    "table_value_constructor": "VALUES (...), (...) as a relation",
    "nullsordering": "ORDER BY ... NULLS FIRST / LAST",
    "boolean_col_expressions": "boolean expressions as select columns",
    "table_ddl_if_exists": "CREATE TABLE IF NOT EXISTS, DROP TABLE IF EXISTS",
    "create_table_as": "CREATE TABLE ... AS SELECT",
    "tuple_in": "(a, b) IN ((1, 2), (3, 4))",
    "date_historic": "dates before 1970",
    "datetime_historic": "timestamps before 1970",
    "mod_operator_as_percent_sign": "a % b",
    "regexp_match": "regexp_like()",
    "regexp_replace": "regexp_replace()",
    "default_schema_name_switch": "USE schema (provision.py)",
    "datetime_timezone": "timestamp with time zone",
    "fetch_first": "FETCH FIRST n ROWS ONLY",
    "fetch_offset_with_options": "OFFSET n ROWS FETCH FIRST m ROWS ONLY",
    "fetch_no_order_by": "FETCH FIRST without ORDER BY",
    "infinity_floats": "infinity() and nan() doubles",
    "aggregate_order_by": "array_agg(x ORDER BY y)",
    "precision_numerics_enotation_small": "decimal(38, s) with small values",
    "precision_numerics_retains_significant_digits": "decimal keeps trailing zeros",
    "ctes_with_values": "WITH t(a) AS (VALUES ...)",
    "order_by_label_with_expression": "ORDER BY a label inside an expression",
    "implicit_default_schema": "the session's schema is implied",
    "supports_is_distinct_from": "IS [NOT] DISTINCT FROM",
    "percent_schema_names": "'%' in schema names",
    "tuple_in_w_empty": "(a, b) IN (empty)",
}


def _switch(reason: str, enabled: bool) -> property:
    def requirement(self: SuiteRequirements) -> Any:
        if enabled:
            return exclusions.open()
        # A closed requirement skips its tests and says why in the report.
        return exclusions.skip_if(lambda config: True, reason)

    return property(requirement)


class Requirements(SuiteRequirements):
    """SQLAlchemy's suite requirements for Trino through ``prestoha://``."""


def _install() -> None:
    switches = [
        (OPENED, True),
        (NOT_IN_TRINO, False),
        (DIALECT_GAPS, False),
        (EMULATOR_GAPS, False),
    ]
    for table, enabled in switches:
        for name, reason in table.items():
            if name not in vars(SuiteRequirements):
                raise AttributeError(f"SQLAlchemy has no suite requirement {name!r}")
            setattr(Requirements, name, _switch(reason, enabled))


_install()
