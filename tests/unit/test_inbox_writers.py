"""Reading the writer out of an S3 event's principalId, and the check against a tenant's writers."""

from __future__ import annotations

import pytest

from shared.domain.inbox_writers import InboxWriterNotAllowed, check_writer, writer_id
from shared.inbound import dropped_objects

ROLE = "AROAJQABLZS4A3QDU576Q"
USER = "AIDAJQABLZS4A3QDU576Q"


@pytest.mark.parametrize(
    ("principal_id", "expected"),
    [
        (f"AWS:{ROLE}:partner-session", ROLE),  # an assumed role's session, as S3 reports it
        (f"AWS:{USER}", USER),
        (ROLE, ROLE),
        ("anonymous", None),
        ("AWS:not-an-id:x", None),
        ("", None),
        (None, None),
    ],
)
def test_writer_id_is_the_iam_unique_id(principal_id: str | None, expected: str | None) -> None:
    assert writer_id(principal_id) == expected


def test_a_registered_writer_passes() -> None:
    check_writer("tnt_a", f"AWS:{ROLE}:s", (ROLE,))


@pytest.mark.parametrize("principal_id", [f"AWS:{USER}", None, "anonymous", f"AWS:{ROLE}x:s"])
def test_anyone_else_is_refused_with_a_code_and_details(principal_id: str | None) -> None:
    with pytest.raises(InboxWriterNotAllowed) as raised:
        check_writer("tnt_a", principal_id, (ROLE,))
    assert raised.value.code == "inbox_writer_not_allowed"
    assert raised.value.details["tenant_id"] == "tnt_a"
    assert "inbox/tnt_a/" in raised.value.message


def test_the_notification_carries_the_writer() -> None:
    body = (
        '{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2026-12-04T10:00:00.000Z",'
        '"userIdentity":{"principalId":"AWS:' + ROLE + ':s"},'
        '"s3":{"bucket":{"name":"b"},"object":{"key":"inbox/tnt_a/x.jpg","eTag":"e"}}}]}'
    )
    (dropped,) = dropped_objects(body)
    assert dropped.writer == f"AWS:{ROLE}:s"
