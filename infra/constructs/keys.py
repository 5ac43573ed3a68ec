"""KMS keys whose policy separates administering a key from using it.

CDK's default key policy gives the account root ``kms:*``: any IAM principal of the account that an
IAM policy allows could then encrypt and decrypt with the key. Here the account (through IAM) may
only administer the key (the key-administrator actions of AWS's default key policy, so it can be
described, rotated, re-tagged, have its policy updated or be scheduled for deletion: never locked
out); using it is granted in the key policy to named principals only (``allow_use``), each with the
fewest actions and, where the caller supports it, an encryption-context condition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

KEY_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)
"""AWS's "allow access for key administrators" actions: everything but cryptographic use."""

CRYPTOGRAPHIC_ACTIONS: frozenset[str] = frozenset(
    {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:Sign",
        "kms:Verify",
        "kms:GenerateMac",
        "kms:VerifyMac",
    }
)


def administered_key(scope: Construct, construct_id: str, **props: Any) -> kms.Key:
    """A key whose policy lets the account administer it and nobody use it until ``allow_use``."""
    account = iam.AccountRootPrincipal()
    policy = iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="AccountAdministersTheKey",
                principals=[account],
                actions=list(KEY_ADMIN_ACTIONS),
                resources=["*"],
            )
        ]
    )
    return kms.Key(scope, construct_id, policy=policy, **props)


def allow_use(
    key: kms.Key,
    principal: iam.IPrincipal,
    actions: Sequence[str],
    *,
    conditions: Mapping[str, Any] | None = None,
) -> None:
    """Let one principal use the key for exactly these actions (key policy, not IAM)."""
    unknown = set(actions) - CRYPTOGRAPHIC_ACTIONS
    if unknown:
        raise ValueError(f"allow_use grants cryptographic use only, not {sorted(unknown)}")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[principal],
            actions=list(actions),
            resources=["*"],
            conditions=dict(conditions) if conditions else None,
        )
    )
