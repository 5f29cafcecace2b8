"""Trino scalar functions computed in Python on each DuckDB connection.

``typeof`` (Trino names the analyzed type of its argument), ``CAST(... AS ipaddress)``
(canonical address text) and ``json_parse`` (Trino re-serializes the parsed value with sorted
keys) have no DuckDB equivalent; :func:`register` creates them, and the macros that turn a
``NULL`` from them into Trino's error.
"""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache
from typing import Any

from prestoha.testing.coordinator.sql import sketches
from prestoha.testing.coordinator.sql.duckdb_types import from_duckdb_text
from prestoha.testing.coordinator.sql.types import TrinoType, TypeParseError, merge, parse_type

__all__ = ["IPADDRESS_MACRO", "JSON_PARSE_MACRO", "TYPEOF_FUNCTION", "register"]

TYPEOF_FUNCTION = "__prestoha_typeof"
"""``(duckdb typeof text, Trino type hint or '')`` to Trino's name of the type."""
IPADDRESS_MACRO = "__prestoha_ipaddress"
JSON_PARSE_MACRO = "__prestoha_json_parse"


@lru_cache(maxsize=256)
def _typeof(duck_text: str, hint_text: str) -> str:
    actual = from_duckdb_text(duck_text)
    hint: TrinoType | None = None
    if hint_text:
        try:
            # An "unknown" in the hint stays unknown only where DuckDB also has a NULL.
            hint = parse_type(hint_text)
        except TypeParseError:
            hint = None
    return merge(hint, actual).display()


def _ipaddress(text: str | None) -> str | None:
    if text is None:
        return None
    # io.trino.type.IpAddressOperators.castFromVarcharToIpAddress accepts IPv4 and IPv6
    # addresses, no prefix; IpAddressType prints InetAddresses.toAddrString of the 16 bytes,
    # where Java makes an IPv4-mapped address an Inet4Address.
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _json_parse(text: str | None) -> str | None:
    if text is None:
        return None
    # io.trino.operator.scalar.JsonFunctions.jsonParse: Jackson reads the value and writes it
    # back compactly with ORDER_MAP_ENTRIES_BY_KEYS; non-ASCII characters stay as they are.
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def register(con: Any) -> None:
    """Create the functions and macros on a DuckDB connection."""
    con.create_function(TYPEOF_FUNCTION, _typeof, ["VARCHAR", "VARCHAR"], "VARCHAR")
    con.create_function(
        "__prestoha_ipaddress_text", _ipaddress, ["VARCHAR"], "VARCHAR", null_handling="special"
    )
    con.create_function(
        "__prestoha_json_text", _json_parse, ["VARCHAR"], "VARCHAR", null_handling="special"
    )
    con.execute(
        f"CREATE MACRO {IPADDRESS_MACRO}(x) AS CASE WHEN x IS NOT NULL AND "
        "__prestoha_ipaddress_text(x) IS NULL THEN "
        "error('Cannot cast value to IPADDRESS: ' || x) ELSE __prestoha_ipaddress_text(x) END"
    )
    con.execute(
        f"CREATE MACRO {JSON_PARSE_MACRO}(x) AS CASE WHEN x IS NOT NULL AND "
        "__prestoha_json_text(x) IS NULL THEN "
        "error('Cannot convert ''' || x || ''' to JSON') "
        "ELSE CAST(__prestoha_json_text(x) AS JSON) END"
    )
    sketches.register(con)
