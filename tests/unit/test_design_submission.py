"""POST /v1/designs' use case: the tenant's default webhook secret comes with the design that creates it."""

from __future__ import annotations

from shared.domain.design import Design
from shared.services.design_submission import DesignSubmission
from shared.services.designs import DesignRequest
from tests.unit.test_design import make_design

REQUEST = DesignRequest(upload_id="upl_1", room_type="living_room", style="scandinavian")


class Designs:
    def __init__(self, design: Design) -> None:
        self.design = design
        self.created: list[tuple[str, str | None]] = []

    def create(self, tenant_id: str, request: DesignRequest, *, request_id: str | None = None) -> Design:
        self.created.append((tenant_id, request_id))
        return self.design


class DefaultSecrets:
    """The tenant's default secret: new (returned) the first time, None once it exists."""

    def __init__(self) -> None:
        self.tenants: set[str] = set()
        self.asked: list[str] = []

    def issue(self, tenant_id: str) -> str | None:
        self.asked.append(tenant_id)
        if tenant_id in self.tenants:
            return None
        self.tenants.add(tenant_id)
        return f"whsec_{tenant_id}"


def test_a_design_with_a_webhook_url_gets_the_new_default_secret_once() -> None:
    secrets = DefaultSecrets()
    designs = Designs(make_design(webhook_url="https://hooks.example.com/a"))
    submission = DesignSubmission(designs=designs, issue_default_secret=secrets.issue)

    first = submission.submit("tnt_a", REQUEST, request_id="req_1")
    second = submission.submit("tnt_a", REQUEST, request_id="req_2")

    assert first.design is designs.design
    assert first.webhook_secret == "whsec_tnt_a"
    assert second.webhook_secret is None, "the secret is shown once"
    assert designs.created == [("tnt_a", "req_1"), ("tnt_a", "req_2")]


def test_a_design_without_a_webhook_url_issues_no_secret() -> None:
    secrets = DefaultSecrets()
    submission = DesignSubmission(designs=Designs(make_design()), issue_default_secret=secrets.issue)

    assert submission.submit("tnt_a", REQUEST, request_id=None).webhook_secret is None
    assert secrets.asked == [], "no secret (and no KMS call) for a design that sends no webhook"
