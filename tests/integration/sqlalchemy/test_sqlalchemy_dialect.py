"""The ``prestoha://`` dialect on real processes: URLs, DDL, DML, reflection, errors."""

from __future__ import annotations

import datetime
import decimal
import socket
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

import prestoha
from prestoha.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration


def _host_port(uri: str) -> str:
    return uri.split("://", 1)[1]


def test_every_url_form_reaches_the_cluster(
    local_cluster: LocalCluster, make_engine: Callable[..., sa.Engine]
) -> None:
    hosts = ",".join(_host_port(u) for u in local_cluster.coordinators)
    zk_hosts = local_cluster.zk_hosts.split(",")
    repeated_zk = "&".join(f"zk={h}" for h in zk_hosts)
    urls = [
        local_cluster.sqlalchemy_url(),
        f"prestoha://test@/tpch/tiny?{repeated_zk}&cluster={local_cluster.cluster}&mode=any",
        f"prestoha://test@/tpch/tiny?hosts={hosts}",
        f"prestoha://test@{_host_port(local_cluster.coordinators[1])}/tpch/tiny",
    ]
    for url in urls:
        with make_engine(url).connect() as con:
            assert con.execute(sa.text("SELECT count(*) FROM nation")).scalar() == 25, url


def test_session_options_from_the_url_reach_the_coordinator(
    make_engine: Callable[..., sa.Engine], url_for: Callable[..., str]
) -> None:
    url = url_for("tpch", "tiny", timezone="Asia/Kolkata", source="nightly-report")
    with make_engine(url).connect() as con:
        zone = con.execute(sa.text("SELECT current_timezone()")).scalar()
        raw = con.connection.dbapi_connection
        assert isinstance(raw, prestoha.Connection)
        assert raw.session.source == "nightly-report"
    assert zone == "Asia/Kolkata"


def test_create_all_insert_and_reflect_a_model(
    make_engine: Callable[..., sa.Engine], url_for: Callable[..., str], lake_schema: str
) -> None:
    engine = make_engine(url_for("lake", lake_schema))
    meta = sa.MetaData()
    sa.Table(
        "customers",
        meta,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.String(40), comment="full name", index=True),
        comment="who buys",
    )
    orders = sa.Table(
        "orders",
        meta,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("customer_id", sa.ForeignKey("customers.id")),
        sa.Column("amount", sa.Numeric(10, 2)),
        sa.Column("weight", sa.Float(precision=24)),
        sa.Column("ratio", sa.Float()),
        sa.Column("day", sa.Date),
        sa.UniqueConstraint("customer_id", "day"),
        sa.CheckConstraint("amount > 0"),
    )
    meta.create_all(engine)  # constraints and the index are left out, not refused

    rows = [
        {
            "id": i,
            "customer_id": i % 3,
            "amount": decimal.Decimal(f"{i}.25"),
            "weight": i + 0.5,
            "ratio": 1 / (i + 1),
            # a datetime into a DATE column: Trino needs the cast the dialect adds
            "day": datetime.datetime(2026, 1, i + 1, 13, 30),
        }
        for i in range(5)
    ]
    with engine.begin() as con:
        result = con.execute(orders.insert(), rows)
        assert not result.returns_rows
        assert result.rowcount == 5
    with engine.connect() as con:
        got = con.execute(sa.select(orders).order_by(orders.c.id)).all()
    assert [r.amount for r in got] == [decimal.Decimal(f"{i}.25") for i in range(5)]
    assert [r.weight for r in got] == [i + 0.5 for i in range(5)]
    assert [r.ratio for r in got] == [1 / (i + 1) for i in range(5)]
    assert [r.day for r in got] == [datetime.date(2026, 1, i + 1) for i in range(5)]

    insp = sa.inspect(engine)
    assert lake_schema in insp.get_schema_names()
    assert sorted(insp.get_table_names()) == ["customers", "orders"]
    assert insp.get_table_comment("customers") == {"text": "who buys"}
    columns = {c["name"]: c for c in insp.get_columns("orders")}
    assert list(columns) == ["id", "customer_id", "amount", "weight", "ratio", "day"]
    assert isinstance(columns["customer_id"]["type"], sa.BigInteger)  # typed by its key
    assert (columns["amount"]["type"].precision, columns["amount"]["type"].scale) == (10, 2)
    assert columns["weight"]["type"].compile(dialect=engine.dialect) == "REAL"
    assert columns["ratio"]["type"].compile(dialect=engine.dialect) == "DOUBLE"
    assert isinstance(columns["day"]["type"], sa.Date)
    name = next(c for c in insp.get_columns("customers") if c["name"] == "name")
    assert name["comment"] == "full name"
    assert insp.get_pk_constraint("orders")["constrained_columns"] == []
    assert insp.get_foreign_keys("orders") == []
    assert insp.has_table("orders") and not insp.has_table("nobody")
    with pytest.raises(sa.exc.NoSuchTableError):
        insp.get_columns("nobody")

    reflected = sa.Table("orders", sa.MetaData(), autoload_with=engine)
    with engine.connect() as con:
        total = con.execute(sa.select(sa.func.sum(reflected.c.amount))).scalar()
    assert total == decimal.Decimal("11.25")


def test_executemany_is_batched_into_multi_row_inserts(
    make_engine: Callable[..., sa.Engine],
    url_for: Callable[..., str],
    lake_schema: str,
    record_statements: Callable[[sa.Engine], Any],
) -> None:
    engine = make_engine(url_for("lake", lake_schema), insertmanyvalues_page_size=100)
    table = sa.Table("t", sa.MetaData(), sa.Column("n", sa.Integer), sa.Column("s", sa.String))
    table.create(engine)
    sent = record_statements(engine)
    with engine.begin() as con:
        result = con.execute(table.insert(), [{"n": i, "s": f"v{i}"} for i in range(250)])
    assert result.rowcount == 250
    inserts = [s for s in sent.sent if s.startswith("INSERT")]
    assert len(inserts) == 3  # 100 + 100 + 50 rows
    with engine.connect() as con:
        assert con.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 250


def test_views_are_reflected(
    make_engine: Callable[..., sa.Engine], url_for: Callable[..., str]
) -> None:
    # The emulator's memory catalog has views (its lake catalog does not yet).
    engine = make_engine(url_for("memory", "default", mode="leader"))
    with engine.begin() as con:
        con.exec_driver_sql("CREATE TABLE IF NOT EXISTS vsrc (a bigint, b varchar)")
        con.exec_driver_sql("CREATE OR REPLACE VIEW vv AS SELECT a FROM vsrc")
    try:
        insp = sa.inspect(engine)
        assert "vv" in insp.get_view_names()
        assert "vv" not in insp.get_table_names()
        assert "vsrc" in insp.get_view_definition("vv")
        assert [c["name"] for c in insp.get_columns("vv")] == ["a"]
        with pytest.raises(sa.exc.NoSuchTableError):
            insp.get_view_definition("no_such_view")
    finally:
        with engine.begin() as con:
            con.exec_driver_sql("DROP VIEW vv")
            con.exec_driver_sql("DROP TABLE vsrc")


def test_sql_text_as_a_table_name_costs_no_query(
    make_engine: Callable[..., sa.Engine], record_statements: Callable[[sa.Engine], Any]
) -> None:
    engine = make_engine()
    sent = record_statements(engine)
    insp = sa.inspect(engine)
    assert insp.has_table("SELECT nationkey FROM nation") is False
    assert insp.has_table("WITH x AS (SELECT 1) SELECT * FROM x") is False
    assert sent.sent == []
    assert insp.has_table("nation") is True
    assert len(sent.sent) == 1
    assert insp.has_table("nation") is True  # cached by the inspector
    assert len(sent.sent) == 1


def test_prestoha_errors_are_wrapped_as_sqlalchemy_errors(
    make_engine: Callable[..., sa.Engine],
) -> None:
    engine = make_engine()
    with engine.connect() as con:
        with pytest.raises(sa.exc.ProgrammingError) as missing:
            con.execute(sa.text("SELECT * FROM no_such_table"))
        assert isinstance(missing.value.orig, prestoha.ProgrammingError)
        assert missing.value.orig.error_name == "TABLE_NOT_FOUND"
        assert missing.value.orig.query_id
        with pytest.raises(sa.exc.DataError) as zero:
            con.execute(sa.text("SELECT 1 / 0"))
        assert isinstance(zero.value.orig, prestoha.DataError)
        # the connection is still usable after errors
        assert con.execute(sa.text("SELECT 1")).scalar() == 1


def test_no_coordinator_is_an_operational_error(make_engine: Callable[..., sa.Engine]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    engine = make_engine(f"prestoha://test@127.0.0.1:{port}/tpch/tiny?failover_timeout=1")
    with pytest.raises(sa.exc.OperationalError) as info, engine.connect() as con:
        con.execute(sa.text("SELECT 1"))
    assert isinstance(info.value.orig, prestoha.NoCoordinatorError)
    assert f"127.0.0.1:{port}" in str(info.value.orig)


def test_pool_pre_ping_and_reuse(make_engine: Callable[..., sa.Engine]) -> None:
    engine = make_engine(pool_pre_ping=True, pool_size=1, max_overflow=0)
    for _ in range(3):
        with engine.connect() as con:
            assert con.execute(sa.text("SELECT 1")).scalar() == 1
    assert engine.pool.checkedin() == 1


def test_isolation_level_runs_transactions(
    make_engine: Callable[..., sa.Engine], url_for: Callable[..., str]
) -> None:
    engine = make_engine(url_for("memory", "default"))
    with engine.begin() as con:
        con.exec_driver_sql("CREATE TABLE IF NOT EXISTS iso_t (a bigint)")
    assert engine.dialect.server_version_info is not None  # SELECT version(), lazily
    try:
        with engine.connect().execution_options(isolation_level="SERIALIZABLE") as con:
            assert con.get_isolation_level() == "SERIALIZABLE"
            with con.begin():
                con.exec_driver_sql("INSERT INTO iso_t VALUES (1)")
            with con.begin() as tx:
                con.exec_driver_sql("INSERT INTO iso_t VALUES (2)")
                tx.rollback()
            assert con.exec_driver_sql("SELECT a FROM iso_t").all() == [(1,)]
        with engine.connect() as con:  # back in the pool, back to autocommit
            assert con.get_isolation_level() == "AUTOCOMMIT"
    finally:
        with engine.begin() as con:
            con.exec_driver_sql("DROP TABLE iso_t")
