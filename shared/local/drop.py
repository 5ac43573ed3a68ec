"""``roomcraft inbox drop``: copy photos into a tenant's S3 inbox and wait for what comes back.

What ``aws s3 cp --recursive`` does, plus three things it cannot: options files (``*.json``)
are uploaded before the photos, so no photo is read without its sidecar or ``roomcraft.json``;
brief options become object metadata; and ``--wait`` watches the outbox until every photo has a
manifest or an error report. Works against the embedded local cloud (``roomcraft dev``) and a
deployment alike; it is a client of the inbox bucket, nothing more.
"""

from __future__ import annotations

import json
import mimetypes
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from shared.domain.inbox import ERROR_REPORT_SUFFIX, INBOX_PREFIX, MANIFEST_FILE, OUTBOX_PREFIX


@dataclass(frozen=True)
class DropFile:
    local: Path
    key: str
    options_file: bool


def plan_drop(paths: Iterable[Path], *, tenant: str, folder: str) -> list[DropFile]:
    """Which local file goes to which inbox key; options files first, hidden files skipped.

    A directory keeps its inner layout under ``folder``; a file goes straight into ``folder``.
    """
    prefix = f"{INBOX_PREFIX}{tenant}/" + (folder.strip("/") + "/" if folder.strip("/") else "")
    files: list[DropFile] = []
    for path in paths:
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in found:
            relative = file.relative_to(path).as_posix() if path.is_dir() else file.name
            if any(part.startswith(".") for part in relative.split("/")):
                continue
            files.append(DropFile(file, prefix + relative, file.suffix.lower() == ".json"))
    return sorted(files, key=lambda f: (not f.options_file, f.key))


def metadata_of(options: dict[str, Any]) -> dict[str, str]:
    """Brief options as S3 user metadata (``x-amz-meta-room-type`` ...)."""
    return {name.replace("_", "-"): str(value) for name, value in options.items() if value is not None}


def result_keys(key: str) -> tuple[str, str]:
    """Where the manifest and the error report of the photo at inbox ``key`` will appear."""
    path = OUTBOX_PREFIX + key[len(INBOX_PREFIX) :]
    return f"{path}/{MANIFEST_FILE}", path + ERROR_REPORT_SUFFIX


def s3_client(endpoint_url: str | None) -> Any:
    import boto3

    if endpoint_url and not os.environ.get("AWS_ACCESS_KEY_ID"):
        from shared.local.cloud import LOCAL_CREDENTIALS

        return boto3.session.Session(
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=LOCAL_CREDENTIALS["AWS_REGION"],
        ).client("s3", endpoint_url=endpoint_url)
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url)


def upload(s3: Any, bucket: str, files: list[DropFile], metadata: dict[str, str]) -> None:
    def put(file: DropFile) -> None:
        content_type = mimetypes.guess_type(file.local.name)[0] or "application/octet-stream"
        s3.put_object(
            Bucket=bucket,
            Key=file.key,
            Body=file.local.read_bytes(),
            ContentType=content_type,
            Metadata={} if file.options_file else metadata,
        )

    for options_file in (f for f in files if f.options_file):
        put(options_file)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, [f for f in files if not f.options_file]))


def wait_for_results(
    s3: Any,
    bucket: str,
    photos: list[DropFile],
    *,
    since: datetime,
    timeout: float,
    on_result: Callable[[DropFile, str, dict[str, Any]], None],
) -> dict[str, dict[str, Any]]:
    """Poll the outbox until each photo has a manifest (a finished design) or an error report
    written after ``since`` (reports of earlier drops under the same name are overwritten, so
    an older one may still be there)."""
    pending = {photo.key: photo for photo in photos}
    results: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, photo in list(pending.items()):
            for candidate in reversed(result_keys(key)):  # a failed design has both: the report first
                try:
                    found = s3.get_object(Bucket=bucket, Key=candidate, IfModifiedSince=since)
                except ClientError as error:  # 404 or 304 (older than this drop)
                    if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "304", "NotModified"}:
                        continue
                    raise
                results[key] = json.loads(found["Body"].read())
                on_result(photo, candidate, results[key])
                del pending[key]
                break
        if pending:
            time.sleep(1.0)
    return results
