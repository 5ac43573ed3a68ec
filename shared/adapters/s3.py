"""S3: presigned uploads, bounded reads, and output writes."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shared.adapters.aws import client
from shared.domain.errors import ImageTooLarge
from shared.domain.ports import ObjectInfo

IMMUTABLE = "public, max-age=31536000, immutable"
_MISSING = {"404", "NoSuchKey", "NotFound"}


class Bucket:
    def __init__(self, name: str, *, public_base_url: str = "") -> None:
        self.name = name
        self._public_base_url = public_base_url.rstrip("/")
        self._s3: Any = client("s3")

    def presigned_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_seconds: int
    ) -> tuple[str, dict[str, str]]:
        post = self._s3.generate_presigned_post(
            Bucket=self.name,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_seconds,
        )
        return post["url"], post["fields"]

    def size_of(self, key: str) -> int | None:
        try:
            head = self._s3.head_object(Bucket=self.name, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return int(head["ContentLength"])

    def listed(self, key: str) -> bool:
        """Whether ``key`` exists, by listing it (needs only ``s3:ListBucket`` under its prefix);
        a refused listing raises."""
        answer = self._s3.list_objects_v2(Bucket=self.name, Prefix=key, MaxKeys=1)
        return any(item.get("Key") == key for item in answer.get("Contents", []))

    def read(self, key: str, *, max_bytes: int) -> bytes:
        """The object's bytes; refuses objects over ``max_bytes`` without reading them whole.

        S3 enforces the presigned POST's size range in the cloud; the emulator does not, and
        objects may arrive by other paths, so the limit is checked again here.
        """
        response = self._s3.get_object(Bucket=self.name, Key=key)
        length = int(response["ContentLength"])
        body = response["Body"]
        if length > max_bytes:
            body.close()
            raise ImageTooLarge(f"the photo is {length} bytes; the limit is {max_bytes}")
        data: bytes = body.read(max_bytes + 1)
        body.close()
        if len(data) > max_bytes:
            raise ImageTooLarge(f"the photo is larger than the limit of {max_bytes} bytes")
        return data

    def write(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        metadata: dict[str, str] | None = None,
        cache_control: str | None = None,
    ) -> None:
        self._s3.put_object(
            Bucket=self.name,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata=metadata or {},
            # Output keys are never rewritten with other content, so caches may keep them forever.
            CacheControl=cache_control or IMMUTABLE,
        )

    def url_for(self, key: str) -> str:
        return f"{self._public_base_url}/{key}"

    # --- S3 inbox ----------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo | None:
        try:
            head = self._s3.head_object(Bucket=self.name, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return ObjectInfo(
            key=key,
            size=int(head["ContentLength"]),
            etag=str(head.get("ETag", "")).strip('"'),
            content_type=head.get("ContentType"),
            metadata=dict(head.get("Metadata") or {}),
        )

    def read_first_bytes(self, key: str, count: int) -> bytes:
        response = self._s3.get_object(Bucket=self.name, Key=key, Range=f"bytes=0-{count - 1}")
        data: bytes = response["Body"].read(count)
        response["Body"].close()
        return data

    def read_if_exists(self, key: str, *, max_bytes: int) -> bytes | None:
        """Up to ``max_bytes + 1`` bytes of the object (so the caller can tell it is too big),
        or ``None`` when there is no such object."""
        try:
            response = self._s3.get_object(Bucket=self.name, Key=key, Range=f"bytes=0-{max_bytes}")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in _MISSING:
                return None
            if code == "InvalidRange":  # an empty object
                return b""
            raise
        data: bytes = response["Body"].read(max_bytes + 1)
        response["Body"].close()
        return data

    def copy_from(self, source_bucket: str, source_key: str, key: str) -> None:
        """Server-side copy, keeping content type and metadata."""
        source = {"Bucket": source_bucket, "Key": source_key}
        try:
            self._s3.copy_object(CopySource=source, Bucket=self.name, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "InvalidRequest":
                raise
            self._s3.copy(source, self.name, key)  # over 5 GB: a multipart copy

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.name, Key=key)


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → (bucket, key)."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3:// object URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def read_uri(uri: str, *, max_bytes: int) -> bytes | None:
    """The bytes of ``s3://bucket/key``, or None while no such object exists (async inference output).

    S3 answers a missing key with 403 AccessDenied, not 404, to a caller without ``s3:ListBucket``
    on it; the worker may list only the async prefix, so a 403 is settled by listing that exact key:
    absent means "not written yet", present (or a refused listing) means refused.
    """
    bucket, key = split_uri(uri)
    store = Bucket(bucket)
    try:
        data = store.read(key, max_bytes=max_bytes)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in _MISSING:
            return None
        if code == "AccessDenied" and not store.listed(key):
            return None
        raise
    return data
