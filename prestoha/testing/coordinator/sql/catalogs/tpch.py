"""The ``tpch`` catalog: the eight TPC-H tables in schemas ``tiny`` (scale 0.01) and ``sf1``.

Rows are computed on the fly by DuckDB views over ``range()``: nothing is stored, a scan
streams, and every coordinator produces the same rows (values derive from the row number
through DuckDB's deterministic ``hash``). Column names, types and row counts follow Trino's
tpch connector; the values are plausible, not the official generator's.
"""

from __future__ import annotations

from typing import Any

from prestoha.testing.coordinator.sql.catalogs import Catalog, CatalogError, ColumnInfo, TableInfo
from prestoha.testing.coordinator.sql.types import parse_type

__all__ = ["SCALES", "TABLE_COLUMNS", "TpchCatalog"]

SCALES = {"tiny": 0.01, "sf1": 1.0}

TABLE_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "nation": [
        ("nationkey", "bigint"),
        ("name", "varchar(25)"),
        ("regionkey", "bigint"),
        ("comment", "varchar(152)"),
    ],
    "region": [("regionkey", "bigint"), ("name", "varchar(25)"), ("comment", "varchar(152)")],
    "part": [
        ("partkey", "bigint"),
        ("name", "varchar(55)"),
        ("mfgr", "varchar(25)"),
        ("brand", "varchar(10)"),
        ("type", "varchar(25)"),
        ("size", "integer"),
        ("container", "varchar(10)"),
        ("retailprice", "double"),
        ("comment", "varchar(23)"),
    ],
    "supplier": [
        ("suppkey", "bigint"),
        ("name", "varchar(25)"),
        ("address", "varchar(40)"),
        ("nationkey", "bigint"),
        ("phone", "varchar(15)"),
        ("acctbal", "double"),
        ("comment", "varchar(101)"),
    ],
    "partsupp": [
        ("partkey", "bigint"),
        ("suppkey", "bigint"),
        ("availqty", "integer"),
        ("supplycost", "double"),
        ("comment", "varchar(199)"),
    ],
    "customer": [
        ("custkey", "bigint"),
        ("name", "varchar(25)"),
        ("address", "varchar(40)"),
        ("nationkey", "bigint"),
        ("phone", "varchar(15)"),
        ("acctbal", "double"),
        ("mktsegment", "varchar(10)"),
        ("comment", "varchar(117)"),
    ],
    "orders": [
        ("orderkey", "bigint"),
        ("custkey", "bigint"),
        ("orderstatus", "varchar(1)"),
        ("totalprice", "double"),
        ("orderdate", "date"),
        ("orderpriority", "varchar(15)"),
        ("clerk", "varchar(15)"),
        ("shippriority", "integer"),
        ("comment", "varchar(79)"),
    ],
    "lineitem": [
        ("orderkey", "bigint"),
        ("partkey", "bigint"),
        ("suppkey", "bigint"),
        ("linenumber", "integer"),
        ("quantity", "double"),
        ("extendedprice", "double"),
        ("discount", "double"),
        ("tax", "double"),
        ("returnflag", "varchar(1)"),
        ("linestatus", "varchar(1)"),
        ("shipdate", "date"),
        ("commitdate", "date"),
        ("receiptdate", "date"),
        ("shipinstruct", "varchar(25)"),
        ("shipmode", "varchar(10)"),
        ("comment", "varchar(44)"),
    ],
}

_NATIONS = [
    ("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4),
    ("ETHIOPIA", 0), ("FRANCE", 3), ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2),
    ("IRAN", 4), ("IRAQ", 4), ("JAPAN", 2), ("JORDAN", 4), ("KENYA", 0),
    ("MOROCCO", 0), ("MOZAMBIQUE", 0), ("PERU", 1), ("CHINA", 2), ("ROMANIA", 3),
    ("SAUDI ARABIA", 4), ("VIETNAM", 2), ("RUSSIA", 3), ("UNITED KINGDOM", 3),
    ("UNITED STATES", 1),
]  # fmt: skip
_REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]


def _split(text: str) -> list[str]:
    return text.split()


_WORDS = _split(
    "furiously carefully quickly slyly blithely ironic final regular pending express special "
    "bold even silent unusual deposits requests accounts packages instructions theodolites "
    "pinto beans foxes ideas platelets dependencies excuses asymptotes courts dolphins sheaves "
    "sleep wake haggle nag use boost affix detect integrate cajole among across along"
)
_COLORS = _split(
    "almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood "
    "chartreuse chocolate coral cornflower cornsilk cream cyan dark deep dim dodger drab "
    "firebrick floral forest frosted gainsboro ghost goldenrod green grey honeydew hot indian"
)


def _list(words: list[str]) -> str:
    return "[" + ", ".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


def _pick(words: list[str], key: str, salt: int) -> str:
    return f"{_list(words)}[1 + (hash({key}, {salt}) % {len(words)})::BIGINT]"


def _text(key: str, salt: int, words: int, width: int) -> str:
    parts = ", ".join(_pick(_WORDS, key, salt + i) for i in range(words))
    return f"left(concat_ws(' ', {parts}), {width})"


def _money(key: str, salt: int, low: int, high: int) -> str:
    """A double with two decimals in [low, high] (bounds in cents)."""
    return f"(({low} + (hash({key}, {salt}) % {high - low + 1})::BIGINT)::DOUBLE / 100)"


def _int(key: str, salt: int, low: int, high: int) -> str:
    return f"({low} + (hash({key}, {salt}) % {high - low + 1})::BIGINT)"


def _phone(key: str, nation: str) -> str:
    parts = [f"lpad(({_int(key, 40 + i, 100, 999)})::VARCHAR, 3, '0')" for i in range(2)]
    return (
        f"concat(({nation} + 10)::VARCHAR, '-', {parts[0]}, '-', {parts[1]}, '-', "
        f"({_int(key, 43, 1000, 9999)})::VARCHAR)"
    )


def _views(scale: float) -> dict[str, str]:
    n_part = int(200_000 * scale)
    n_supp = int(10_000 * scale)
    n_cust = int(150_000 * scale)
    n_orders = int(1_500_000 * scale)
    n_clerk = max(int(1000 * scale), 1)
    odate = "(DATE '1992-01-01' + (hash(i, 3) % 2406)::INTEGER)"
    okey = "((i // 8) * 32 + i % 8 + 1)"
    price = "((90000 + ((pk // 10) % 20001) + 100 * (pk % 1000))::DOUBLE / 100)"
    nation_rows = ", ".join(f"({k}, '{n}', {r})" for k, (n, r) in enumerate(_NATIONS))
    region_rows = ", ".join(f"({k}, '{n}')" for k, n in enumerate(_REGIONS))
    segs = ["AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"]
    prios = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
    containers = [
        f"{a} {b}"
        for a in _split("SM MED LG JUMBO WRAP")
        for b in _split("CASE BOX BAG JAR PKG PACK CAN DRUM")
    ]
    types = [
        f"{a} {b} {c}"
        for a in _split("STANDARD SMALL MEDIUM LARGE ECONOMY PROMO")
        for b in _split("ANODIZED BURNISHED PLATED POLISHED BRUSHED")
        for c in _split("TIN NICKEL BRASS STEEL COPPER")
    ]
    instr = ["DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"]
    modes = ["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"]
    ship = f"({odate} + ({_int('r', 21, 1, 121)})::INTEGER)"
    return {
        "region": f"""SELECT k::BIGINT AS regionkey, n::VARCHAR AS name,
            {_text("k", 900, 8, 152)} AS comment FROM (VALUES {region_rows}) v(k, n)""",
        "nation": f"""SELECT k::BIGINT AS nationkey, n::VARCHAR AS name, r::BIGINT AS regionkey,
            {_text("k", 800, 10, 152)} AS comment FROM (VALUES {nation_rows}) v(k, n, r)""",
        "part": f"""SELECT pk::BIGINT AS partkey,
            concat_ws(' ', {", ".join(_pick(_COLORS, "pk", s) for s in range(5))}) AS name,
            'Manufacturer#' || (1 + pk % 5)::VARCHAR AS mfgr,
            'Brand#' || (1 + pk % 5)::VARCHAR || (1 + hash(pk, 7) % 5)::VARCHAR AS brand,
            {_pick(types, "pk", 8)} AS type, {_int("pk", 9, 1, 50)}::INTEGER AS size,
            {_pick(containers, "pk", 10)} AS container, {price} AS retailprice,
            {_text("pk", 11, 3, 23)} AS comment
            FROM range(1, {n_part + 1}) t(pk)""",
        "supplier": f"""SELECT sk::BIGINT AS suppkey,
            'Supplier#' || lpad(sk::VARCHAR, 9, '0') AS name,
            left(md5(sk::VARCHAR), 10 + (hash(sk, 12) % 25)::INTEGER) AS address,
            {_int("sk", 13, 0, 24)}::BIGINT AS nationkey,
            {_phone("sk", _int("sk", 13, 0, 24))} AS phone,
            {_money("sk", 14, -99999, 999999)} AS acctbal, {_text("sk", 15, 10, 101)} AS comment
            FROM range(1, {n_supp + 1}) t(sk)""",
        "partsupp": f"""SELECT pk::BIGINT AS partkey,
            ((pk + j * ({n_supp} // 4 + (pk - 1) // {n_supp})) % {n_supp} + 1)::BIGINT AS suppkey,
            {_int("pk * 4 + j", 16, 1, 9999)}::INTEGER AS availqty,
            {_money("pk * 4 + j", 17, 100, 100000)} AS supplycost,
            {_text("pk * 4 + j", 18, 20, 199)} AS comment
            FROM range(1, {n_part + 1}) t(pk), range(0, 4) s(j)""",
        "customer": f"""SELECT ck::BIGINT AS custkey,
            'Customer#' || lpad(ck::VARCHAR, 9, '0') AS name,
            left(md5(ck::VARCHAR), 10 + (hash(ck, 19) % 25)::INTEGER) AS address,
            {_int("ck", 20, 0, 24)}::BIGINT AS nationkey,
            {_phone("ck", _int("ck", 20, 0, 24))} AS phone,
            {_money("ck", 22, -99999, 999999)} AS acctbal, {_pick(segs, "ck", 23)} AS mktsegment,
            {_text("ck", 24, 12, 117)} AS comment
            FROM range(1, {n_cust + 1}) t(ck)""",
        "orders": f"""SELECT {okey}::BIGINT AS orderkey,
            {_int("i", 1, 1, n_cust)}::BIGINT AS custkey,
            CASE WHEN {odate} > DATE '1995-06-17' THEN 'O'
                 WHEN {odate} < DATE '1995-02-16' THEN 'F' ELSE 'P' END AS orderstatus,
            {_money("i", 2, 85000, 55000000)} AS totalprice, {odate} AS orderdate,
            {_pick(prios, "i", 4)} AS orderpriority,
            'Clerk#' || lpad(({_int("i", 5, 1, n_clerk)})::VARCHAR, 9, '0') AS clerk,
            0::INTEGER AS shippriority, {_text("i", 6, 8, 79)} AS comment
            FROM range(0, {n_orders}) t(i)""",
        "lineitem": f"""SELECT {okey}::BIGINT AS orderkey, pk::BIGINT AS partkey,
            ((pk + (r % 4) * ({n_supp} // 4 + (pk - 1) // {n_supp})) % {n_supp} + 1)::BIGINT
                AS suppkey,
            (r % 7 + 1)::INTEGER AS linenumber, q::DOUBLE AS quantity,
            round(q * {price}, 2) AS extendedprice,
            {_int("r", 26, 0, 10)}::DOUBLE / 100 AS discount,
            {_int("r", 27, 0, 8)}::DOUBLE / 100 AS tax,
            CASE WHEN {ship} + 15 <= DATE '1995-06-17'
                 THEN {_pick(["R", "A"], "r", 28)} ELSE 'N' END AS returnflag,
            CASE WHEN {ship} > DATE '1995-06-17' THEN 'O' ELSE 'F' END AS linestatus,
            {ship} AS shipdate, ({odate} + ({_int("r", 29, 30, 90)})::INTEGER) AS commitdate,
            ({ship} + ({_int("r", 30, 1, 30)})::INTEGER) AS receiptdate,
            {_pick(instr, "r", 31)} AS shipinstruct, {_pick(modes, "r", 32)} AS shipmode,
            {_text("r", 33, 5, 44)} AS comment
            FROM (SELECT r, r // 7 AS i, {_int("r", 25, 1, n_part)} AS pk,
                         {_int("r", 34, 1, 50)} AS q
                  FROM range(0, {7 * n_orders}) t(r)
                  WHERE r % 7 < 1 + (hash(r // 7, 35) % 7)::BIGINT)""",
    }


class TpchCatalog(Catalog):
    """Read-only generated TPC-H data, streamed from DuckDB views in the attached ``tpch`` db."""

    name = "tpch"

    def __init__(self, con: Any, database: str = "tpch") -> None:
        self.database = database
        self._columns = {
            table: [ColumnInfo(n, parse_type(t)) for n, t in cols]
            for table, cols in TABLE_COLUMNS.items()
        }
        con.execute(f"ATTACH ':memory:' AS \"{database}\"")
        for schema, scale in SCALES.items():
            con.execute(f'CREATE SCHEMA "{database}"."{schema}"')
            for table, body in _views(scale).items():
                con.execute(f'CREATE VIEW "{database}"."{schema}"."{table}" AS {body}')

    def schemas(self, cur: Any) -> list[str]:
        return list(SCALES)

    def tables(self, cur: Any, schema: str) -> list[TableInfo]:
        return [TableInfo(t) for t in sorted(TABLE_COLUMNS)]

    def columns(self, cur: Any, schema: str, table: str) -> list[ColumnInfo] | None:
        if schema not in SCALES:
            return None
        return self._columns.get(table)

    def relation(self, cur: Any, schema: str, table: str) -> str:
        if self.columns(cur, schema, table) is None:
            raise CatalogError(f"Table 'tpch.{schema}.{table}' does not exist", "TABLE_NOT_FOUND")
        return f'"{self.database}"."{schema}"."{table}"'
