"""The S3 inbox: key layout, a photo's options, batch ids, and what is written back. Pure.

Layout of the inbox bucket, per tenant (docs/inbox.md):

```
inbox/{tenant}/{path}                 drops: photos, sidecars ({stem}.json), folder defaults (roomcraft.json)
outbox/{tenant}/{path}/manifest.json  the design's record once it is finished (written last)
outbox/{tenant}/{path}/{i}/{variant}  the images: full.jpg, w2048.webp ... thumb.webp
outbox/{tenant}/{path}.error.json     why a photo yielded no images (code, message)
quarantine/{tenant}/{path}            the original of a photo refused for its own fault
```

A photo's options come from, highest precedence first: its object metadata (``x-amz-meta-*``),
its sidecar ``{stem}.json`` beside it, and the nearest ``roomcraft.json`` in its folder or a
folder above it (the nearest file wins whole; files are not merged). Unknown keys are refused.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.domain.design import MAX_SEED, MAX_VARIANTS, Brief, Design, DesignError, InboxObject
from shared.domain.errors import (
    ImageError,
    InboxPathInvalid,
    InvalidOptions,
    UnknownOption,
    ValidationFailed,
)
from shared.domain.ids import deterministic_id
from shared.domain.status import DesignStatus

INBOX_PREFIX = "inbox/"
OUTBOX_PREFIX = "outbox/"
QUARANTINE_PREFIX = "quarantine/"
DEFAULTS_FILE = "roomcraft.json"
MANIFEST_FILE = "manifest.json"
ERROR_REPORT_SUFFIX = ".error.json"
OPTIONS_FILE_MAX_BYTES = 64 * 1024

OPTION_NAMES = ("room_type", "style", "palette", "prompt", "variants", "seed")
FOLDER_OPTION_NAMES = (*OPTION_NAMES, "batch")
IGNORED_METADATA = frozenset({"mtime", "s3cmd-attrs"})
"""Metadata that sync tools add on their own (rclone, s3cmd): not options, so not refused."""

_TENANT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

S3_MAX_KEY_BYTES = 1024
OUTBOX_SUFFIX_MAX_BYTES = 32
"""Room kept after ``outbox/{tenant}/{path}`` for the longest name written there
(``/manifest.json``, ``/{i}/w2048.webp``, ``.error.json``), so every outbox key fits in S3's limit."""
MAX_PATH_PARTS = 64
"""Folder depth a drop may have; also bounds every loop over a key's parts."""
REFUSED_KEYS_FOLDER = "refused-keys"
"""``quarantine/{tenant}/refused-keys/{digest}``: where drops with an unusable key go (with a report)."""
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# --- keys --------------------------------------------------------------------------------
class DropKind(StrEnum):
    PHOTO = "photo"
    OPTIONS = "options"
    """A sidecar ``{stem}.json`` or a ``roomcraft.json``: read for options, never a design."""
    IGNORED = "ignored"
    """Folder markers (``…/``) and hidden files or folders (``.DS_Store``, ``.git/…``)."""


@dataclass(frozen=True)
class InboxPath:
    """``inbox/{tenant_id}/{path}``; ``path`` is what the outbox and quarantine keys repeat."""

    tenant_id: str
    path: str

    @classmethod
    def parse(cls, key: str) -> InboxPath:
        if not key.startswith(INBOX_PREFIX):
            raise InboxPathInvalid(f"{key!r} is not under {INBOX_PREFIX}", details={"key": key})
        tenant_id, slash, path = key[len(INBOX_PREFIX) :].partition("/")
        if not slash or not _TENANT_RE.fullmatch(tenant_id):
            raise InboxPathInvalid(
                f"{key!r} is not inbox/{{tenant}}/{{path}} with a tenant id of letters, digits, - and _",
                details={"key": key},
            )
        return cls(tenant_id=tenant_id, path=path)

    @property
    def key_problem(self) -> str | None:
        """Why this key cannot be used as it is (``None`` when it can): a path that the outbox and
        quarantine could not repeat safely. Folder markers (``…/``) are not checked: they are ignored."""
        if self.path.endswith("/"):
            return None
        parts = self.path.split("/")
        if len(parts) > MAX_PATH_PARTS:
            return f"the key is {len(parts)} folders deep; at most {MAX_PATH_PARTS} are allowed"
        if any(part == "" for part in parts):
            return "the key has an empty folder name (two slashes in a row, or a leading slash)"
        if any(part in (".", "..") for part in parts):
            return "the key has a '.' or '..' folder name"
        if _CONTROL_RE.search(self.path):
            return "the key has control characters"
        longest = len(f"{OUTBOX_PREFIX}{self.tenant_id}/{self.path}".encode()) + OUTBOX_SUFFIX_MAX_BYTES
        if longest > S3_MAX_KEY_BYTES:
            limit = S3_MAX_KEY_BYTES - OUTBOX_SUFFIX_MAX_BYTES - len(f"{OUTBOX_PREFIX}{self.tenant_id}/")
            return (
                f"the path is {len(self.path.encode())} bytes; at most {limit} bytes fit in S3's "
                f"{S3_MAX_KEY_BYTES}-byte keys once the outbox names its results"
            )
        return None

    def refused_key(self, digest: str) -> str:
        """Where the original of a drop with an unusable key goes: a short key of its own."""
        return f"{QUARANTINE_PREFIX}{self.tenant_id}/{REFUSED_KEYS_FOLDER}/{digest}"

    @property
    def key(self) -> str:
        return f"{INBOX_PREFIX}{self.tenant_id}/{self.path}"

    @property
    def folder(self) -> str:
        """The photo's folder relative to the tenant's inbox (``""`` at its top)."""
        return posixpath.dirname(self.path)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def kind(self) -> DropKind:
        if not self.name or any(part.startswith(".") for part in self.path.split("/")):
            return DropKind.IGNORED
        if self.name.lower().endswith(".json"):
            return DropKind.OPTIONS
        return DropKind.PHOTO

    def _in_inbox(self, folder: str, name: str) -> str:
        return f"{INBOX_PREFIX}{self.tenant_id}/{folder + '/' if folder else ''}{name}"

    @property
    def sidecar_key(self) -> str:
        stem = posixpath.splitext(self.name)[0] or self.name
        return self._in_inbox(self.folder, f"{stem}.json")

    def defaults_keys(self) -> list[str]:
        """Every ``roomcraft.json`` that may apply, nearest first, up to the tenant's inbox.

        One per folder of the path, so the loop ends whatever the key holds (``//`` included)."""
        folders = self.folder.split("/")[:MAX_PATH_PARTS] if self.folder else []
        keys = [
            self._in_inbox("/".join(folders[:depth]), DEFAULTS_FILE) for depth in range(len(folders), 0, -1)
        ]
        keys.append(self._in_inbox("", DEFAULTS_FILE))
        return keys

    @property
    def outbox_folder(self) -> str:
        return f"{OUTBOX_PREFIX}{self.tenant_id}/{self.path}/"

    @property
    def manifest_key(self) -> str:
        return self.outbox_folder + MANIFEST_FILE

    @property
    def error_report_key(self) -> str:
        return f"{OUTBOX_PREFIX}{self.tenant_id}/{self.path}{ERROR_REPORT_SUFFIX}"

    @property
    def quarantine_key(self) -> str:
        return f"{QUARANTINE_PREFIX}{self.tenant_id}/{self.path}"

    def output_key(self, index: int, file_name: str) -> str:
        return f"{self.outbox_folder}{index}/{file_name}"


def belongs_to(tenant_id: str, inbox_key: str) -> bool:
    """True when ``inbox_key`` is in ``tenant_id``'s own inbox."""
    return inbox_key.startswith(f"{INBOX_PREFIX}{tenant_id}/")


# --- options -----------------------------------------------------------------------------
class PhotoOptions(BaseModel):
    """Options of one photo; every field optional, because each source may give only some."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    room_type: str | None = None
    style: str | None = None
    palette: str | list[str] | None = None
    prompt: str | None = Field(default=None, max_length=2000)
    variants: int | None = Field(default=None, ge=1, le=MAX_VARIANTS)
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)


class FolderDefaults(PhotoOptions):
    """A ``roomcraft.json``: defaults for photos in its folder and below, and the batch label."""

    batch: str | None = Field(default=None, min_length=1, max_length=128)
    """Photos of one folder with the same label share a batch however long the drop takes."""


@dataclass(frozen=True)
class ResolvedOptions:
    room_type: str
    style: str
    palette: str | list[str] | None
    prompt: str | None
    variants: int
    seed: int | None
    batch: str | None


def _option_name(raw: str) -> str:
    return raw.strip().lower().replace("-", "_")


def _decode_metadata_value(value: str) -> str:
    """S3 returns non-ASCII metadata as RFC 2047 encoded words (``=?UTF-8?B?...?=``)."""
    if "=?" not in value:
        return value
    decoded = []
    for part, charset in decode_header(value):
        decoded.append(part.decode(charset or "utf-8", "replace") if isinstance(part, bytes) else part)
    return "".join(decoded)


def _validated(model: type[PhotoOptions], values: dict[str, Any], source: str) -> PhotoOptions:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = [
            {"option": ".".join(str(p) for p in problem["loc"]), "message": problem["msg"]}
            for problem in error.errors()
        ]
        summary = "; ".join(f"{p['option']}: {p['message']}" for p in problems)
        raise InvalidOptions(
            f"invalid options in {source}: {summary}", details={"source": source, "problems": problems}
        ) from None


def _refuse_unknown(names: dict[str, str], allowed: tuple[str, ...], source: str, shown: str) -> None:
    """``names``: normalised name -> the name as written. ``shown`` formats a written name."""
    unknown = sorted(written for name, written in names.items() if name not in allowed)
    if not unknown:
        return
    listed = ", ".join(shown.format(name) for name in unknown)
    hint = ""
    if "batch" in names and "batch" not in allowed:
        hint = " ('batch' can only be set in a folder's roomcraft.json)"
    raise UnknownOption(
        f"unknown option {listed} in {source}{hint}; known options: {', '.join(allowed)}",
        details={"source": source, "unknown": unknown, "allowed": list(allowed)},
    )


def options_from_metadata(metadata: Mapping[str, str], *, source: str) -> PhotoOptions:
    """Options from an object's user metadata (keys as S3 returns them: lower case, no prefix).

    ``room-type`` and ``room_type`` are the same option; tool metadata (``IGNORED_METADATA``)
    is skipped; any other unknown key raises ``UnknownOption``.
    """
    values: dict[str, Any] = {}
    written: dict[str, str] = {}
    for raw_name, raw_value in metadata.items():
        if raw_name.lower() in IGNORED_METADATA:
            continue
        name = _option_name(raw_name)
        if name in written:
            raise InvalidOptions(
                f"option {name} is given twice in the metadata of {source} "
                f"(x-amz-meta-{written[name]} and x-amz-meta-{raw_name})",
                details={"source": source, "option": name},
            )
        written[name] = raw_name
        values[name] = _decode_metadata_value(raw_value)
    _refuse_unknown(written, OPTION_NAMES, f"the metadata of {source}", "x-amz-meta-{}")
    return _validated(PhotoOptions, values, f"the metadata of {source}")


def options_from_document(data: bytes, *, source: str, folder: bool) -> PhotoOptions:
    """Options from a sidecar (``folder=False``) or a ``roomcraft.json`` (``folder=True``)."""
    if len(data) > OPTIONS_FILE_MAX_BYTES:
        raise InvalidOptions(
            f"{source} is {len(data)} bytes; an options file has at most {OPTIONS_FILE_MAX_BYTES}",
            details={"source": source},
        )
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidOptions(f"{source} is not valid JSON: {error}", details={"source": source}) from None
    if not isinstance(document, dict):
        raise InvalidOptions(
            f"{source} must hold a JSON object of options, not {type(document).__name__}",
            details={"source": source},
        )
    values: dict[str, Any] = {}
    written: dict[str, str] = {}
    for raw_name, value in document.items():
        name = _option_name(raw_name)
        if name in written:
            raise InvalidOptions(
                f"option {name} is given twice in {source}", details={"source": source, "option": name}
            )
        written[name] = raw_name
        values[name] = value
    allowed = FOLDER_OPTION_NAMES if folder else OPTION_NAMES
    _refuse_unknown(written, allowed, source, "{!r}")
    return _validated(FolderDefaults if folder else PhotoOptions, values, source)


def resolve_options(
    path: InboxPath,
    *,
    metadata: PhotoOptions,
    sidecar: PhotoOptions | None,
    defaults: PhotoOptions | None,
) -> ResolvedOptions:
    """Merge option by option: metadata over sidecar over folder defaults; room type and style
    must come from one of them."""
    merged: dict[str, Any] = {}
    for layer in (defaults, sidecar, metadata):
        if layer is not None:
            merged.update(layer.model_dump(exclude_none=True))
    missing = [name for name in ("room_type", "style") if not merged.get(name)]
    if missing:
        sidecar_name = posixpath.basename(path.sidecar_key)
        raise InvalidOptions(
            f"{path.key} has no {' and no '.join(m.replace('_', ' ') for m in missing)}: set "
            f"x-amz-meta-{missing[0].replace('_', '-')} on the photo, or {missing[0]!r} in "
            f"{sidecar_name} beside it or in a {DEFAULTS_FILE} of its folder or a folder above",
            details={"source": path.key, "missing": missing},
        )
    batch = defaults.batch if isinstance(defaults, FolderDefaults) else None
    return ResolvedOptions(
        room_type=merged["room_type"],
        style=merged["style"],
        palette=merged.get("palette"),
        prompt=merged.get("prompt"),
        variants=merged.get("variants", 1),
        seed=merged.get("seed"),
        batch=batch,
    )


# --- batches -----------------------------------------------------------------------------
def batch_id_for(path: InboxPath, *, dropped_at: datetime, label: str | None) -> str:
    """Photos of one folder share a batch: per drop hour (UTC), or per ``batch`` label when the
    folder's ``roomcraft.json`` sets one. Deterministic, so every retry finds the same batch."""
    window = f"label:{label}" if label else f"hour:{dropped_at.astimezone(UTC):%Y-%m-%dT%H}"
    return deterministic_id("bat", path.tenant_id, path.folder, window)


# --- drops ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DroppedObject:
    """One ObjectCreated record: which object, which version of it, and when."""

    bucket: str
    key: str
    """Decoded: S3 URL-encodes keys in notifications (``living+room.jpg``)."""
    etag: str | None
    version_id: str | None
    size: int | None
    event_time: datetime
    writer: str | None = None
    """``userIdentity.principalId`` of the record: the identity S3 says wrote the object."""

    def ingest_key(self, etag: str) -> str:
        """The idempotency key: bucket/key and the version id, or the ETag when unversioned."""
        if self.version_id and self.version_id != "null":
            return f"{self.bucket}/{self.key}#v:{self.version_id}"
        return f"{self.bucket}/{self.key}#etag:{etag}"


# --- ingest records ----------------------------------------------------------------------
class IngestStatus(StrEnum):
    CLAIMED = "claimed"
    """The first delivery took it; the design (id chosen in advance) may or may not exist yet."""
    CREATED = "created"
    REJECTED = "rejected"


class IngestRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    ingest_key: str
    tenant_id: str
    bucket: str
    key: str
    etag: str
    design_id: str
    """Chosen when the record is claimed, so a retry creates this design or finds it."""
    batch_id: str
    status: IngestStatus = IngestStatus.CLAIMED
    error_code: str | None = None
    created_at: datetime
    updated_at: datetime


# --- what is written back ----------------------------------------------------------------
def _codes(error_type: type[Exception]) -> set[str]:
    codes = {str(getattr(error_type, "code", ""))}
    for subclass in error_type.__subclasses__():
        codes |= _codes(subclass)
    return codes


def is_photo_fault(code: str) -> bool:
    """True when a failure is the photo's or its options' fault: the original is quarantined.
    Other failures (provider outage, our bugs) leave it in the inbox."""
    return code in _codes(ImageError) | _codes(ValidationFailed)


class InboxErrorReport(BaseModel):
    """``outbox/{tenant}/{path}.error.json``."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    source: InboxObject
    stage: Literal["ingest", "design"]
    """``ingest``: refused before a design existed; ``design``: the design failed."""
    design_id: str | None = None
    quarantine_key: str | None = None
    """Where the original went; ``null`` when it stayed in the inbox (not the photo's fault)."""
    occurred_at: datetime


class ManifestFile(BaseModel):
    key: str
    """The copy in the outbox (same bucket as the drop)."""
    url: str
    """The same image behind the CDN."""
    content_type: str
    width: int
    height: int
    bytes: int


class ManifestOutput(BaseModel):
    index: int
    files: dict[str, ManifestFile]
    """By variant: ``full`` (JPEG), ``w2048``/``w1024``/``w512`` (WebP), ``thumb`` (WebP)."""
    blurhash: str
    dominant_color: str
    preview: bool


class InboxManifest(BaseModel):
    """``outbox/{tenant}/{path}/manifest.json``: written last, once the design is finished."""

    design_id: str
    tenant_id: str
    status: DesignStatus
    origin: str
    batch_id: str | None
    provider: str
    source: InboxObject
    brief: Brief
    outputs: list[ManifestOutput]
    error: DesignError | None
    api_path: str
    """``GET`` it on the API for the live design."""
    created_at: datetime
    finished_at: datetime | None
    written_at: datetime


def manifest_for(
    design: Design, path: InboxPath, *, url_for: Callable[[str], str], now: datetime
) -> InboxManifest:
    assert design.source.inbox is not None
    outputs = [
        ManifestOutput(
            index=output.index,
            files={
                variant.name: ManifestFile(
                    key=path.output_key(output.index, posixpath.basename(variant.key)),
                    url=url_for(variant.key),
                    content_type=variant.content_type,
                    width=variant.width,
                    height=variant.height,
                    bytes=variant.bytes,
                )
                for variant in output.variants
            },
            blurhash=output.blurhash,
            dominant_color=output.dominant_color,
            preview=output.metadata.get("preview") == "true",
        )
        for output in design.outputs
    ]
    return InboxManifest(
        design_id=design.design_id,
        tenant_id=design.tenant_id,
        status=design.status,
        origin=design.origin.value,
        batch_id=design.batch_id,
        provider=design.provider,
        source=design.source.inbox,
        brief=design.brief,
        outputs=outputs,
        error=design.error,
        api_path=f"/v1/designs/{design.design_id}",
        created_at=design.created_at,
        finished_at=design.finished_at,
        written_at=now,
    )
