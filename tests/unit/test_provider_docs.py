"""docs/providers.md stays true to what AWS and the model profiles say (issue 14, items 3, 4, 9)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.providers.profiles import PROFILES
from shared.settings import Settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "providers.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = DOC.index(title)
    following = re.search(r"\n##+ ", DOC[start + len(title) :])
    return DOC[start : start + len(title) + following.start()] if following else DOC[start:]


@pytest.mark.parametrize(
    "requirement",
    [
        "`docker run <image> serve`",
        "**port 8080**",
        "`GET /ping` with **200** within **2 seconds**",
        "within **60 seconds**",
        "**6 MB**",
    ],
)
def test_the_container_contract_states_what_aws_requires(requirement: str) -> None:
    assert requirement in section("### The model container's contract")


@pytest.mark.parametrize("model", sorted(PROFILES))
def test_each_profiles_price_and_unit_are_documented(model: str) -> None:
    profile = PROFILES[model]
    table = section("### Profiles: ranges, seeds and pricing")
    (row,) = [line for line in table.splitlines() if line.startswith("|") and model.split("/")[1] in line]
    unit = "per output image" if profile.pricing_unit == "image" else "per GPU-second"
    assert unit in row
    assert f"${profile.price_usd:g}" in row
    for name, (low, high) in profile.ranges.items():
        assert f"`{name}` {low:g}\N{EN DASH}{high:g}" in row


def test_every_replicate_setting_is_in_the_configuration_table() -> None:
    table = section("## Configuration keys")
    for name in Settings.model_fields:
        if name.startswith("replicate_") and name != "replicate_token_secret_arn":
            assert f"ROOMCRAFT_{name.upper()}" in table, name
