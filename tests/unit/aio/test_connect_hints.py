"""Forgetting ``await`` on ``prestoha.aio.connect()`` says what to write instead."""

from __future__ import annotations

import pytest

import prestoha.aio


def test_using_the_unawaited_connect_as_a_connection_says_to_await_it() -> None:
    pending = prestoha.aio.connect(hosts=["http://127.0.0.1:1"])
    with pytest.raises(AttributeError, match=r"await prestoha\.aio\.connect"):
        pending.cursor()


def test_entering_it_with_a_plain_with_says_async_with() -> None:
    pending = prestoha.aio.connect(hosts=["http://127.0.0.1:1"])
    with pytest.raises(TypeError, match="async with"), pending:
        pass
