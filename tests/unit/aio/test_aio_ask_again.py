"""An asynchronous attempt asks a loaded coordinator again for a page it left unanswered,
as the threaded one does, and gives a hung one up."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from prestoha.cluster import Coordinator
from prestoha.execution import Answer, Cause, PrefetchLimit, TransportError
from prestoha.execution._async import AsyncAttemptRunner
from prestoha.execution._runner import AttemptFailed
from prestoha.protocol import Page

NODE = "http://127.0.0.1:9"
NEXT = f"{NODE}/v1/statement/executing/q1/x/1"
COLUMNS = [{"name": "n", "type": "bigint", "typeSignature": {"rawType": "bigint", "arguments": []}}]


class _Transport:
    """Answers the POST, leaves the first GET unanswered past its read timeout, answers the
    next one with the last page."""

    def __init__(self) -> None:
        self.fetched: list[str] = []

    def interrupt(self) -> None:
        pass

    async def submit_async(self, sql: str, headers: Mapping[str, str]) -> Answer:
        return Answer({"id": "q1", "nextUri": NEXT, "stats": {"state": "QUEUED"}}, {}, 0)

    async def fetch_async(self, uri: str) -> Answer:
        self.fetched.append(uri)
        if len(self.fetched) == 1:
            raise TransportError(Cause.NO_ANSWER, "read timed out")
        status = {"id": "q1", "columns": COLUMNS, "data": [[1]], "stats": {"state": "FINISHED"}}
        return Answer(status, {}, 0)

    async def cancel_async(self, uri: str) -> None:
        pass


async def _second_event(answered_others: bool) -> tuple[Any, list[str]]:
    transport = _Transport()
    runner = AsyncAttemptRunner(
        Coordinator.from_uri("n1", NODE),
        "SELECT 1",
        transport=transport,
        extra_headers={},
        prefetch=PrefetchLimit(rows=10),
        digest=False,
        legacy_primitive_types=False,
    )
    runner.answered_since = lambda moment: answered_others
    assert isinstance(await runner.step_async(), Page)  # the POST
    return await runner.step_async(), transport.fetched


def test_a_page_a_loaded_node_left_unanswered_is_asked_for_again() -> None:
    event, fetched = asyncio.run(_second_event(answered_others=True))
    assert isinstance(event, Page) and event.rows == [[1]] and event.final
    assert fetched == [NEXT, NEXT]  # the same token again


def test_a_page_a_hung_node_left_unanswered_ends_the_attempt() -> None:
    event, fetched = asyncio.run(_second_event(answered_others=False))
    assert isinstance(event, AttemptFailed)
    assert isinstance(event.exc, TransportError) and event.exc.cause is Cause.NO_ANSWER
    assert fetched == [NEXT]
