"""A tenant's structure threshold and retries: set with `roomcraft admin`, stored, used by the gate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import bootstrap
from shared.cli import main
from tests.integration.test_admin_cli import deployed  # noqa: F401  (fixture)


def admin(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(["admin", "--stack", "roomcraft-prod", *argv])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if code == 0 else None, captured.err


@pytest.mark.usefixtures("deployed")
def test_the_policy_is_set_kept_and_used(capsys: pytest.CaptureFixture[str]) -> None:
    code, tenant, _ = admin(
        capsys, "tenant", "create", "Acme", "--id", "tnt_acme", "--structure-threshold", "0.7"
    )
    assert code == 0
    assert tenant["quality"] == {"structure_threshold": 0.7, "structure_retries": None}
    code, tenant, _ = admin(capsys, "tenant", "update", "tnt_acme", "--structure-retries", "2")
    assert tenant["quality"] == {"structure_threshold": 0.7, "structure_retries": 2}  # the threshold stays
    assert bootstrap.quality_gate().policy_for("tnt_acme") == (0.7, 2)
    assert bootstrap.quality_gate().policy_for("tnt_default") == (
        0.55,
        0,
    )  # the deployment's (tests: 0 retries)
    assert bootstrap.quality_gate().policy_for("tnt_gone") == (0.55, 0)


@pytest.mark.usefixtures("deployed")
@pytest.mark.parametrize("option", [("--structure-threshold", "1.5"), ("--structure-retries", "9")])
def test_an_out_of_range_policy_is_refused_clearly(
    capsys: pytest.CaptureFixture[str], option: tuple[str, str]
) -> None:
    assert admin(capsys, "tenant", "create", "Acme", "--id", "tnt_acme")[0] == 0
    code, _, err = admin(capsys, "tenant", "update", "tnt_acme", *option)
    assert code != 0
    assert "validation_failed" in err
    assert "0 to 1" in err
    assert bootstrap.tenant_admin().get_tenant("tnt_acme").quality.structure_threshold is None
