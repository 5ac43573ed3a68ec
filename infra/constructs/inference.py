"""Inference: the Replicate API token in Secrets Manager and the SageMaker endpoint the worker may call.

The token is created with a random placeholder; the operator stores the real one with
``aws secretsmanager put-secret-value`` (see docs/deploy.md). Nothing else is reachable: the grants
name exactly this secret and exactly the configured endpoint.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import DeploymentConfig

SAGEMAKER_INVOKE_ACTIONS = ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync")


class Inference(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.provider = config.provider
        self.replicate_model = config.replicate_model
        self.sagemaker_endpoint = config.sagemaker_endpoint or ""

        self.replicate_token = secretsmanager.Secret(
            self,
            "ReplicateToken",
            description=(
                f"Replicate API token for Roomcraft ({config.stage}); replace the placeholder with "
                "`aws secretsmanager put-secret-value`"
            ),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        Validations.of(self.replicate_token).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="A third-party Replicate API token: it is rotated in Replicate's dashboard and stored "
                "with put-secret-value; there is no AWS-side rotation Lambda for it.",
            )
        )

        # Replicate signs its webhooks with the account's signing secret (whsec_...); the API verifies
        # callbacks with it and needs nothing else of Replicate's (docs/providers.md).
        self.replicate_webhook_secret = secretsmanager.Secret(
            self,
            "ReplicateWebhookSecret",
            description=(
                f"Replicate webhook signing secret for Roomcraft ({config.stage}): the `key` of "
                "GET https://api.replicate.com/v1/webhooks/default/secret; store it with put-secret-value"
            ),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        Validations.of(self.replicate_webhook_secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="Replicate's webhook signing secret is issued by Replicate per account; it cannot be "
                "rotated from AWS, only copied in with put-secret-value.",
            )
        )

        # SageMaker Asynchronous Inference reports each result on these topics (the endpoint's
        # AsyncInferenceConfig.NotificationConfig names them); they feed the inference-events queue.
        self.async_topics: dict[str, sns.Topic] = {}
        if config.sagemaker_endpoint:
            for outcome in ("Success", "Error"):
                topic = sns.Topic(
                    self,
                    f"SageMakerAsync{outcome}",
                    display_name=f"Roomcraft {config.stage} SageMaker async {outcome.lower()}",
                    enforce_ssl=True,
                )
                Validations.of(topic).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-SNS2",
                        reason="Notifications carry only an inference id (tenant and design ids) and S3 "
                        "locations, never image data; an unencrypted topic lets the endpoint's role publish "
                        "without a KMS grant.",
                    )
                )
                self.async_topics[outcome.lower()] = topic

        self.sagemaker_endpoint_arn: str | None = None
        if config.sagemaker_endpoint:
            # SageMaker lower-cases endpoint names in ARNs.
            self.sagemaker_endpoint_arn = Stack.of(self).format_arn(
                service="sagemaker", resource="endpoint", resource_name=config.sagemaker_endpoint.lower()
            )

    def grant_use(self, grantee: iam.IGrantable) -> None:
        """Read the Replicate token; invoke the configured SageMaker endpoint (if one is configured)."""
        self.replicate_token.grant_read(grantee)
        if self.sagemaker_endpoint_arn:
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=list(SAGEMAKER_INVOKE_ACTIONS),
                resource_arns=[self.sagemaker_endpoint_arn],
            )

    def grant_webhook_secret_read(self, grantee: iam.IGrantable) -> None:
        """Verify Replicate's callbacks (the API); no token, no endpoint."""
        self.replicate_webhook_secret.grant_read(grantee)

    def notify(self, queue: sqs.IQueue) -> None:
        """Deliver SageMaker async notifications (SNS envelope, not raw) to ``queue``."""
        for topic in self.async_topics.values():
            topic.add_subscription(subscriptions.SqsSubscription(queue))
