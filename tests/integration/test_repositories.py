"""DesignRepository and UploadRepository against moto: conditional, versioned writes and leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.dynamodb import DesignRepository, UploadRepository
from shared.domain.design import Brief, Design, SourceImage
from shared.domain.errors import ConcurrentUpdate, CursorInvalid, DesignNotFound, UploadNotFound
from shared.domain.ids import new_id
from shared.domain.status import DesignStatus
from shared.domain.upload import Upload
from shared.settings import get_settings

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def new_design(tenant: str = "tnt_a") -> Design:
    return Design(
        design_id=new_id("dsn"),
        tenant_id=tenant,
        source=SourceImage(upload_id="upl_1", key=f"uploads/{tenant}/upl_1"),
        brief=Brief(room_type="bedroom", style="japandi", seed=3),
        provider="preview",
        storage_token="tok",
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
def repo(aws: dict[str, Any]) -> DesignRepository:
    return DesignRepository(get_settings())


def test_create_then_get_round_trips(repo: DesignRepository) -> None:
    design = new_design()
    repo.create(design)
    assert repo.get("tnt_a", design.design_id) == design


def test_create_twice_is_refused(repo: DesignRepository) -> None:
    design = new_design()
    repo.create(design)
    with pytest.raises(ConcurrentUpdate):
        repo.create(design)


def test_get_is_scoped_by_tenant(repo: DesignRepository) -> None:
    design = new_design("tnt_a")
    repo.create(design)
    with pytest.raises(DesignNotFound):
        repo.get("tnt_b", design.design_id)


def test_conditional_write_rejects_a_stale_version(repo: DesignRepository) -> None:
    design = new_design()
    repo.create(design)
    preparing = design.transition(DesignStatus.PREPARING, now=T0)
    repo.save_if_unchanged(design, preparing)
    # A second writer still holding the old version loses: no lost update.
    canceled = design.transition(DesignStatus.CANCELED, now=T0)
    with pytest.raises(ConcurrentUpdate):
        repo.save_if_unchanged(design, canceled)
    assert repo.get("tnt_a", design.design_id).status is DesignStatus.PREPARING


def test_list_is_newest_first_with_cursor_pagination(repo: DesignRepository) -> None:
    created = []
    for _ in range(5):
        design = new_design()
        repo.create(design)
        created.append(design.design_id)
    repo.create(new_design("tnt_other"))
    page1, cursor = repo.list("tnt_a", limit=2, cursor=None)
    assert [d.design_id for d in page1] == created[::-1][:2]
    assert cursor is not None
    page2, cursor2 = repo.list("tnt_a", limit=2, cursor=cursor)
    page3, _ = repo.list("tnt_a", limit=2, cursor=cursor2)
    seen = [d.design_id for d in page1 + page2 + page3]
    assert seen == created[::-1]


def test_list_filters_by_status(repo: DesignRepository) -> None:
    design = new_design()
    repo.create(design)
    repo.create(new_design())
    repo.save_if_unchanged(design, design.transition(DesignStatus.CANCELED, now=T0))
    found, _ = repo.list("tnt_a", limit=10, cursor=None, status=DesignStatus.CANCELED)
    assert [d.design_id for d in found] == [design.design_id]


def test_a_tampered_cursor_is_a_validation_error(repo: DesignRepository) -> None:
    with pytest.raises(CursorInvalid):
        repo.list("tnt_a", limit=2, cursor="not-base64-json!")


def test_lease_is_exclusive_until_it_expires(repo: DesignRepository) -> None:
    design = new_design()
    repo.create(design)
    assert repo.acquire_lease(design, "worker-1", now=T0, seconds=60)
    assert repo.acquire_lease(design, "worker-1", now=T0, seconds=60), "the owner may renew"
    assert not repo.acquire_lease(design, "worker-2", now=T0 + timedelta(seconds=30), seconds=60)
    assert repo.acquire_lease(design, "worker-2", now=T0 + timedelta(seconds=61), seconds=60)


def test_released_lease_is_free_for_others(repo: DesignRepository) -> None:
    design = new_design()
    repo.create(design)
    assert repo.acquire_lease(design, "worker-1", now=T0, seconds=60)
    repo.release_lease(design, "worker-1")
    assert repo.acquire_lease(design, "worker-2", now=T0, seconds=60)
    repo.release_lease(design, "worker-1")  # not the owner: no effect, no error
    assert not repo.acquire_lease(design, "worker-3", now=T0, seconds=60)


def test_lease_does_not_disturb_versioned_writes(repo: DesignRepository) -> None:
    design = new_design()
    repo.create(design)
    repo.acquire_lease(design, "worker-1", now=T0, seconds=60)
    repo.save_if_unchanged(design, design.transition(DesignStatus.PREPARING, now=T0))
    assert repo.get("tnt_a", design.design_id).version == 2


def test_uploads_are_scoped_by_tenant(aws: dict[str, Any]) -> None:
    uploads = UploadRepository(get_settings())
    upload = Upload(
        upload_id="upl_1",
        tenant_id="tnt_a",
        key="uploads/tnt_a/upl_1",
        content_type="image/jpeg",
        max_bytes=100,
        created_at=T0,
        expires_at=T0 + timedelta(minutes=15),
    )
    uploads.create(upload)
    assert uploads.get("tnt_a", "upl_1") == upload
    with pytest.raises(UploadNotFound):
        uploads.get("tnt_b", "upl_1")
