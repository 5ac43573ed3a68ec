"""KMS key policies: the account administers each key; only named principals may use it (issue 13)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.constructs.keys import CRYPTOGRAPHIC_ACTIONS, KEY_ADMIN_ACTIONS
from tests.infra.conftest import Synthesized
from tests.infra.test_webhooks import PURPOSE

pytestmark = pytest.mark.infra


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_account_root(principal: Any) -> bool:
    return ":root" in json.dumps(principal)


def key_policies(synth: Synthesized) -> dict[str, list[dict[str, Any]]]:
    return {
        key_id: key["Properties"]["KeyPolicy"]["Statement"]
        for key_id, key in synth.resources("AWS::KMS::Key").items()
    }


def test_no_key_policy_grants_kms_star_or_lets_the_account_use_a_key(synth: Synthesized) -> None:
    policies = key_policies(synth)
    assert len(policies) == 2  # webhook secrets, alarm topic
    for key_id, statements in policies.items():
        for statement in statements:
            actions = set(as_list(statement["Action"]))
            assert "kms:*" not in actions, key_id
            if is_account_root(statement["Principal"]):
                assert not actions & CRYPTOGRAPHIC_ACTIONS, key_id
                assert not any(
                    a.startswith(("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")) for a in actions
                )


def test_every_key_stays_administrable_by_the_account(synth: Synthesized) -> None:
    for key_id, statements in key_policies(synth).items():
        (admin,) = [s for s in statements if is_account_root(s["Principal"])]
        assert set(as_list(admin["Action"])) == set(KEY_ADMIN_ACTIONS), key_id
        assert {"kms:Put*", "kms:ScheduleKeyDeletion", "kms:Enable*"} <= set(as_list(admin["Action"]))


def test_webhook_key_is_used_only_by_the_api_and_dispatcher_for_signing_secrets(synth: Synthesized) -> None:
    key_id = synth.logical_id(synth.stack.webhooks.secrets_key)
    users = [s for s in key_policies(synth)[key_id] if not is_account_root(s["Principal"])]
    roles = {
        name: {"Fn::GetAtt": [synth.logical_id(synth.stack.compute.functions[name].role), "Arn"]}
        for name in ("api", "dispatcher")
    }
    found = sorted(
        (json.dumps(s["Principal"]), json.dumps(s["Action"]), json.dumps(s["Condition"])) for s in users
    )
    assert found == sorted(
        [
            (json.dumps({"AWS": roles["api"]}), json.dumps("kms:Encrypt"), json.dumps(PURPOSE)),
            (json.dumps({"AWS": roles["dispatcher"]}), json.dumps("kms:Decrypt"), json.dumps(PURPOSE)),
        ]
    )


def test_alarm_key_is_used_only_by_cloudwatch(synth: Synthesized) -> None:
    key_id = synth.logical_id(synth.stack.observability.topic_key)
    users = [s for s in key_policies(synth)[key_id] if not is_account_root(s["Principal"])]
    assert [s["Principal"] for s in users] == [{"Service": "cloudwatch.amazonaws.com"}]
    assert set(as_list(users[0]["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
