"""``roomcraft inbox drop``: the upload plan, options as metadata, and waiting for results (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from shared.cli import main
from shared.local.drop import DropFile, metadata_of, plan_drop, result_keys, upload, wait_for_results


def test_options_files_go_first_and_folders_keep_their_layout(tmp_path: Path) -> None:
    (tmp_path / "house" / "up").mkdir(parents=True)
    for name in ("house/b.jpg", "house/a.jpg", "house/a.json", "house/up/roomcraft.json", "house/.DS_Store"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "single.png").write_bytes(b"x")
    plan = plan_drop([tmp_path / "house", tmp_path / "single.png"], tenant="tnt_a", folder="/lot-7/")
    assert [(f.key, f.options_file) for f in plan] == [
        ("inbox/tnt_a/lot-7/a.json", True),
        ("inbox/tnt_a/lot-7/up/roomcraft.json", True),
        ("inbox/tnt_a/lot-7/a.jpg", False),
        ("inbox/tnt_a/lot-7/b.jpg", False),
        ("inbox/tnt_a/lot-7/single.png", False),
    ]
    assert plan_drop([tmp_path / "single.png"], tenant="t", folder="")[0].key == "inbox/t/single.png"


def test_brief_options_become_metadata_and_results_have_known_keys() -> None:
    assert metadata_of({"room_type": "bedroom", "variants": 2, "seed": None}) == {
        "room-type": "bedroom",
        "variants": "2",
    }
    assert result_keys("inbox/t/lot/a.jpg") == (
        "outbox/t/lot/a.jpg/manifest.json",
        "outbox/t/lot/a.jpg.error.json",
    )


def test_waiting_skips_reports_of_earlier_drops(aws: dict[str, str], tmp_path: Path) -> None:
    s3: Any = boto3.client("s3")
    bucket = aws["ROOMCRAFT_INBOX_BUCKET"]
    s3.put_object(Bucket=bucket, Key="outbox/t/a.jpg.error.json", Body=b'{"code": "stale"}')
    (tmp_path / "a.jpg").write_bytes(b"photo")
    photos = [DropFile(tmp_path / "a.jpg", "inbox/t/a.jpg", options_file=False)]
    seen: list[str] = []

    later = datetime.now(UTC) + timedelta(seconds=5)
    assert (
        wait_for_results(s3, bucket, photos, since=later, timeout=0.5, on_result=lambda *a: seen.append(a[1]))
        == {}
    )

    upload(s3, bucket, photos, {"style": "japandi"})
    assert s3.head_object(Bucket=bucket, Key="inbox/t/a.jpg")["Metadata"] == {"style": "japandi"}
    s3.put_object(Bucket=bucket, Key="outbox/t/a.jpg/manifest.json", Body=json.dumps({"status": "succeeded"}))
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    results = wait_for_results(
        s3, bucket, photos, since=earlier, timeout=5, on_result=lambda *a: seen.append(a[1])
    )
    # Both are newer than `earlier`: the error report wins, as for a failed design with both.
    assert results == {"inbox/t/a.jpg": {"code": "stale"}}
    assert seen == ["outbox/t/a.jpg.error.json"]


def test_the_cli_refuses_missing_paths(tmp_path: Path, capsys: Any) -> None:
    assert main(["inbox", "drop", str(tmp_path / "nope.jpg")]) == 2
    assert "no such file" in capsys.readouterr().out
