"""The ``lake`` catalog: tables on a directory shared by every coordinator process.

Like Hive or Iceberg on shared storage, several processes read and write the same tables:

- ``<lake>/<schema>/`` is a schema; ``<lake>/<schema>/<table>/table.json`` holds a table's
  columns and the list of its committed data files (``data/*.parquet``).
- Data files are immutable. A write produces a complete file under a temporary name, renames
  it into place, then commits by rewriting ``table.json`` (temporary file + atomic rename)
  while holding an exclusive ``fcntl`` lock on ``<lake>/.lock``. Readers take no lock: they
  read one ``table.json`` and see every row of a commit or none of it.
- Columns have stable physical ids (``c0``, ``c1``...), so renaming a column touches no data
  file and a column added later reads as NULL from older files.
- DELETE and UPDATE rewrite the table's rows into one new file under the lock. Replaced files
  stay on disk for a while, because a running reader may still be scanning them.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prestoha.testing.coordinator.sql.catalogs import Catalog, CatalogError, ColumnInfo, TableInfo
from prestoha.testing.coordinator.sql.catalogs.memory import quote
from prestoha.testing.coordinator.sql.duckdb_types import to_duckdb
from prestoha.testing.coordinator.sql.types import TypeParseError, parse_type

__all__ = ["LakeCatalog"]

_META = "table.json"
_GRACE_SECONDS = 600.0  # how long replaced data files survive for readers still scanning them
_views = itertools.count(1)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class LakeCatalog(Catalog):
    """Tables in parquet files under ``root``, shared safely between processes."""

    name = "lake"
    writable = True

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread_lock = threading.Lock()
        with self._locked():
            (self.root / "default").mkdir(exist_ok=True)

    # -- files -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock, open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _check_name(self, name: str) -> str:
        if not name or "/" in name or name.startswith(".") or "\0" in name:
            raise CatalogError(f"Invalid name for the lake catalog: '{name}'", "NOT_SUPPORTED")
        return name

    def _table_dir(self, schema: str, table: str) -> Path:
        return self.root / self._check_name(schema) / self._check_name(table)

    def _read(self, schema: str, table: str) -> dict[str, Any] | None:
        try:
            text = (self._table_dir(schema, table) / _META).read_text()
        except (FileNotFoundError, NotADirectoryError):
            return None
        meta: dict[str, Any] = json.loads(text)
        return meta

    def _write(self, schema: str, table: str, meta: dict[str, Any]) -> None:
        folder = self._table_dir(schema, table)
        tmp = folder / f".{_META}.{uuid.uuid4().hex}"
        meta["version"] = int(meta.get("version", 0)) + 1
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, folder / _META)

    def _require(self, schema: str, table: str) -> dict[str, Any]:
        meta = self._read(schema, table)
        if meta is None:
            raise CatalogError(f"Table 'lake.{schema}.{table}' does not exist", "TABLE_NOT_FOUND")
        return meta

    # -- metadata --------------------------------------------------------------------------

    def schemas(self, cur: Any) -> list[str]:
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def tables(self, cur: Any, schema: str) -> list[TableInfo]:
        folder = self.root / schema
        if not folder.is_dir():
            return []
        out = []
        for path in sorted(folder.iterdir()):
            meta = self._read(schema, path.name) if not path.name.startswith(".") else None
            if meta is not None:
                out.append(TableInfo(path.name, "BASE TABLE", meta.get("comment")))
        return out

    def columns(self, cur: Any, schema: str, table: str) -> list[ColumnInfo] | None:
        try:
            meta = self._read(schema, table)
        except CatalogError:
            return None
        if meta is None:
            return None
        try:
            return [
                ColumnInfo(c["name"], parse_type(c["type"]), c.get("comment"))
                for c in meta["columns"]
            ]
        except (KeyError, TypeParseError) as err:
            raise CatalogError(
                f"Corrupt lake table {schema}.{table}: {err}", "GENERIC_INTERNAL_ERROR"
            ) from None

    def _select(self, schema: str, table: str, meta: dict[str, Any]) -> str:
        """DuckDB query reading the table's committed files with logical names and types."""
        folder = self._table_dir(schema, table) / "data"
        files = meta.get("files", [])
        present = {cid for f in files for cid in f.get("columns", [])}
        picks = []
        for col in meta["columns"]:
            duck_type = to_duckdb(parse_type(col["type"]))
            source = quote(col["id"]) if col["id"] in present else "NULL"
            picks.append(f"CAST({source} AS {duck_type}) AS {quote(col['name'])}")
        if not files:
            return f"SELECT {', '.join(picks)} WHERE false"
        paths = ", ".join(_literal(str(folder / f["name"])) for f in files)
        return f"SELECT {', '.join(picks)} FROM read_parquet([{paths}], union_by_name = true)"

    def _view(self, cur: Any, schema: str, table: str, meta: dict[str, Any]) -> str:
        name = f"lake__{schema}__{table}__{next(_views)}"
        cur.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote(name)} AS {self._select(schema, table, meta)}"
        )
        return f"temp.main.{quote(name)}"

    def relation(self, cur: Any, schema: str, table: str) -> str:
        return self._view(cur, schema, table, self._require(schema, table))

    # -- writes ----------------------------------------------------------------------------

    def _write_file(self, cur: Any, schema: str, table: str, select_sql: str) -> tuple[str, int]:
        """Write the rows of ``select_sql`` to a new data file; returns (file name, row count)."""
        data = self._table_dir(schema, table) / "data"
        data.mkdir(exist_ok=True)
        name = f"{int(time.time() * 1000)}-{uuid.uuid4().hex}.parquet"
        tmp = data / f".{name}.tmp"
        row = cur.execute(
            f"COPY ({select_sql}) TO {_literal(str(tmp))} (FORMAT parquet)"
        ).fetchone()
        count = int(row[0]) if row else 0
        os.replace(tmp, data / name)
        return name, count

    def _physical(self, meta: dict[str, Any], source: str) -> str:
        """Select list turning logical columns of ``source`` into physical ids."""
        return ", ".join(
            f"{source}.{quote(c['name'])} AS {quote(c['id'])}" for c in meta["columns"]
        )

    def _collect_garbage(self, schema: str, table: str, meta: dict[str, Any]) -> None:
        data = self._table_dir(schema, table) / "data"
        live = {f["name"] for f in meta.get("files", [])}
        cutoff = time.time() - _GRACE_SECONDS
        for path in data.glob("*.parquet") if data.is_dir() else []:
            with contextlib.suppress(OSError):
                if path.name not in live and path.stat().st_mtime < cutoff:
                    path.unlink()

    def create_schema(self, cur: Any, schema: str) -> None:
        with self._locked():
            folder = self.root / self._check_name(schema)
            if folder.exists():
                raise CatalogError(
                    f"Schema 'lake.{schema}' already exists", "SCHEMA_ALREADY_EXISTS"
                )
            folder.mkdir()

    def drop_schema(self, cur: Any, schema: str, cascade: bool) -> None:
        with self._locked():
            if self.tables(cur, schema) and not cascade:
                raise CatalogError(f"Cannot drop non-empty schema '{schema}'", "SCHEMA_NOT_EMPTY")
            shutil.rmtree(self.root / self._check_name(schema), ignore_errors=True)

    def create_table(
        self, cur: Any, schema: str, table: str, columns: list[ColumnInfo], comment: str | None
    ) -> None:
        cols = [
            {"name": c.name, "type": c.type.display(), "id": f"c{i}", "comment": c.comment}
            for i, c in enumerate(columns)
        ]
        meta = {"columns": cols, "files": [], "next_id": len(cols), "comment": comment}
        with self._locked():
            folder = self._table_dir(schema, table)
            if not folder.parent.is_dir():
                raise CatalogError(f"Schema '{schema}' does not exist", "SCHEMA_NOT_FOUND")
            if self._read(schema, table) is not None:
                raise CatalogError(
                    f"Table 'lake.{schema}.{table}' already exists", "TABLE_ALREADY_EXISTS"
                )
            folder.mkdir(exist_ok=True)
            self._write(schema, table, meta)

    def insert(self, cur: Any, schema: str, table: str, select_sql: str) -> int:
        meta = self._require(schema, table)
        source = quote("__rows")
        rows = f"SELECT {self._physical(meta, source)} FROM ({select_sql}) AS {source}"
        name, count = self._write_file(cur, schema, table, rows)
        with self._locked():
            current = self._require(schema, table)
            ids = [c["id"] for c in meta["columns"]]
            if count:
                current["files"].append({"name": name, "columns": ids, "rows": count})
                self._write(schema, table, current)
            else:
                with contextlib.suppress(OSError):
                    (self._table_dir(schema, table) / "data" / name).unlink()
        return count

    def _rewrite(
        self,
        cur: Any,
        schema: str,
        table: str,
        alias: str,
        where: str | None,
        assignments: dict[str, str] | None,
    ) -> int:
        """Replace all files by one holding the rows after a DELETE or UPDATE."""
        with self._locked():
            meta = self._require(schema, table)
            view = self._view(cur, schema, table, meta)
            src = f"{view} AS {quote(alias)}"
            hit = f"COALESCE(({where}), false)" if where else "true"
            row = cur.execute(f"SELECT count(*) FROM {src} WHERE {hit}").fetchone()
            count = int(row[0]) if row else 0
            if count == 0:
                return 0
            if assignments is None:
                body = f"SELECT {self._physical(meta, quote(alias))} FROM {src} WHERE NOT {hit}"
            else:
                picks = []
                for col in meta["columns"]:
                    current = f"{quote(alias)}.{quote(col['name'])}"
                    if col["name"] in assignments:
                        duck_type = to_duckdb(parse_type(col["type"]))
                        new = f"CAST(({assignments[col['name']]}) AS {duck_type})"
                        current = f"CASE WHEN {hit} THEN {new} ELSE {current} END"
                    picks.append(f"{current} AS {quote(col['id'])}")
                body = f"SELECT {', '.join(picks)} FROM {src}"
            ids = [c["id"] for c in meta["columns"]]
            files = []
            if assignments is not None or where:
                name, kept = self._write_file(cur, schema, table, body)
                files = [{"name": name, "columns": ids, "rows": kept}] if kept else []
            meta["files"] = files
            self._write(schema, table, meta)
            self._collect_garbage(schema, table, meta)
            return count

    def delete(self, cur: Any, schema: str, table: str, alias: str, where: str | None) -> int:
        return self._rewrite(cur, schema, table, alias, where, None)

    def update(
        self,
        cur: Any,
        schema: str,
        table: str,
        alias: str,
        assignments: dict[str, str],
        where: str | None,
    ) -> int:
        return self._rewrite(cur, schema, table, alias, where, assignments)

    def drop_table(self, cur: Any, schema: str, table: str) -> None:
        with self._locked():
            self._require(schema, table)
            shutil.rmtree(self._table_dir(schema, table), ignore_errors=True)

    def rename_table(self, cur: Any, schema: str, table: str, new_table: str) -> None:
        with self._locked():
            self._require(schema, table)
            target = self._table_dir(schema, new_table)
            if target.exists():
                raise CatalogError(
                    f"Target table 'lake.{schema}.{new_table}' already exists",
                    "TABLE_ALREADY_EXISTS",
                )
            os.rename(self._table_dir(schema, table), target)

    def _change(self, schema: str, table: str, change: Any) -> None:
        with self._locked():
            meta = self._require(schema, table)
            change(meta)
            self._write(schema, table, meta)

    def add_column(self, cur: Any, schema: str, table: str, column: ColumnInfo) -> None:
        def change(meta: dict[str, Any]) -> None:
            if any(c["name"] == column.name for c in meta["columns"]):
                raise CatalogError(
                    f"Column '{column.name}' already exists", "COLUMN_ALREADY_EXISTS"
                )
            ident = f"c{meta['next_id']}"
            meta["next_id"] += 1
            meta["columns"].append(
                {
                    "name": column.name,
                    "type": column.type.display(),
                    "id": ident,
                    "comment": column.comment,
                }
            )

        self._change(schema, table, change)

    def drop_column(self, cur: Any, schema: str, table: str, column: str) -> None:
        def change(meta: dict[str, Any]) -> None:
            meta["columns"] = [c for c in meta["columns"] if c["name"] != column]

        self._change(schema, table, change)

    def rename_column(self, cur: Any, schema: str, table: str, old: str, new: str) -> None:
        def change(meta: dict[str, Any]) -> None:
            for c in meta["columns"]:
                if c["name"] == old:
                    c["name"] = new

        self._change(schema, table, change)

    def set_comment(self, cur: Any, schema: str, table: str, comment: str | None) -> None:
        def change(meta: dict[str, Any]) -> None:
            meta["comment"] = comment

        self._change(schema, table, change)
