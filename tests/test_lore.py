"""bot.lore against the fake public-inbox server: threads, search windows, errors."""

import time

import pytest

from bot.errors import FetchError
from bot.lore import Lore
from tests.conftest import EXAMPLE


@pytest.fixture
def client(lore, tmp_path):
    lore.archive.add_mbox(EXAMPLE.read_bytes(), "frobnic", received=1_800_000_000)
    return Lore(lore.url, tmp_path / "cache", timeout=2, retries=2, backoff=0)


def test_thread_holds_every_message(client):
    msgs = client.fetch_thread("20261103090000.1000-1-alice@example.org")
    assert sorted(str(m["Message-Id"]) for m in msgs) == [
        f"<20261103090000.1000-{n}-alice@example.org>" for n in range(3)]


def test_search_by_received_window(client):
    assert len(client.search("frobnic", "rt:1799999999..1800000001")) == 3
    assert client.search("frobnic", "rt:1800000001..") == []  # 404: nothing matches
    assert client.search("other-list", "rt:0..") == []


def test_search_server_error_after_retries(client, lore):
    lore.archive.faults[:] = [500, 500]
    with pytest.raises(FetchError, match="did not answer after 2 attempt"):
        client.search("frobnic", "rt:0..")


def test_429_waits_as_retry_after_says_then_succeeds(client, lore):
    lore.archive.faults[:] = ["429:1"]
    started = time.monotonic()
    assert len(client.search("frobnic", "rt:0..")) == 3
    assert time.monotonic() - started >= 1.0  # Retry-After, not the (zero) backoff


def test_429_asking_too_long_a_wait_gives_up_at_once(client, lore):
    lore.archive.faults[:] = ["429:3600"]
    with pytest.raises(FetchError, match="asks to wait 3600s"):
        client.search("frobnic", "rt:0..")
    assert len(lore.archive.requests) == 1


@pytest.mark.parametrize("fault", ["corrupt", "truncated"])
def test_bad_gzip_is_retried_then_reported(client, lore, fault):
    lore.archive.faults[:] = [fault]
    msgs = client.fetch_thread("20261103090000.1000-1-alice@example.org")  # the retry works
    assert len(msgs) == 3
    lore.archive.faults[:] = [fault, fault]
    with pytest.raises(FetchError, match="did not answer after 2 attempt"):
        client.search("frobnic", "rt:0..")


def test_connection_refused_is_a_fetch_error(tmp_path):
    from tests.smtpserver import free_port

    client = Lore(f"http://127.0.0.1:{free_port()}", tmp_path / "c", timeout=2, retries=2,
                  backoff=0)
    with pytest.raises(FetchError, match="did not answer after 2 attempt"):
        client.fetch_thread("x@example.org")
