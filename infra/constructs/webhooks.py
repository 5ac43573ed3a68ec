"""Webhooks: the KMS key that encrypts signing secrets, and what the api and dispatcher may do.

The tables, the queue, its consumer and the bus rules come from ``shared.resources`` through the
storage, pipeline, functions and events constructs; this construct adds the key (from
``ENCRYPTION_KEYS``) and the two functions' grants, each naming one resource:

- api: manage endpoints (read/write the endpoints table), write delivery-log entries and read
  them (messages table), encrypt new secrets, queue test and replay jobs;
- dispatcher: read endpoints and update their health and status (no put or delete), write the
  delivery log, decrypt secrets, queue its own jobs, publish ``endpoint.disabled``.
KMS use is further limited by encryption context to webhook signing secrets, and the key policy
names those two roles: the account itself may only administer the key (``infra.constructs.keys``).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.keys import administered_key, allow_use
from infra.constructs.storage import Storage
from shared.domain.webhooks import secret_context
from shared.resources import WEBHOOK_ENDPOINTS_TABLE, WEBHOOK_MESSAGES_TABLE, WEBHOOK_SECRETS_KEY

READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable")
SECRET_PURPOSE = secret_context("", "")["purpose"]


class Webhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        storage: Storage,
        queue: sqs.IQueue,
        bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        self._storage = storage
        self._queue = queue
        self._bus = bus
        self.secrets_key = administered_key(
            self,
            "SecretsKey",
            description=f"Roomcraft {config.stage}: {WEBHOOK_SECRETS_KEY.description}",
            enable_key_rotation=True,
            pending_window=Duration.days(30),
            # Losing the key loses every endpoint's secret: keep it whenever data is kept.
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )

    @property
    def environment(self) -> dict[str, str]:
        return {WEBHOOK_SECRETS_KEY.env_var: self.secrets_key.key_arn}

    def grant_api(self, role: iam.IRole) -> None:
        self._table(role, WEBHOOK_ENDPOINTS_TABLE.id, "PutItem", "UpdateItem", "DeleteItem")
        self._table(role, WEBHOOK_MESSAGES_TABLE.id, "PutItem", "UpdateItem")
        self._key(role, "kms:Encrypt")
        iam.Grant.add_to_principal(
            grantee=role, actions=["sqs:SendMessage"], resource_arns=[self._queue.queue_arn]
        )

    def grant_dispatcher(self, role: iam.IRole) -> None:
        self._table(role, WEBHOOK_ENDPOINTS_TABLE.id, "UpdateItem")
        self._table(role, WEBHOOK_MESSAGES_TABLE.id, "PutItem", "UpdateItem")
        self._key(role, "kms:Decrypt")
        # Its own next attempts, hops and replay pages; receiving comes with the event source.
        iam.Grant.add_to_principal(
            grantee=role, actions=["sqs:SendMessage"], resource_arns=[self._queue.queue_arn]
        )
        self._bus.grant_put_events_to(role)

    def _table(self, role: iam.IRole, table_id: str, *writes: str) -> None:
        iam.Grant.add_to_principal(
            grantee=role,
            actions=[*READ, *(f"dynamodb:{action}" for action in writes)],
            resource_arns=[self._storage.tables[table_id].table_arn],
        )

    def _key(self, role: iam.IRole, action: str) -> None:
        """Named in the key policy (the account may only administer the key) and in the role's."""
        conditions = {"StringEquals": {"kms:EncryptionContext:purpose": SECRET_PURPOSE}}
        allow_use(self.secrets_key, role, [action], conditions=conditions)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=[action], resources=[self.secrets_key.key_arn], conditions=conditions)
        )
