"""One SQL expression through the emulator four ways: raw wire, ``trino.dbapi`` and prestoha.

The type tests are tables of cases: a SQL expression, the type signature and the wire value
Trino sends for it (each with its source), and the Python value the ``trino`` client maps it
to. :func:`observe` runs the expression once per way of reading and returns what each saw, so
a test asserts the wire (what the emulator claims to be Trino's), the client's mapping (the
reference decoder nobody here wrote) and prestoha's own decoding (which must agree with it).

Every reading is done in the direct protocol and in each spooling encoding: the values travel
in JSON either way, but through different code (segments, compression).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import lz4.block
import requests
import trino.dbapi
import zstandard

import prestoha

ENCODINGS: list[str | None] = [None, "json", "json+zstd", "json+lz4"]
"""The ways rows travel: the direct protocol, then each spooling encoding."""

ENCODING_IDS = ["direct", "json", "json+zstd", "json+lz4"]

_ENCODING_HEADER = "X-Trino-Query-Data-Encoding"


@dataclass(frozen=True)
class Seen:
    """What each reader saw of one single-column, single-row query."""

    signature: str
    """The column's ``type`` as the coordinator sent it (``columns[0].type``)."""
    type_signature: dict[str, Any]
    """The column's ``typeSignature`` as sent."""
    wire: Any
    """The JSON value of the cell as sent (decoded from the segment when spooled)."""
    trino: Any
    """The value ``trino.dbapi`` mapped the cell to."""
    trino_type_code: str
    """``cursor.description[0].type_code`` from ``trino.dbapi``."""
    prestoha: Any
    """The value prestoha mapped the cell to."""
    prestoha_type_code: str
    """``cursor.description[0].type_code`` from prestoha."""


def _decode_segment(encoding: str, segment: dict[str, Any], http: requests.Session) -> list[Any]:
    if segment["type"] == "inline":
        raw = base64.b64decode(segment["data"])
    else:
        headers = {name: values[0] for name, values in segment.get("headers", {}).items()}
        response = http.get(segment["uri"], headers=headers, timeout=10)
        response.raise_for_status()
        raw = response.content
    size = segment["metadata"].get("uncompressedSize")
    if encoding == "json+zstd" and size is not None:
        raw = zstandard.ZstdDecompressor().decompress(raw, max_output_size=int(size))
    elif encoding == "json+lz4" and size is not None:
        raw = lz4.block.decompress(raw, uncompressed_size=int(size))
    rows: list[Any] = json.loads(raw)
    return rows


def wire(
    uri: str, sql: str, encoding: str | None = None, *, timezone: str = "UTC"
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """The columns and rows of ``sql`` exactly as the coordinator at ``uri`` sends them."""
    headers = {
        "X-Trino-User": "types",
        "X-Trino-Time-Zone": timezone,
        # What the trino client announces (trino/constants.py CLIENT_CAPABILITIES): without
        # PARAMETRIC_DATETIME, Trino sends temporal values in the legacy millisecond form.
        "X-Trino-Client-Capabilities": "NUMBER,PARAMETRIC_DATETIME,SESSION_AUTHORIZATION",
    }
    if encoding is not None:
        headers[_ENCODING_HEADER] = encoding
    with requests.Session() as http:
        doc = http.post(f"{uri}/v1/statement", data=sql.encode(), headers=headers, timeout=10)
        page = doc.json()
        columns: list[dict[str, Any]] = []
        rows: list[list[Any]] = []
        while True:
            if "error" in page:
                raise AssertionError(f"{sql!r} failed: {page['error'].get('message')}")
            columns = page.get("columns", columns)
            data = page.get("data")
            if isinstance(data, dict):
                for segment in data["segments"]:
                    rows.extend(_decode_segment(data["encoding"], segment, http))
            elif data is not None:
                rows.extend(data)
            if "nextUri" not in page:
                return columns, rows
            page = http.get(page["nextUri"], timeout=10).json()


def observe(uri: str, expression: str, encoding: str | None = None) -> Seen:
    """Run ``SELECT <expression>`` through the raw wire, ``trino.dbapi`` and prestoha."""
    sql = f"SELECT {expression}"
    columns, rows = wire(uri, sql, encoding)
    assert len(columns) == 1 and len(rows) == 1, (columns, rows)

    host, port = uri.removeprefix("http://").rsplit(":", 1)
    kwargs: dict[str, Any] = {"user": "types", "timezone": "UTC"}
    if encoding is not None:
        kwargs["encoding"] = encoding
    with trino.dbapi.connect(host=host, port=int(port), **kwargs) as conn:
        cur = conn.cursor()
        cur.execute(sql)
        trino_rows = cur.fetchall()
        trino_code = cur.description[0].type_code
    with prestoha.connect(hosts=[uri], **kwargs) as conn:
        cur = conn.cursor()
        cur.execute(sql)
        ours = cur.fetchall()
        our_code = cur.description[0][1]
    return Seen(
        signature=columns[0]["type"],
        type_signature=columns[0]["typeSignature"],
        wire=rows[0][0],
        trino=trino_rows[0][0],
        trino_type_code=trino_code,
        prestoha=ours[0][0],
        prestoha_type_code=our_code,
    )
