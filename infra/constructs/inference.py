"""Inference: the Replicate API token in Secrets Manager and the SageMaker endpoint the worker may call.

The token is created with a random placeholder; the operator stores the real one with
``aws secretsmanager put-secret-value`` (see docs/deploy.md). Nothing else is reachable: the grants
name exactly this secret and exactly the configured endpoint.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
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
