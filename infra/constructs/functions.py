"""Functions: one Lambda function per ``FunctionSpec`` and the shared dependency layer.

Every function runs the same runtime and architecture (``infra.runtime``), traces with X-Ray, logs
to its own log group with the configured retention, and has its own role that starts empty: the
stack grants each role exactly what that function uses.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import packaging, runtime
from infra.config import DeploymentConfig
from infra.naming import pascal
from shared.resources import FUNCTIONS, FunctionSpec

RUNTIME = {"3.12": lambda_.Runtime.PYTHON_3_12, "3.13": lambda_.Runtime.PYTHON_3_13}[runtime.PYTHON_VERSION]
ARCHITECTURE = lambda_.Architecture.ARM_64 if runtime.ARCHITECTURE == "arm64" else lambda_.Architecture.X86_64

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention(days: int) -> logs.RetentionDays:
    return _RETENTION[days]


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=packaging.layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Roomcraft runtime dependencies (layers/requirements.txt), pre-compiled",
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for spec in FUNCTIONS:
            self.functions[spec.id] = self._function(spec, environment)

    def _function(self, spec: FunctionSpec, environment: Mapping[str, str]) -> lambda_.Function:
        name = pascal(spec.id)
        log_group = logs.LogGroup(
            self,
            f"{name}Logs",
            retention=retention(self._config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if self._config.retain_data else RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Roomcraft {self._config.stage} {spec.id} function: only what it uses",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            f"{name}Function",
            description=f"Roomcraft {self._config.stage} {spec.id} (functions/{spec.id}/handler.py)",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=packaging.function_code(spec.id),
            layers=[self.layer],
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            environment=dict(environment),
        )
        self.log_groups[spec.id] = log_group
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not "
                "support resource-level permissions, so AWS requires Resource '*'.",
            ),
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason=f"Pinned to python{runtime.PYTHON_VERSION}, the version the dependency layer's "
                "compiled wheels and bytecode are built for (layers/build_layer.py); upgrade both together "
                "in infra/runtime.py.",
            ),
        )
        return function
