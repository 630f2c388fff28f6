import pytest

from bot.errors import InputError
from bot.inputs import messages_from_bytes, parse_target
from tests.conftest import EXAMPLE


@pytest.mark.parametrize("arg", [
    "20220728221759.3492539-3-seanjc@google.com",
    "<20220728221759.3492539-3-seanjc@google.com>",
    "id:20220728221759.3492539-3-seanjc@google.com",
])
def test_message_id_forms(arg):
    target = parse_target(arg)
    assert (target.kind, target.value, target.server) == (
        "msgid", "20220728221759.3492539-3-seanjc@google.com", None)


def test_lore_url_gives_msgid_and_server():
    target = parse_target("https://lore.kernel.org/all/20220728221759.3492539-3-seanjc@google.com/")
    assert target.kind == "msgid"
    assert target.value == "20220728221759.3492539-3-seanjc@google.com"
    assert target.server == "https://lore.kernel.org"


def test_lore_url_with_list_and_encoded_msgid():
    target = parse_target("https://lore.kernel.org/kvm/a%2Bb@example.org/T/#u")
    assert target.value == "a+b@example.org"


def test_file_and_stdin():
    assert parse_target(str(EXAMPLE)).kind == "file"
    assert parse_target("-").kind == "stdin"


@pytest.mark.parametrize("arg", ["not-a-thing", "https://lore.kernel.org/all/"])
def test_garbage_is_a_clear_error(arg):
    with pytest.raises(InputError, match="message-id"):
        parse_target(arg)


def test_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        parse_target(str(tmp_path))


def test_format_patch_without_message_id_gets_a_stable_one():
    raw = b"From 1234 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\nSubject: [PATCH] x\n\nbody\n"
    first = messages_from_bytes(raw, "x")[0]["Message-ID"]
    assert first == messages_from_bytes(raw, "x")[0]["Message-ID"]
    assert first.startswith("<local-") and first.endswith("@reviewbot.invalid>")


def test_empty_and_non_mail_input():
    with pytest.raises(InputError, match="empty"):
        messages_from_bytes(b"  \n", "x")
