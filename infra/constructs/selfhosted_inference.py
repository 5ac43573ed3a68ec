"""Roomcraft's own model (inference/) on an asynchronous SageMaker endpoint that scales to zero.

Only with ``-c inference=selfhosted``. Requests queue in SageMaker's async queue; a target-tracking
policy keeps about ``inference_backlog_per_instance`` queued requests per instance, and lets the
endpoint shrink to zero instances when idle. Target tracking cannot start from zero (its metric is
per instance), so the ``HasBacklogWithoutCapacity`` alarm drives a step policy that adds the first one.
The execution role reads the model archive and the async request objects, writes async results and
publishes to the two notification topics; the container runs with network isolation.
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, Duration, Stack, Token, Validations
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import DeploymentConfig

VARIANT = "AllTraffic"
ASYNC_PREFIX = "work/sagemaker-async"
REQUEST_OBJECTS = "work/*/sagemaker/request.json"


class SelfHostedEndpoint(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        work_bucket: s3.IBucket,
        topics: dict[str, sns.ITopic],
    ) -> None:
        super().__init__(scope, construct_id)
        if not (config.inference_image and config.inference_model_data and config.sagemaker_endpoint):
            raise ValueError(
                "SelfHostedEndpoint needs inference_image, inference_model_data and the endpoint name"
            )
        self.endpoint_name = config.sagemaker_endpoint
        stack = Stack.of(self)

        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Roomcraft {config.stage} self-hosted model: model archive, async I/O, topics",
        )
        model_bucket, model_key = _s3_parts(config.inference_model_data)
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[f"arn:{stack.partition}:s3:::{model_bucket}/{model_key}"]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[work_bucket.arn_for_objects(REQUEST_OBJECTS)]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[work_bucket.arn_for_objects(f"{ASYNC_PREFIX}/*")]
            )
        )
        for topic in topics.values():
            topic.grant_publish(self.role)
        account, region, repository = _ecr_parts(config.inference_image)
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[f"arn:{stack.partition}:ecr:{region}:{account}:repository/{repository}"],
            )
        )
        # GetAuthorizationToken has no resource; it grants nothing without the repository actions above.
        self.role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        log_groups = (
            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:/aws/sagemaker/Endpoints/"
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[f"{log_groups}{self.endpoint_name}", f"{log_groups}{self.endpoint_name}:*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}},
            )
        )
        bucket = stack.get_logical_id(work_bucket.node.default_child)  # type: ignore[arg-type]
        # cdk-nag names a wildcard resource with pseudo parameters where the stack's env is not concrete.
        partition, region, account = (
            f"<AWS::{name}>" if Token.is_unresolved(value) else value
            for name, value in (
                ("Partition", stack.partition),
                ("Region", stack.region),
                ("AccountId", stack.account),
            )
        )
        logs = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/"
        wildcards = (
            f"Resource::<{bucket}.Arn>/{REQUEST_OBJECTS}",
            f"Resource::<{bucket}.Arn>/{ASYNC_PREFIX}/*",
            f"Resource::{logs}{self.endpoint_name}:*",
            "Resource::*",
        )
        for wildcard in wildcards:
            Validations.of(self.role).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[{wildcard}]",
                    reason="Wildcards are scoped: async request objects work/*/sagemaker/request.json and "
                    "results under work/sagemaker-async/ of the uploads bucket, this endpoint's log "
                    "streams, PutMetricData only in SageMaker namespaces, ecr:GetAuthorizationToken.",
                )
            )

        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=True,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=config.inference_image,
                model_data_url=config.inference_model_data,
                environment={"ROOMCRAFT_INFERENCE_QUEUE": "4", "ROOMCRAFT_INFERENCE_TIMEOUT": "900"},
            ),
        )
        self.model.node.add_dependency(self.role)
        Validations.of(self.model).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SM1",
                reason="The container runs with network isolation (no network at all, weights come from the "
                "model archive); SageMaker does the S3 and SNS I/O of async inference, so no VPC is needed.",
            )
        )

        async_root = f"s3://{work_bucket.bucket_name}/{ASYNC_PREFIX}"
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT,
                    model_name=self.model.attr_model_name,
                    instance_type=config.inference_instance_type,
                    initial_instance_count=1,
                    initial_variant_weight=1.0,
                    container_startup_health_check_timeout_in_seconds=900,
                    model_data_download_timeout_in_seconds=1200,
                )
            ],
            async_inference_config=sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=2
                ),
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=f"{async_root}/output",
                    s3_failure_path=f"{async_root}/failure",
                    notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                        success_topic=topics["success"].topic_arn, error_topic=topics["error"].topic_arn
                    ),
                ),
            ),
        )
        Validations.of(self.endpoint_config).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SM2",
                reason="GPU instance types with NVMe instance storage (g4dn, g5, g6, p4d, p5) refuse a "
                "KmsKeyId for the storage volume; SageMaker encrypts their instance store in hardware.",
            )
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )

        self.scaling = appscaling.ScalableTarget(
            self,
            "Scaling",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=0,
            max_capacity=config.inference_max_instances,
        )
        self.scaling.node.add_dependency(self.endpoint)
        dimensions = {"EndpointName": self.endpoint_name}
        self.scaling.scale_to_track_metric(
            "BacklogPerInstance",
            target_value=config.inference_backlog_per_instance,
            custom_metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="ApproximateBacklogSizePerInstance",
                dimensions_map=dimensions,
                statistic="Average",
            ),
            scale_in_cooldown=Duration.minutes(10),
            scale_out_cooldown=Duration.minutes(2),
        )
        self.scale_from_zero = appscaling.StepScalingAction(
            self,
            "ScaleUpFromZero",
            scaling_target=self.scaling,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=Duration.minutes(5),
        )
        self.scale_from_zero.add_adjustment(adjustment=1, lower_bound=0)
        self.backlog_without_capacity = cloudwatch.Alarm(
            self,
            "BacklogWithoutCapacity",
            alarm_description="Requests wait on the self-hosted endpoint and no instance runs: start one",
            metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="HasBacklogWithoutCapacity",
                dimensions_map=dimensions,
                statistic="Average",
                period=Duration.minutes(1),
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.backlog_without_capacity.add_alarm_action(
            cloudwatch_actions.ApplicationScalingAction(self.scale_from_zero)
        )


def _s3_parts(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _ecr_parts(image: str) -> tuple[str, str, str]:
    match = re.match(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([a-z0-9._/-]+)[:@]", image)
    if not match:
        raise ValueError(f"not an ECR image URI: {image!r}")
    return match.group(1), match.group(2), match.group(3)
