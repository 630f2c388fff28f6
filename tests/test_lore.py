"""bot.lore against the fake public-inbox server: threads, search windows, errors."""

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
