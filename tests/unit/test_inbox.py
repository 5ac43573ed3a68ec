"""The S3 inbox's pure rules: key layout, option parsing and precedence, batch ids, notifications."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.domain.design import Brief, Design, InboxObject, OutputImage, SourceImage, StoredVariant
from shared.domain.errors import InboxPathInvalid, InvalidOptions, UnknownOption
from shared.domain.inbox import (
    INBOX_PREFIX,
    QUARANTINE_PREFIX,
    DropKind,
    FolderDefaults,
    InboxPath,
    PhotoOptions,
    batch_id_for,
    belongs_to,
    is_photo_fault,
    manifest_for,
    options_from_document,
    options_from_metadata,
    resolve_options,
)
from shared.domain.status import DesignStatus
from shared.resources import BUCKETS, EVENT_BUS, INBOX_BUCKET, INGEST_QUEUE, QUEUES

T0 = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)
PHOTO = InboxPath.parse("inbox/tnt_acme/agency/house-1/kitchen.jpg")


# --- keys --------------------------------------------------------------------------------
def test_a_key_splits_into_tenant_and_path_and_names_its_outbox_and_quarantine() -> None:
    assert (PHOTO.tenant_id, PHOTO.path, PHOTO.folder, PHOTO.name) == (
        "tnt_acme",
        "agency/house-1/kitchen.jpg",
        "agency/house-1",
        "kitchen.jpg",
    )
    assert PHOTO.key == "inbox/tnt_acme/agency/house-1/kitchen.jpg"
    assert PHOTO.sidecar_key == "inbox/tnt_acme/agency/house-1/kitchen.json"
    assert PHOTO.manifest_key == "outbox/tnt_acme/agency/house-1/kitchen.jpg/manifest.json"
    assert PHOTO.output_key(1, "w1024.webp") == "outbox/tnt_acme/agency/house-1/kitchen.jpg/1/w1024.webp"
    assert PHOTO.error_report_key == "outbox/tnt_acme/agency/house-1/kitchen.jpg.error.json"
    assert PHOTO.quarantine_key == "quarantine/tnt_acme/agency/house-1/kitchen.jpg"


def test_folder_defaults_are_looked_up_from_the_photo_folder_to_the_tenant_top() -> None:
    assert PHOTO.defaults_keys() == [
        "inbox/tnt_acme/agency/house-1/roomcraft.json",
        "inbox/tnt_acme/agency/roomcraft.json",
        "inbox/tnt_acme/roomcraft.json",
    ]
    top = InboxPath.parse("inbox/tnt_acme/room.png")
    assert (top.folder, top.defaults_keys(), top.sidecar_key) == (
        "",
        ["inbox/tnt_acme/roomcraft.json"],
        "inbox/tnt_acme/room.json",
    )


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("inbox/t/a/room.jpg", DropKind.PHOTO),
        ("inbox/t/a/notes.txt", DropKind.PHOTO),  # judged by content later, not by name
        ("inbox/t/a/room", DropKind.PHOTO),
        ("inbox/t/a/room.json", DropKind.OPTIONS),
        ("inbox/t/a/roomcraft.json", DropKind.OPTIONS),
        ("inbox/t/a/ROOM.JSON", DropKind.OPTIONS),
        ("inbox/t/a/", DropKind.IGNORED),
        ("inbox/t/", DropKind.IGNORED),
        ("inbox/t/a/.DS_Store", DropKind.IGNORED),
        ("inbox/t/.thumbs/room.jpg", DropKind.IGNORED),
    ],
)
def test_what_a_drop_is_comes_from_its_name(key: str, kind: DropKind) -> None:
    assert InboxPath.parse(key).kind is kind


@pytest.mark.parametrize(
    "key", ["uploads/t/x.jpg", "inbox/x.jpg", "inbox//x.jpg", "inbox/bad tenant/x.jpg", "inbox/-t/x.jpg"]
)
def test_keys_without_a_tenant_inbox_are_refused(key: str) -> None:
    with pytest.raises(InboxPathInvalid) as refused:
        InboxPath.parse(key)
    assert refused.value.code == "inbox_path_invalid"


def test_an_inbox_key_belongs_to_its_tenant_only() -> None:
    assert belongs_to("tnt_acme", PHOTO.key)
    assert not belongs_to("tnt_ac", PHOTO.key)
    assert not belongs_to("tnt_acme", "uploads/tnt_acme/x")


# --- options -----------------------------------------------------------------------------
def test_metadata_options_accept_hyphens_and_strings_for_numbers() -> None:
    options = options_from_metadata(
        {
            "room-type": "living_room",
            "style": "japandi",
            "variants": "2",
            "seed": "7",
            "palette": "#fff #000",
        },
        source=PHOTO.key,
    )
    assert options == PhotoOptions(
        room_type="living_room", style="japandi", variants=2, seed=7, palette="#fff #000"
    )


def test_metadata_written_by_sync_tools_is_not_an_option() -> None:
    options = options_from_metadata(
        {"mtime": "1700000000.1", "s3cmd-attrs": "uid:0", "style": "x"}, source="k"
    )
    assert options.style == "x"


def test_non_ascii_metadata_is_decoded_from_rfc_2047() -> None:
    options = options_from_metadata({"prompt": "=?UTF-8?B?Y2hhaXNlIGxvbmd1ZSDDoCBjw7R0w6k=?="}, source="k")
    assert options.prompt == "chaise longue à côté"


def test_an_unknown_metadata_key_is_refused_by_its_header_name() -> None:
    with pytest.raises(UnknownOption) as refused:
        options_from_metadata({"style": "japandi", "colour": "blue"}, source=PHOTO.key)
    assert refused.value.code == "unknown_option"
    assert "x-amz-meta-colour" in refused.value.message
    assert PHOTO.key in refused.value.message
    assert refused.value.details["unknown"] == ["colour"]
    assert "room_type" in refused.value.details["allowed"]


def test_the_same_option_twice_is_refused() -> None:
    with pytest.raises(InvalidOptions, match="given twice"):
        options_from_metadata({"room-type": "a", "room_type": "b"}, source="k")


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ({"variants": "9"}, "variants"),
        ({"variants": "two"}, "variants"),
        ({"seed": "-1"}, "seed"),
        ({"prompt": "x" * 2001}, "prompt"),
    ],
)
def test_option_values_out_of_range_are_invalid_options(metadata: dict[str, str], problem: str) -> None:
    with pytest.raises(InvalidOptions) as refused:
        options_from_metadata(metadata, source="k")
    assert refused.value.code == "invalid_options"
    assert refused.value.details["problems"][0]["option"] == problem


def test_a_sidecar_is_a_json_object_of_options() -> None:
    options = options_from_document(
        b'\xef\xbb\xbf{"room-type": "bedroom", "palette": ["#abc"], "variants": 3}', source="s", folder=False
    )
    assert options == PhotoOptions(room_type="bedroom", palette=["#abc"], variants=3)


@pytest.mark.parametrize(
    ("data", "error", "fragment"),
    [
        (b"{not json", InvalidOptions, "not valid JSON"),
        (b'["style", "japandi"]', InvalidOptions, "JSON object"),
        (b"\xff\xfe", InvalidOptions, "not valid JSON"),
        (b'{"style": "japandi", "stlye": "boho"}', UnknownOption, "'stlye'"),
        (b'{"batch": "spring"}', UnknownOption, "only be set in a folder's roomcraft.json"),
        (b'{"variants": true, "pad": "' + b"x" * 70_000 + b'"}', InvalidOptions, "at most"),
    ],
)
def test_bad_sidecars_are_refused_with_a_clear_message(
    data: bytes, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as refused:
        options_from_document(data, source="inbox/t/a/x.json", folder=False)
    assert fragment in str(refused.value)
    assert "inbox/t/a/x.json" in str(refused.value)


def test_a_roomcraft_json_may_name_a_batch() -> None:
    defaults = options_from_document(b'{"style": "coastal", "batch": "spring"}', source="d", folder=True)
    assert defaults == FolderDefaults(style="coastal", batch="spring")


def test_metadata_beats_the_sidecar_which_beats_the_folder_defaults_option_by_option() -> None:
    resolved = resolve_options(
        PHOTO,
        metadata=PhotoOptions(style="art_deco"),
        sidecar=PhotoOptions(style="japandi", palette="#fff", prompt="a reading nook"),
        defaults=FolderDefaults(room_type="bedroom", style="coastal", variants=3, batch="spring"),
    )
    assert (resolved.room_type, resolved.style, resolved.palette, resolved.prompt) == (
        "bedroom",
        "art_deco",
        "#fff",
        "a reading nook",
    )
    assert (resolved.variants, resolved.seed, resolved.batch) == (3, None, "spring")


def test_a_photo_without_room_type_or_style_says_where_to_set_them() -> None:
    with pytest.raises(InvalidOptions) as refused:
        resolve_options(PHOTO, metadata=PhotoOptions(style="japandi"), sidecar=None, defaults=None)
    message = refused.value.message
    assert "no room type" in message
    assert "x-amz-meta-room-type" in message
    assert "kitchen.json" in message
    assert "roomcraft.json" in message
    assert refused.value.details["missing"] == ["room_type"]


# --- batches -----------------------------------------------------------------------------
def test_batch_ids_are_per_folder_and_drop_hour_or_label() -> None:
    same_hour = batch_id_for(PHOTO, dropped_at=T0, label=None)
    assert same_hour.startswith("bat_")
    assert len(same_hour) == 30
    assert batch_id_for(PHOTO, dropped_at=T0.replace(minute=59), label=None) == same_hour
    assert batch_id_for(PHOTO, dropped_at=T0.replace(hour=13), label=None) != same_hour
    sibling = InboxPath.parse("inbox/tnt_acme/agency/house-1/bath.jpg")
    assert batch_id_for(sibling, dropped_at=T0, label=None) == same_hour
    other_folder = InboxPath.parse("inbox/tnt_acme/agency/house-2/bath.jpg")
    assert batch_id_for(other_folder, dropped_at=T0, label=None) != same_hour
    other_tenant = InboxPath.parse("inbox/tnt_other/agency/house-1/kitchen.jpg")
    assert batch_id_for(other_tenant, dropped_at=T0, label=None) != same_hour
    labelled = batch_id_for(PHOTO, dropped_at=T0, label="spring")
    assert batch_id_for(PHOTO, dropped_at=T0.replace(day=24), label="spring") == labelled != same_hour


# --- reports -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "fault"),
    [
        ("image_corrupt", True),
        ("image_too_small", True),
        ("unknown_style", True),
        ("unknown_option", True),
        ("provider_unavailable", False),
        ("internal_error", False),
    ],
)
def test_only_the_photo_s_own_faults_quarantine_it(code: str, fault: bool) -> None:
    assert is_photo_fault(code) is fault


def test_the_manifest_lists_each_variant_by_its_outbox_key_and_cdn_url() -> None:
    design = Design(
        design_id="dsn_1",
        tenant_id="tnt_acme",
        status=DesignStatus.SUCCEEDED,
        source=SourceImage(inbox=InboxObject(key=PHOTO.key, etag="e1")),
        brief=Brief(room_type="kitchen", style="japandi", seed=3),
        provider="preview",
        storage_token="tok",
        created_at=T0,
        updated_at=T0,
        finished_at=T0,
        batch_id="bat_1",
        outputs=(
            OutputImage(
                index=0,
                variants=(
                    StoredVariant(
                        name="full",
                        key="designs/tnt_acme/dsn_1/tok/0/full.jpg",
                        content_type="image/jpeg",
                        width=400,
                        height=300,
                        bytes=9000,
                    ),
                ),
                blurhash="LEHV6nWB2yk8",
                dominant_color="#aabbcc",
                metadata={"preview": "true"},
            ),
        ),
    )
    manifest = manifest_for(design, PHOTO, url_for=lambda key: f"https://cdn.test/{key}", now=T0)
    assert manifest.source == InboxObject(key=PHOTO.key, etag="e1")
    assert (manifest.batch_id, manifest.api_path, manifest.status) == (
        "bat_1",
        "/v1/designs/dsn_1",
        DesignStatus.SUCCEEDED,
    )
    full = manifest.outputs[0].files["full"]
    assert full.key == "outbox/tnt_acme/agency/house-1/kitchen.jpg/0/full.jpg"
    assert full.url == "https://cdn.test/designs/tnt_acme/dsn_1/tok/0/full.jpg"
    assert manifest.outputs[0].preview is True


# --- the resource definition -------------------------------------------------------------
def test_the_inbox_bucket_notifies_the_ingest_queue_and_expires_drops() -> None:
    assert INBOX_BUCKET in BUCKETS
    assert INGEST_QUEUE in QUEUES
    (notification,) = INBOX_BUCKET.notifications
    assert (notification.prefix, notification.target_queue) == (INBOX_PREFIX, INGEST_QUEUE.id)
    assert {INBOX_PREFIX, QUARANTINE_PREFIX} <= {prefix for prefix, _ in INBOX_BUCKET.expire_prefixes}
    assert INGEST_QUEUE.visibility_timeout_seconds >= 6 * 60
    rule = next(r for r in EVENT_BUS.rules if r.target_queue == "writeback")
    assert rule.event_pattern("roomcraft") == {
        "source": ["roomcraft"],
        "detail-type": [{"prefix": "design."}],
        "detail": {"origin": ["s3"], "status": ["succeeded", "failed", "canceled"]},
    }


# --- hostile keys (issue 13 item 2) --------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("inbox/t//x.jpg", "empty folder name"),
        ("inbox/t/a//x.jpg", "empty folder name"),
        ("inbox/t/a/./x.jpg", "'.' or '..'"),
        ("inbox/t/../u/x.jpg", "'.' or '..'"),
        ("inbox/t/a/..", "'.' or '..'"),
        ("inbox/t/a\x00b.jpg", "control characters"),
        ("inbox/t/" + "/".join(["f"] * 70) + "/x.jpg", "folders deep"),
        ("inbox/t/" + "é" * 500 + ".jpg", "bytes"),
    ],
)
def test_keys_the_outbox_cannot_repeat_have_a_problem(key: str, problem: str) -> None:
    path = InboxPath.parse(key)
    assert path.key_problem is not None
    assert problem in path.key_problem


@pytest.mark.parametrize(
    "key", ["inbox/t/a/room.jpg", "inbox/t/a/", "inbox/t/.DS_Store", "inbox/t/" + "a" * 970 + ".jpg"]
)
def test_ordinary_keys_and_folder_markers_have_none(key: str) -> None:
    assert InboxPath.parse(key).key_problem is None


def test_the_longest_accepted_path_keeps_every_outbox_key_within_s3s_limit() -> None:
    from shared.domain.inbox import S3_MAX_KEY_BYTES

    prefix = "inbox/tnt_" + "x" * 60 + "/"
    for length in range(900, 1100):
        path = InboxPath.parse(prefix + "d" * (length - len(prefix)))
        if path.key_problem is not None:
            continue
        longest = max(
            [path.manifest_key, path.error_report_key, path.output_key(3, "w2048.webp"), path.quarantine_key],
            key=lambda k: len(k.encode()),
        )
        assert len(longest.encode()) <= S3_MAX_KEY_BYTES


@pytest.mark.parametrize("key", ["inbox/t//x.jpg", "inbox/t/a//b///x.jpg", "inbox/t/" + "/" * 5000 + "x.jpg"])
def test_the_defaults_lookup_ends_for_any_key(key: str) -> None:
    """It looped for ever on ``inbox/<tenant>//x.jpg`` (``posixpath.dirname("/") == "/"``), taking
    gigabytes: run in a child with a memory cap, so a regression fails instead of hanging the suite."""
    import resource
    import subprocess
    import sys

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    code = (
        "import json, sys\n"
        "from shared.domain.inbox import InboxPath\n"
        "print(json.dumps(InboxPath.parse(sys.argv[1]).defaults_keys()))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code, key],
        capture_output=True,
        text=True,
        timeout=120,  # bounds a regression only
        preexec_fn=cap_memory,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    keys = json.loads(child.stdout)
    assert keys[-1] == "inbox/t/roomcraft.json"
    assert len(keys) <= 65
