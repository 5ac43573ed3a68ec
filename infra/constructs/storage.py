"""Storage: the DynamoDB tables from ``TABLES`` and the S3 buckets from ``BUCKETS``.

Tables are on demand, with point-in-time recovery, TTL and the specs' indexes. Buckets are private,
encrypted, TLS-only, log their access to a dedicated bucket, and expire the specs' prefixes.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import DeploymentConfig
from infra.naming import pascal
from shared.resources import BUCKETS, TABLES, UPLOADS_BUCKET, BucketSpec, KeySpec, TableSpec

_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}

TABLE_READ_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
TABLE_WRITE_ACTIONS: tuple[str, ...] = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)

_S3_EVENTS = {
    "s3:ObjectCreated:*": s3.EventType.OBJECT_CREATED,
    "s3:ObjectCreated:Put": s3.EventType.OBJECT_CREATED_PUT,
    "s3:ObjectCreated:Post": s3.EventType.OBJECT_CREATED_POST,
    "s3:ObjectCreated:Copy": s3.EventType.OBJECT_CREATED_COPY,
    "s3:ObjectCreated:CompleteMultipartUpload": s3.EventType.OBJECT_CREATED_COMPLETE_MULTIPART_UPLOAD,
}


def _attribute(key: KeySpec) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self._removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY

        self.tables: dict[str, dynamodb.Table] = {
            spec.id: self._table(spec, deletion_protection=config.retain_data) for spec in TABLES
        }

        self.access_logs = s3.Bucket(
            self,
            "AccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            # CloudFront standard logs are delivered with an ACL grant; S3 server access logs use the policy.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-logs", expiration=Duration.days(config.log_retention_days))
            ],
            removal_policy=self._removal,
        )
        Validations.of(self.access_logs).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the access-log bucket itself: logging its own access would log forever.",
            )
        )

        self.buckets: dict[str, s3.Bucket] = {spec.id: self._bucket(spec) for spec in BUCKETS}

    def _table(self, spec: TableSpec, *, deletion_protection: bool) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            f"{pascal(spec.id)}Table",
            partition_key=_attribute(spec.hash_key),
            sort_key=_attribute(spec.range_key) if spec.range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=deletion_protection,
            removal_policy=self._removal,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.hash_key),
                sort_key=_attribute(index.range_key) if index.range_key else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _bucket(self, spec: BucketSpec) -> s3.Bucket:
        rules = [
            s3.LifecycleRule(
                id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)
            ),
            *(
                s3.LifecycleRule(
                    id=f"expire-{prefix.strip('/')}", prefix=prefix, expiration=Duration.days(days)
                )
                for prefix, days in spec.expire_prefixes
            ),
        ]
        return s3.Bucket(
            self,
            f"{pascal(spec.id)}Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"s3/{spec.id}/",
            lifecycle_rules=rules,
            removal_policy=self._removal,
        )

    def allow_browser_uploads(self, origins: Sequence[str]) -> None:
        """Browsers post room photos straight to the uploads bucket with the presigned POST the API
        returns: only from these origins (never ``*``: the web app's own and the configured ones)."""
        if not origins or "*" in origins:
            raise ValueError("the uploads bucket's CORS names its origins; '*' is not allowed")
        self.buckets[UPLOADS_BUCKET.id].add_cors_rule(
            allowed_methods=[s3.HttpMethods.POST],
            allowed_origins=list(origins),
            allowed_headers=["*"],
            max_age=3600,
        )

    def connect_notifications(self, queues: dict[str, sqs.IQueue]) -> None:
        """S3 event notifications of ``BucketSpec.notifications`` to their queues (CDK adds the
        queue policy that lets this bucket, and only it, send)."""
        for spec in BUCKETS:
            for notification in spec.notifications:
                for event in notification.events:
                    if event not in _S3_EVENTS:
                        raise ValueError(f"bucket {spec.id!r}: S3 event {event!r} is not mapped in infra")
                    self.buckets[spec.id].add_event_notification(
                        _S3_EVENTS[event],
                        s3n.SqsDestination(queues[notification.target_queue]),
                        s3.NotificationKeyFilter(prefix=notification.prefix),
                    )
        # CDK applies notification configurations with one singleton custom-resource function per stack.
        for child in Stack.of(self).node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                Validations.of(child).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole]",
                        reason="CDK's own BucketNotificationsHandler (it sets the inbox bucket's S3 -> SQS "
                        "notification at deploy time) runs with the basic execution role: logs only.",
                    )
                )

    def grant_table_access(self, table_id: str, grantee: iam.IGrantable, *, write: bool) -> None:
        """Item-level read (and write) on one table and its indexes: no Scan, no streams, no admin."""
        table = self.tables[table_id]
        spec = next(spec for spec in TABLES if spec.id == table_id)
        indexes = [f"{table.table_arn}/index/{index.name}" for index in spec.indexes]
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(TABLE_READ_ACTIONS), resource_arns=[table.table_arn, *indexes]
        )
        if write:  # item writes name the table; an index is never written to directly
            iam.Grant.add_to_principal(
                grantee=grantee, actions=list(TABLE_WRITE_ACTIONS), resource_arns=[table.table_arn]
            )

    def grant_table_actions(self, table_id: str, grantee: iam.IGrantable, actions: Sequence[str]) -> None:
        """Exactly these item actions on one table (not its indexes), for roles that need less than
        ``grant_table_access`` gives: a conditional counter update, say, and nothing else."""
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=[self.tables[table_id].table_arn]
        )

    def grant_list(
        self, bucket_id: str, grantee: iam.IGrantable, *, prefixes: list[str] | None = None
    ) -> None:
        """``s3:ListBucket`` on the bucket itself (no object access); with ``prefixes``, only
        listings under them (the ``s3:prefix`` condition)."""
        bucket_arn = self.buckets[bucket_id].bucket_arn
        if prefixes is None:
            iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket"], resource_arns=[bucket_arn])
            return
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
            )
        )

    def grant_objects(
        self, bucket_id: str, grantee: iam.IGrantable, *, actions: list[str], prefixes: list[str]
    ) -> None:
        """Object actions under the given key prefixes (``""`` for the whole bucket)."""
        bucket = self.buckets[bucket_id]
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=actions,
            resource_arns=[bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes],
        )
