"""Tenants, API keys, quotas, batches and idempotency in the stack: each function's exact rights."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.resources import (
    API_KEYS_TABLE,
    BATCHES_TABLE,
    FUNCTIONS,
    IDEMPOTENCY_TABLE,
    TENANTS_TABLE,
    USAGE_TABLE,
)
from tests.infra.conftest import Synthesized
from tests.infra.test_functions_iam import statements

pytestmark = pytest.mark.infra

TENANCY_TABLES = (TENANTS_TABLE, API_KEYS_TABLE, USAGE_TABLE, BATCHES_TABLE, IDEMPOTENCY_TABLE)

EXPECTED: dict[str, dict[str, set[str]]] = {
    "api": {
        TENANTS_TABLE.id: {"dynamodb:GetItem"},
        API_KEYS_TABLE.id: {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        USAGE_TABLE.id: {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        BATCHES_TABLE.id: {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        IDEMPOTENCY_TABLE.id: {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
    },
    "worker": {
        TENANTS_TABLE.id: {"dynamodb:GetItem"},  # the tenant's quality policy (docs/quality.md)
        USAGE_TABLE.id: {"dynamodb:PutItem", "dynamodb:UpdateItem"},  # refunds: marker + counters
        BATCHES_TABLE.id: {"dynamodb:GetItem", "dynamodb:UpdateItem"},  # outcome sets, completion claim
    },
    # Runs the worker's pipeline when a SageMaker async result is announced: the same settlement.
    "inference_events": {
        TENANTS_TABLE.id: {"dynamodb:GetItem"},
        USAGE_TABLE.id: {"dynamodb:PutItem", "dynamodb:UpdateItem"},
        BATCHES_TABLE.id: {"dynamodb:GetItem", "dynamodb:UpdateItem"},
    },
    "ingest": {
        TENANTS_TABLE.id: {"dynamodb:GetItem"},
        USAGE_TABLE.id: {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        BATCHES_TABLE.id: {"dynamodb:GetItem", "dynamodb:UpdateItem"},
    },
    "writeback": {},
    "dispatcher": {},
    # Fails stale designs: the same settlement as the worker (tests/infra/test_sweeper.py).
    "sweeper": {
        USAGE_TABLE.id: {"dynamodb:PutItem", "dynamodb:UpdateItem"},
        BATCHES_TABLE.id: {"dynamodb:GetItem", "dynamodb:UpdateItem"},
    },
}


def rights(synth: Synthesized, function_id: str) -> dict[str, set[str]]:
    """Actions the function's role has on each tenancy table (and nothing on their indexes)."""
    found = statements(synth, function_id)
    result: dict[str, set[str]] = {}
    for spec in TENANCY_TABLES:
        arn = {"Fn::GetAtt": [synth.logical_id(synth.stack.storage.tables[spec.id]), "Arn"]}
        actions = {a for s in found if arn in s["Resource"] for a in s["Action"]}
        if actions:
            result[spec.id] = actions
        assert f"{synth.logical_id(synth.stack.storage.tables[spec.id])}" not in json.dumps(
            [r for s in found for r in s["Resource"] if r != arn]
        ), f"{function_id} reaches {spec.id} otherwise than by its table ARN"
    return result


def test_every_function_has_an_expectation() -> None:
    assert {spec.id for spec in FUNCTIONS} == set(EXPECTED)


@pytest.mark.parametrize("function_id", sorted(EXPECTED))
def test_each_function_has_exactly_the_item_actions_it_uses(synth: Synthesized, function_id: str) -> None:
    assert rights(synth, function_id) == EXPECTED[function_id]


def test_no_function_can_scan_or_delete_keys_or_tenants(synth: Synthesized) -> None:
    for function_id in EXPECTED:
        for table_id, actions in rights(synth, function_id).items():
            assert "dynamodb:Scan" not in actions
            if table_id in {TENANTS_TABLE.id, API_KEYS_TABLE.id}:
                assert actions <= {"dynamodb:GetItem", "dynamodb:UpdateItem"}, function_id


def test_the_functions_find_the_tenancy_tables_in_their_environment(synth: Synthesized) -> None:
    env: Any = synth.resource(synth.stack.compute.functions["api"])["Properties"]["Environment"]["Variables"]
    for spec in TENANCY_TABLES:
        assert env[spec.env_var] == {"Ref": synth.logical_id(synth.stack.storage.tables[spec.id])}


def test_counters_and_idempotency_records_expire(synth: Synthesized) -> None:
    for spec, attribute in ((USAGE_TABLE, "expires_at_epoch"), (IDEMPOTENCY_TABLE, "expiration")):
        props = synth.resource(synth.stack.storage.tables[spec.id])["Properties"]
        assert props["TimeToLiveSpecification"] == {"AttributeName": attribute, "Enabled": True}
