"""IAM for inbox writers (``roomcraft admin inbox-writer``): look up an identity's unique id, and
issue a tenant its own writer role, allowed to put objects under ``inbox/<tenant>/`` only.

Runs with the operator's credentials, never in a Lambda.
"""

from __future__ import annotations

import json
from typing import Any

from shared.adapters.aws import client

WRITER_ROLE_PREFIX = "roomcraft-inbox-"


def unique_id_of(arn: str) -> str:
    """The IAM unique id (``AROA…``/``AIDA…``) of a role or user ARN: what S3 events name."""
    iam: Any = client("iam")
    resource = arn.split(":", 5)[-1]
    kind, _, path_and_name = resource.partition("/")
    name = path_and_name.rsplit("/", 1)[-1]
    if kind == "role":
        return str(iam.get_role(RoleName=name)["Role"]["RoleId"])
    if kind == "user":
        return str(iam.get_user(UserName=name)["User"]["UserId"])
    raise ValueError(f"{arn} is not an IAM role or user ARN")


def writer_role_policy(bucket: str, tenant_id: str, partition: str = "aws") -> dict[str, Any]:
    """Put (and tag) objects under the tenant's inbox prefix; read its own outbox/ results."""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DropPhotosForThisTenantOnly",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"],
                "Resource": f"{bucket_arn}/inbox/{tenant_id}/*",
            },
            {
                "Sid": "ReadThisTenantsResults",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": f"{bucket_arn}/outbox/{tenant_id}/*",
            },
        ],
    }


def create_writer_role(*, tenant_id: str, bucket: str, stage: str, trusted: str) -> tuple[str, str]:
    """A role the ``trusted`` principal (an account or role ARN) may assume to drop the tenant's
    photos; returns (role ARN, unique id)."""
    iam: Any = client("iam")
    name = f"{WRITER_ROLE_PREFIX}{stage}-{tenant_id}"[:64]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Description=f"Roomcraft {stage}: drops photos into inbox/{tenant_id}/ only",
        Tags=[{"Key": "roomcraft:tenant", "Value": tenant_id}, {"Key": "roomcraft:stage", "Value": stage}],
    )["Role"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="inbox-writer",
        PolicyDocument=json.dumps(writer_role_policy(bucket, tenant_id)),
    )
    return str(role["Arn"]), str(role["RoleId"])
