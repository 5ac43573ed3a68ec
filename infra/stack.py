"""The Roomcraft stack: every resource in ``shared.resources``, composed from one construct per concern.

Nothing here lists resources by hand: tables, queues, buckets, the bus, its rules and the functions
come from the specs. What is written here is what only this file can say: which function may do
what (least privilege), the functions' environment, and the stack outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Acknowledgment, Aws, CfnOutput, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.analysis import PhotoAnalysis
from infra.constructs.api import Api
from infra.constructs.delivery import Delivery
from infra.constructs.events import Events
from infra.constructs.firewall import EDGE_REGION, ApiFirewall, require_region
from infra.constructs.functions import Functions
from infra.constructs.inference import Inference
from infra.constructs.observability import Observability
from infra.constructs.pipeline import Pipeline
from infra.constructs.schedules import Schedules
from infra.constructs.selfhosted_inference import SelfHostedEndpoint
from infra.constructs.storage import Storage
from infra.constructs.web import WebApp
from infra.constructs.webhooks import Webhooks
from infra.naming import pascal
from shared.domain.inbox import INBOX_PREFIX, OUTBOX_PREFIX, QUARANTINE_PREFIX
from shared.resources import (
    API_KEYS_TABLE,
    BATCHES_TABLE,
    BUCKETS,
    DESIGNS_TABLE,
    EVENT_BUS,
    GENERATE_QUEUE,
    IDEMPOTENCY_TABLE,
    INBOX_BUCKET,
    INFERENCE_EVENTS_QUEUE,
    INGESTS_TABLE,
    OUTPUTS_BUCKET,
    QUEUES,
    TABLES,
    TENANTS_TABLE,
    UPLOADS_BUCKET,
    UPLOADS_TABLE,
    USAGE_TABLE,
    WEBHOOK_QUEUE,
)

UPLOADS_PREFIX = "uploads/"
PREDICTION_STARTERS = ("worker", "inference_events")
WORK_PREFIX = "work/"
SAGEMAKER_ASYNC_PREFIX = "work/sagemaker-async/"
"""Where a SageMaker async endpoint writes outputs and failures (docs/providers.md)."""
DESIGNS_PREFIX = "designs/"
"""Where the worker writes a design's output images in the outputs bucket (``output_key``)."""


class RoomcraftStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        web_acl_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``web_acl_arn``: the API's web ACL made by a us-east-1 companion stack (``infra.app``);
        None: made here, which CloudFront accepts only when this stack is in us-east-1."""
        super().__init__(
            scope,
            construct_id,
            description=f"Roomcraft {config.stage}: AI interior design and virtual staging",
            **kwargs,
        )
        self.config = config
        self.storage = Storage(self, "Storage", config=config)
        self.pipeline = Pipeline(self, "Pipeline")
        self.storage.connect_notifications({qid: pair.queue for qid, pair in self.pipeline.queues.items()})
        self.events = Events(self, "Events", stage=config.stage, queues=self.pipeline.queues)
        self.firewall = None if web_acl_arn else ApiFirewall(self, "Firewall", config=config)
        if self.firewall is not None and Token.is_unresolved(self.region):
            require_region(
                self, EDGE_REGION, why="the API's CLOUDFRONT-scope AWS WAF web ACL is in this stack"
            )
        self.delivery = Delivery(
            self,
            "Delivery",
            config=config,
            bucket=self.storage.buckets[OUTPUTS_BUCKET.id],
            log_bucket=self.storage.access_logs,
            web_acl_arn=web_acl_arn or self.firewall.web_acl_arn,  # type: ignore[union-attr]
        )
        self.inference = Inference(self, "Inference", config=config)
        self.selfhosted: SelfHostedEndpoint | None = None
        if config.inference == "selfhosted":
            self.selfhosted = SelfHostedEndpoint(
                self,
                "SelfHostedInference",
                config=config,
                work_bucket=self.storage.buckets[UPLOADS_BUCKET.id],
                topics=dict(self.inference.async_topics),
            )
        self.analysis = PhotoAnalysis(self, "PhotoAnalysis", config=config)
        self.webhooks = Webhooks(
            self,
            "Webhooks",
            config=config,
            storage=self.storage,
            queue=self.pipeline.queues[WEBHOOK_QUEUE.id].queue,
            bus=self.events.bus,
        )
        self.compute = Functions(self, "Functions", config=config, environment=self._environment())
        functions = self.compute.functions
        consumed = self.pipeline.connect_consumers(functions)
        if "api" not in functions:
            raise ValueError("shared/resources.py has no FunctionSpec(id='api'): the HTTP API needs it")
        # The web app calls the API and posts photos from the distribution's origin.
        # The web app calls the API on its own origin (the distribution's /v1/*): no CORS needed for it.
        self.api = Api(self, "Api", config=config, handler=functions["api"])
        self.delivery.route_api(self.api.http_api, edge_secret=self.api.edge_secret)
        self.api_url = f"{self.delivery.base_url}/"
        """Where clients call the API: through CloudFront and its WAF (``/v1/*``)."""
        self.web = WebApp(
            self,
            "Web",
            distribution=self.delivery.distribution,
            base_url=self.delivery.base_url,
            api_url=self.api_url,
            # S3's virtual-host endpoints in this region, not the uploads bucket's own name: naming it
            # here would close a cycle (bucket CORS -> distribution -> headers policy -> bucket).
            upload_origins=[
                f"https://*.s3.{Aws.URL_SUFFIX}",
                f"https://*.s3.{Aws.REGION}.{Aws.URL_SUFFIX}",
            ],
            log_bucket=self.storage.access_logs,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
            log_retention_days=config.log_retention_days,
        )
        # Uploads: the web app's origin and the configured ones, never any origin ('*' is dropped).
        self.storage.allow_browser_uploads(
            [self.delivery.base_url, *(o for o in config.cors_allowed_origins if o != "*")]
        )
        self._connect_inference(functions)
        self.schedules = Schedules(self, "Schedules", functions=functions)
        self._grant_least_privilege(functions)
        self.observability = Observability(
            self,
            "Observability",
            config=config,
            functions=functions,
            queues=self.pipeline.queues,
            consumed_queues=consumed,
            http_api=self.api.http_api,
        )
        self._outputs()

    def _environment(self) -> dict[str, str]:
        """What every function reads through ``shared.settings``: physical names, URLs and choices."""
        env: dict[str, str] = {}
        env.update({spec.env_var: self.storage.tables[spec.id].table_name for spec in TABLES})
        env.update({spec.env_var: self.pipeline.queues[spec.id].queue.queue_url for spec in QUEUES})
        env.update({spec.env_var: self.storage.buckets[spec.id].bucket_name for spec in BUCKETS})
        env[EVENT_BUS.env_var] = self.events.bus.event_bus_name
        env.update(self.webhooks.environment)
        env.update(self.analysis.environment)
        env.update(
            {
                "ROOMCRAFT_STAGE": self.config.stage,
                "ROOMCRAFT_PROVIDER": self.config.provider,
                "ROOMCRAFT_CDN_BASE_URL": self.delivery.base_url,
                "ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN": self.inference.replicate_token.secret_arn,
                "ROOMCRAFT_REPLICATE_WEBHOOK_SECRET_ARN": self.inference.replicate_webhook_secret.secret_arn,
                "ROOMCRAFT_REPLICATE_MODEL": self.inference.replicate_model,
                "ROOMCRAFT_SAGEMAKER_ENDPOINT": self.inference.sagemaker_endpoint,
                **({"ROOMCRAFT_SAGEMAKER_MODE": "async"} if self.selfhosted else {}),
                **{
                    f"ROOMCRAFT_GENERATION_{name.upper()}": str(value)
                    for name, value in (
                        ("guidance", self.config.generation_guidance),
                        ("steps", self.config.generation_steps),
                    )
                    if value is not None
                },
                "POWERTOOLS_SERVICE_NAME": "roomcraft",
                "POWERTOOLS_METRICS_NAMESPACE": "Roomcraft",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            }
        )
        return env

    def _connect_inference(self, functions: dict[str, lambda_.Function]) -> None:
        """Functions that start predictions tell the provider where to call back (the API's URL);
        SageMaker async notifications reach the inference-events queue."""
        for function_id in PREDICTION_STARTERS:
            if function_id in functions:
                functions[function_id].add_environment("ROOMCRAFT_API_BASE_URL", self.api_url)
        self.inference.notify(self.pipeline.queues[INFERENCE_EVENTS_QUEUE.id].queue)

    # ---- least privilege: one method per function, each grant naming one resource (or key prefix) ----

    def _grant_least_privilege(self, functions: dict[str, lambda_.Function]) -> None:
        policies: dict[str, Callable[[lambda_.Function], None]] = {
            "api": self._grant_api,
            "worker": self._grant_worker,
            "ingest": self._grant_ingest,
            "writeback": self._grant_writeback,
            "dispatcher": self._grant_dispatcher,
            # Runs the same pipeline as the worker when a SageMaker async result is announced.
            "inference_events": self._grant_worker,
            "sweeper": self._grant_sweeper,
        }
        for function_id, function in functions.items():
            if function_id not in policies:
                raise ValueError(
                    f"function {function_id!r} has no IAM policy: say what it may do in "
                    "RoomcraftStack._grant_least_privilege (infra/stack.py)"
                )
            policies[function_id](function)

    def _grant_api(self, function: lambda_.Function) -> None:
        role = _role(function)
        self.storage.grant_table_access(DESIGNS_TABLE.id, role, write=True)
        self.storage.grant_table_access(UPLOADS_TABLE.id, role, write=True)
        # Presigned POST/GET for room photos are signed with this role's credentials.
        self.storage.grant_objects(
            UPLOADS_BUCKET.id, role, actions=["s3:PutObject", "s3:GetObject"], prefixes=[UPLOADS_PREFIX]
        )
        # HeadObject on a photo not uploaded yet answers 404 only to callers that may list the bucket
        # (403 otherwise), and the API relies on the 404 to say "upload first".
        self.storage.grant_list(UPLOADS_BUCKET.id, role)
        self.pipeline.queues[GENERATE_QUEUE.id].queue.grant_send_messages(role)
        self.events.bus.grant_put_events_to(role)
        self.webhooks.grant_api(role)
        self.inference.grant_webhook_secret_read(role)
        self._acknowledge_prefixes(function, [(UPLOADS_BUCKET.id, UPLOADS_PREFIX)])
        self._grant_tenancy_api(role)
        self._grant_photo_analysis(function)  # POST /v1/analyses

    def _grant_worker(self, function: lambda_.Function) -> None:
        role = _role(function)
        self.storage.grant_table_access(DESIGNS_TABLE.id, role, write=True)
        self.storage.grant_objects(
            UPLOADS_BUCKET.id, role, actions=["s3:GetObject"], prefixes=[UPLOADS_PREFIX, WORK_PREFIX]
        )
        self.storage.grant_objects(UPLOADS_BUCKET.id, role, actions=["s3:PutObject"], prefixes=[WORK_PREFIX])
        self.storage.grant_objects(OUTPUTS_BUCKET.id, role, actions=["s3:PutObject"], prefixes=[""])
        self.events.bus.grant_put_events_to(role)
        self.inference.grant_use(role)
        if self.inference.sagemaker_endpoint_arn:
            # S3 answers a missing key 403, not 404, to a caller that may not list the bucket: the
            # async check lists exactly the awaited key to tell "not written yet" from "refused".
            self.storage.grant_list(UPLOADS_BUCKET.id, role, prefixes=[SAGEMAKER_ASYNC_PREFIX])
        # The polling fallback: a delayed "check the prediction" message on the generate queue.
        self.pipeline.queues[GENERATE_QUEUE.id].queue.grant_send_messages(role)
        self._acknowledge_prefixes(
            function,
            [(UPLOADS_BUCKET.id, UPLOADS_PREFIX), (UPLOADS_BUCKET.id, WORK_PREFIX), (OUTPUTS_BUCKET.id, "")],
        )
        # Designs dropped in the S3 inbox: the original is read where the partner put it.
        self.storage.grant_objects(INBOX_BUCKET.id, role, actions=["s3:GetObject"], prefixes=[INBOX_PREFIX])
        self._acknowledge_prefixes(function, [(INBOX_BUCKET.id, INBOX_PREFIX)])
        # Settlement of finished designs: the quota refund (a marker put + counter updates, one
        # transaction) and the batch count and its completion claim.
        self.storage.grant_table_actions(USAGE_TABLE.id, role, ["dynamodb:PutItem", "dynamodb:UpdateItem"])
        self.storage.grant_table_actions(BATCHES_TABLE.id, role, ["dynamodb:GetItem", "dynamodb:UpdateItem"])
        # The quality gate: the tenant's structure threshold, and the photo analysis (docs/quality.md).
        self.storage.grant_table_actions(TENANTS_TABLE.id, role, ["dynamodb:GetItem"])
        self._grant_photo_analysis(function)

    def _grant_photo_analysis(self, function: lambda_.Function) -> None:
        """Converse with the configured analysis model; nothing when none is configured."""
        self.analysis.grant_converse(_role(function))
        if self.analysis.uses_inference_profile:
            # As cdk-nag renders the ARN: the partition is a literal once the region is known (a deploy),
            # a pseudo parameter in an offline synth.
            partition = "<AWS::Partition>" if Token.is_unresolved(self.partition) else self.partition
            model = f"arn:{partition}:bedrock:*::foundation-model/{self.analysis.foundation_model}"
            Validations.of(_role(function)).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{model}]",
                    reason="A cross-region inference profile routes each call to the model in any region "
                    "of its geography; the grant names that one model and that one profile only.",
                )
            )

    def _grant_sweeper(self, function: lambda_.Function) -> None:
        """Stale designs: read the open-designs index, queue a design again or fail and settle it."""
        role = _role(function)
        self.storage.grant_table_access(DESIGNS_TABLE.id, role, write=True)
        self.pipeline.queues[GENERATE_QUEUE.id].queue.grant_send_messages(role)
        self.events.bus.grant_put_events_to(role)
        # Settlement of the designs it fails: the quota refund and the batch count.
        self.storage.grant_table_actions(USAGE_TABLE.id, role, ["dynamodb:PutItem", "dynamodb:UpdateItem"])
        self.storage.grant_table_actions(BATCHES_TABLE.id, role, ["dynamodb:GetItem", "dynamodb:UpdateItem"])

    def _grant_ingest(self, function: lambda_.Function) -> None:
        """S3 inbox notifications -> designs (the API's creation path), error reports, quarantine."""
        role = _role(function)
        # The prefix names the tenant, S3 names the writer: they must agree (docs/inbox.md).
        function.add_environment("ROOMCRAFT_INBOX_WRITER_CHECK", "enforce")
        self.storage.grant_table_access(INGESTS_TABLE.id, role, write=True)
        self.storage.grant_table_access(DESIGNS_TABLE.id, role, write=True)
        self.pipeline.queues[GENERATE_QUEUE.id].queue.grant_send_messages(role)
        self.events.bus.grant_put_events_to(role)
        self._grant_inbox_reports(role)
        self._acknowledge_prefixes(
            function,
            [(INBOX_BUCKET.id, p) for p in (INBOX_PREFIX, OUTBOX_PREFIX, QUARANTINE_PREFIX)],
        )
        # Inbox designs take the tenant's quota like API designs, and join their drop's batch.
        self.storage.grant_table_actions(TENANTS_TABLE.id, role, ["dynamodb:GetItem"])
        self.storage.grant_table_actions(USAGE_TABLE.id, role, ["dynamodb:GetItem", "dynamodb:UpdateItem"])
        self.storage.grant_table_actions(BATCHES_TABLE.id, role, ["dynamodb:GetItem", "dynamodb:UpdateItem"])

    def _grant_writeback(self, function: lambda_.Function) -> None:
        """Finished inbox designs -> copies of their images, manifest and error report in outbox/."""
        role = _role(function)
        self.storage.grant_table_access(DESIGNS_TABLE.id, role, write=False)
        self.storage.grant_objects(
            OUTPUTS_BUCKET.id,
            role,
            actions=["s3:GetObject", "s3:GetObjectTagging"],
            prefixes=[DESIGNS_PREFIX],
        )
        self._grant_inbox_reports(role)
        self.storage.grant_objects(
            INBOX_BUCKET.id, role, actions=["s3:GetObject"], prefixes=[QUARANTINE_PREFIX]
        )
        self._acknowledge_prefixes(
            function,
            [(OUTPUTS_BUCKET.id, DESIGNS_PREFIX)]
            + [(INBOX_BUCKET.id, p) for p in (INBOX_PREFIX, OUTBOX_PREFIX, QUARANTINE_PREFIX)],
        )

    def _grant_inbox_reports(self, role: iam.IRole) -> None:
        """Read drops; write outbox/ and quarantine/; move a refused original (copy, then delete).
        ListBucket so that a missing sidecar or roomcraft.json reads as 404, not 403."""
        self.storage.grant_objects(
            INBOX_BUCKET.id,
            role,
            actions=["s3:GetObject", "s3:GetObjectTagging", "s3:DeleteObject"],
            prefixes=[INBOX_PREFIX],
        )
        self.storage.grant_objects(
            INBOX_BUCKET.id,
            role,
            actions=["s3:PutObject", "s3:PutObjectTagging"],
            prefixes=[OUTBOX_PREFIX, QUARANTINE_PREFIX],
        )
        self.storage.grant_list(INBOX_BUCKET.id, role)

    def _grant_tenancy_api(self, role: iam.IRole) -> None:
        """API keys, quotas, batches and idempotency (docs/tenants.md): item actions only, no Scan.
        Tenants and keys are administered with ``roomcraft admin`` under the operator's identity."""
        grant = self.storage.grant_table_actions
        grant(TENANTS_TABLE.id, role, ["dynamodb:GetItem"])
        grant(API_KEYS_TABLE.id, role, ["dynamodb:GetItem", "dynamodb:UpdateItem"])  # + last_used_at
        grant(USAGE_TABLE.id, role, ["dynamodb:GetItem", "dynamodb:UpdateItem"])  # counters
        grant(BATCHES_TABLE.id, role, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"])
        grant(
            IDEMPOTENCY_TABLE.id,
            role,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        )

    def _grant_dispatcher(self, function: lambda_.Function) -> None:
        # Webhook tables, key, queue and bus only: no designs, no buckets, no provider.
        self.webhooks.grant_dispatcher(_role(function))

    def _acknowledge_prefixes(self, function: lambda_.Function, grants: list[tuple[str, str]]) -> None:
        """cdk-nag flags ``<bucket>/<prefix>*`` as a wildcard; acknowledge exactly those object ARNs."""
        for bucket_id, prefix in grants:
            bucket = self.storage.buckets[bucket_id]
            logical_id = self.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
            scope = (
                f"keys under '{prefix}'" if prefix else f"any key, in a bucket that holds only {bucket_id}"
            )
            Validations.of(_role(function)).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{prefix}*]",
                    reason=f"S3 object permissions name objects by key pattern: this function reaches "
                    f"{scope} of the {bucket_id} bucket, with only the object actions it uses.",
                )
            )

    # ---- outputs ----

    def _outputs(self) -> None:
        CfnOutput(
            self,
            "ApiUrl",
            value=self.api_url,
            description="Base URL of the HTTPS API (append v1/...), through CloudFront and its WAF",
        )
        CfnOutput(self, "CdnBaseUrl", value=self.delivery.base_url, description="Base URL of output images")
        CfnOutput(self, "AppUrl", value=self.web.url, description="The reference web app")
        CfnOutput(
            self,
            "DistributionDomainName",
            value=self.delivery.distribution.distribution_domain_name,
            description="Point the custom domain's CNAME/alias here",
        )
        CfnOutput(self, "DistributionId", value=self.delivery.distribution.distribution_id)
        CfnOutput(
            self,
            "ReplicateTokenSecretArn",
            value=self.inference.replicate_token.secret_arn,
            description="Store the Replicate API token here with `aws secretsmanager put-secret-value`",
        )
        CfnOutput(
            self,
            "ReplicateWebhookSecretArn",
            value=self.inference.replicate_webhook_secret.secret_arn,
            description="Store Replicate's webhook signing secret (whsec_...) here with put-secret-value",
        )
        for outcome, topic in self.inference.async_topics.items():
            CfnOutput(
                self,
                f"SageMakerAsync{outcome.title()}TopicArn",
                value=topic.topic_arn,
                description=f"Name it as the {outcome} topic in the endpoint's AsyncInferenceConfig",
            )
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
        CfnOutput(self, "AlarmTopicArn", value=self.observability.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=self.observability.dashboard.dashboard_name)
        for table_id, table in self.storage.tables.items():
            CfnOutput(self, f"{pascal(table_id)}TableName", value=table.table_name)
        for bucket_id, bucket in self.storage.buckets.items():
            CfnOutput(self, f"{pascal(bucket_id)}BucketName", value=bucket.bucket_name)
        for queue_id, pair in self.pipeline.queues.items():
            CfnOutput(self, f"{pascal(queue_id)}QueueUrl", value=pair.queue.queue_url)
            CfnOutput(self, f"{pascal(queue_id)}DeadLetterQueueUrl", value=pair.dlq.queue_url)


class EdgeStack(Stack):
    """What CloudFront needs from us-east-1 when the main stack is elsewhere: the API's web ACL."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Roomcraft {config.stage}: the API's AWS WAF web ACL (CloudFront scope, us-east-1)",
            **kwargs,
        )
        self.firewall = ApiFirewall(self, "Firewall", config=config)


def _role(function: lambda_.Function) -> iam.IRole:
    assert function.role is not None
    return function.role
