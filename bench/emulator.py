"""The AWS API emulator for benchmarks: a moto server with Roomcraft's resources, and test data."""

from __future__ import annotations

import io
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from shared.local.cloud import LOCAL_CREDENTIALS, MotoServer
from shared.local.provision import provision_resources


@contextmanager
def emulator(stage: str = "bench") -> Iterator[dict[str, str]]:
    """A provisioned moto server with the default tenant; yields the environment handlers need (and
    that tenant's API key as ``ROOMCRAFT_LOCAL_API_KEY``), also set in ``os.environ``."""
    from shared import bootstrap

    server = MotoServer()
    saved = dict(os.environ)
    server.start()
    try:
        os.environ.update(LOCAL_CREDENTIALS)
        resources = provision_resources(stage=stage, endpoint_url=server.url)
        env = {
            **LOCAL_CREDENTIALS,
            **resources,
            "ROOMCRAFT_STAGE": stage,
            "ROOMCRAFT_AWS_ENDPOINT_URL": server.url,
            "ROOMCRAFT_CDN_BASE_URL": "https://cdn.bench.invalid",
            # Benchmarks create hundreds of designs a day: the GPU-bill cap is not what is measured.
            "ROOMCRAFT_GLOBAL_DAILY_DESIGN_CAP": "1000000",
        }
        os.environ.update(env)
        bootstrap.reset()
        from shared.local.tenants import PINNED_KEY_ENV, seed_development_tenant

        # The default tenant with the local cloud's generous limits, and its key for API events.
        env[PINNED_KEY_ENV] = os.environ[PINNED_KEY_ENV] = seed_development_tenant()
        yield env
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        bootstrap.reset()


def photo_like_jpeg(width: int, height: int, *, seed: int = 1, quality: int = 90) -> bytes:
    """A JPEG that compresses like a phone photo: large smooth shapes, edges, and sensor-like noise.

    Flat synthetic images compress to almost nothing and decode unrealistically fast; this keeps
    the entropy (and so the file size and decode cost) in the range of real 12-48 MP photos.
    """
    rng = random.Random(seed)
    small = Image.new("RGB", (max(1, width // 8), max(1, height // 8)), (172, 160, 140))
    draw = ImageDraw.Draw(small)
    w, h = small.size
    draw.rectangle((0, int(h * 0.62), w, h), fill=(118, 88, 62))  # floor
    draw.rectangle((int(w * 0.36), int(h * 0.12), int(w * 0.64), int(h * 0.48)), fill=(214, 230, 246))
    for _ in range(40):  # furniture, frames, shadows
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randrange(w // 12 + 1, w // 3 + 2), y0 + rng.randrange(h // 12 + 1, h // 3 + 2)
        colour = tuple(rng.randrange(30, 230) for _ in range(3))
        (draw.ellipse if rng.random() < 0.3 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    base = small.resize((width, height), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(2))
    noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    photo = Image.blend(base, noise.filter(ImageFilter.BoxBlur(1)), 0.22)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def create_designs(count: int, photo: bytes, *, tenant: str | None = None) -> list[str]:
    """Upload one photo and create ``count`` queued designs from it through the DesignService."""
    from shared import bootstrap
    from shared.services.designs import DesignRequest

    service = bootstrap.design_service()
    settings_tenant = tenant or os.environ.get("ROOMCRAFT_DEFAULT_TENANT", "tnt_default")
    slot = service.create_upload(settings_tenant, content_type="image/jpeg")
    bootstrap.outputs_bucket()  # warm
    from shared.adapters.aws import client

    client("s3").put_object(
        Bucket=os.environ["ROOMCRAFT_UPLOADS_BUCKET"],
        Key=slot.upload.key,
        Body=photo,
        ContentType="image/jpeg",
    )
    ids = []
    for index in range(count):
        design = service.create(
            settings_tenant,
            DesignRequest(
                upload_id=slot.upload.upload_id, room_type="living_room", style="scandinavian", seed=index
            ),
        )
        ids.append(design.design_id)
    return ids


def receive_generation_messages(expected: set[str]) -> dict[str, dict[str, Any]]:
    """Take the generation messages for these designs off the queue (they stay in flight, unused)."""
    import json

    from shared.adapters.aws import client

    sqs = client("sqs")
    url = os.environ["ROOMCRAFT_GENERATE_QUEUE_URL"]
    found: dict[str, dict[str, Any]] = {}
    for _ in range(200):
        if expected <= found.keys():
            break
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        for message in messages:
            found[json.loads(message["Body"])["design_id"]] = message
    missing = expected - found.keys()
    if missing:
        raise RuntimeError(f"{len(missing)} generation messages never arrived")
    return found
