"""The deployment configuration: what an operator chooses at ``cdk deploy`` time, validated once.

Each setting is read from CDK context (``cdk deploy -c provider=replicate``) or, failing that, from
the environment variable ``ROOMCRAFT_DEPLOY_<SETTING>`` (``ROOMCRAFT_DEPLOY_PROVIDER=replicate``);
context wins. A bad value stops synthesis with one line per problem, naming the setting.
No CDK import here: the model is plain pydantic, so it is cheap to test.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.providers.profiles import parameter_problems, profile_for

ENV_PREFIX = "ROOMCRAFT_DEPLOY_"

LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""The retention periods CloudWatch Logs accepts."""

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_REPLICATE_MODEL = re.compile(r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*(:[0-9a-f]{64})?$")
_ECR_IMAGE = re.compile(
    r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([a-z0-9._/-]+)[:@][\w.:-]+$"
)
_S3_OBJECT = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+\.tar\.gz)$")
_SAGEMAKER_INSTANCE = re.compile(r"^ml\.(g4dn|g5|g6|g6e|p3|p4d|p4de|p5|inf2)\.[0-9]*x?large$")
_BEDROCK_MODEL_ID = re.compile(r"^(?:[a-z-]{2,7}\.)?[a-z0-9-]+\.[A-Za-z0-9._:-]{1,120}$")
_SAGEMAKER_ENDPOINT = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
_ORIGIN = re.compile(r"^(\*|https?://[a-z0-9.-]+(:\d{1,5})?)$")


class ConfigError(ValueError):
    """The deployment configuration is invalid; the message lists every problem."""


class DeploymentConfig(BaseModel):
    """One deployment of Roomcraft (one stack per stage in an account and region)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: str = "dev"
    """Names the stack (``Roomcraft-<stage>``) and the event bus; lower case, digits and dashes."""
    provider: Literal["preview", "replicate", "sagemaker"] = "preview"
    """The inference provider the worker uses."""
    replicate_model: str = "adirik/interior-design"
    """``owner/model`` or ``owner/model:<64-hex version>`` on Replicate."""
    sagemaker_endpoint: str | None = None
    """Name of an existing SageMaker endpoint; required when ``provider`` is ``sagemaker``."""
    analysis_model_id: str | None = None
    """Bedrock model or inference-profile id for the photo analysis (docs/quality.md), e.g.
    ``amazon.nova-lite-v1:0``; unset: the offline heuristic, and no Bedrock permission at all."""
    generation_guidance: float | None = None
    """Guidance scale sent to the model (unset: the model's default); checked against its range."""
    generation_steps: int | None = None
    """Denoising steps sent to the model (unset: the model's default); checked against its range."""
    inference: Literal["external", "selfhosted"] = "external"
    """``selfhosted``: deploy Roomcraft's own model (inference/) on an asynchronous SageMaker endpoint
    that scales to zero; the worker uses it as its ``sagemaker`` provider (docs/selfhosted.md)."""
    inference_image: str | None = None
    """ECR image URI of ``make inference-image``; required with ``inference=selfhosted``."""
    inference_model_data: str | None = None
    """``s3://bucket/key.tar.gz`` of the model folder; required with ``inference=selfhosted``."""
    inference_instance_type: str = "ml.g5.xlarge"
    """A GPU instance type (ml.g4dn/g5/g6/g6e/p3/p4d/p5)."""
    inference_max_instances: int = Field(default=1, ge=1, le=20)
    inference_backlog_per_instance: float = Field(default=4.0, gt=0, le=100)
    """Queued requests per instance the autoscaling aims for."""
    api_rate_limit: float = Field(default=50.0, gt=0, le=10_000)
    """Steady-state requests per second across the whole HTTP API (API Gateway throttling)."""
    api_burst_limit: int = Field(default=100, gt=0, le=5_000)
    """Requests the HTTP API absorbs in a burst before throttling with 429."""
    api_client_rate_limit: int = Field(default=1000, ge=10, le=2_000_000_000)
    """Requests one client IP may make to ``/v1/`` in five minutes before AWS WAF answers 429."""
    log_retention_days: int = 30
    """Retention of every log group (functions and API access logs)."""
    alarm_email: str | None = None
    """Subscribed to the alarm topic when set (the address must confirm the subscription)."""
    queue_age_alarm_minutes: int = Field(default=15, ge=1, le=1440)
    """Alarm when the oldest message of a consumed queue has waited longer than this."""
    cors_allowed_origins: tuple[str, ...] = ("*",)
    """Browser origins allowed to call the API and post uploads (``*`` or ``https://host[:port]``)."""
    domain_name: str | None = None
    """Optional custom domain for the CDN (``images.example.com``); needs ``certificate_arn``."""
    certificate_arn: str | None = None
    """ACM certificate for ``domain_name``; CloudFront requires it to be in us-east-1."""
    retain_data: bool = True
    """Keep tables, buckets, secret and logs when the stack is deleted (turn off for throwaway stages)."""

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        if not _STAGE.match(value):
            raise ValueError(
                f"must start with a lower-case letter and hold only a-z, 0-9 and '-', at most 20 characters "
                f"(got {value!r})"
            )
        return value

    @field_validator("replicate_model")
    @classmethod
    def _replicate_model(cls, value: str) -> str:
        if not _REPLICATE_MODEL.match(value):
            raise ValueError(f"must be 'owner/model' or 'owner/model:<64-hex version>' (got {value!r})")
        return value

    @field_validator("sagemaker_endpoint")
    @classmethod
    def _sagemaker_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not _SAGEMAKER_ENDPOINT.match(value):
            raise ValueError(
                "must be a SageMaker endpoint name: letters, digits and '-', at most 63 characters "
                f"(got {value!r})"
            )
        return value

    @field_validator("analysis_model_id")
    @classmethod
    def _analysis_model_id(cls, value: str | None) -> str | None:
        if value is not None and not _BEDROCK_MODEL_ID.match(value):
            raise ValueError(
                "must be a Bedrock model id such as 'amazon.nova-lite-v1:0' or an inference profile id "
                f"such as 'us.amazon.nova-lite-v1:0' (got {value!r})"
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention_days(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS)
            raise ValueError(f"must be one of the periods CloudWatch Logs accepts: {allowed} (got {value})")
        return value

    @field_validator("alarm_email")
    @classmethod
    def _alarm_email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"must be an email address like ops@example.com (got {value!r})")
        return value

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one origin ('*' allows any)")
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"each origin must be '*' or 'https://host[:port]' without a path (got {origin!r})"
                )
        return value

    @field_validator("domain_name")
    @classmethod
    def _domain_name(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN.match(value):
            raise ValueError(f"must be a lower-case DNS name like images.example.com (got {value!r})")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate_arn(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = _CERTIFICATE_ARN.match(value)
        if not match:
            raise ValueError(f"must be an ACM certificate ARN (got {value!r})")
        if match.group(1) != "us-east-1":
            raise ValueError(
                f"CloudFront only accepts ACM certificates from us-east-1 (got region {match.group(1)})"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _selfhosted_defaults(cls, values: Any) -> Any:
        """``inference=selfhosted`` names its endpoint and makes it the worker's provider."""
        if isinstance(values, dict) and values.get("inference") == "selfhosted":
            values = dict(values)
            values.setdefault("provider", "sagemaker")
            values.setdefault("sagemaker_endpoint", f"roomcraft-{values.get('stage', 'dev')}-staging")
        return values

    @model_validator(mode="after")
    def _selfhosted(self) -> Self:
        if self.inference != "selfhosted":
            return self
        problems = []
        if self.provider != "sagemaker":
            problems.append(
                f"inference=selfhosted serves through provider 'sagemaker', not {self.provider!r}"
            )
        if not (self.inference_image and _ECR_IMAGE.match(self.inference_image)):
            problems.append(
                "inference=selfhosted needs inference_image, an ECR image URI "
                "(ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG) from `make inference-image`"
            )
        if not (self.inference_model_data and _S3_OBJECT.match(self.inference_model_data)):
            problems.append("inference=selfhosted needs inference_model_data, s3://BUCKET/KEY.tar.gz")
        if not _SAGEMAKER_INSTANCE.match(self.inference_instance_type):
            problems.append(
                "inference_instance_type must be a SageMaker GPU instance type "
                f"(got {self.inference_instance_type!r})"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.provider == "sagemaker" and not self.sagemaker_endpoint:
            raise ValueError(
                "provider 'sagemaker' needs sagemaker_endpoint (the name of an existing endpoint)"
            )
        if self.provider == "replicate":
            problems = parameter_problems(
                profile_for(self.replicate_model),
                guidance=self.generation_guidance,
                steps=self.generation_steps,
            )
            if problems:
                raise ValueError(f"{self.replicate_model} refuses these settings: " + "; ".join(problems))
        if bool(self.domain_name) != bool(self.certificate_arn):
            raise ValueError("domain_name and certificate_arn go together: set both or neither")
        return self

    @property
    def stack_name(self) -> str:
        return f"Roomcraft-{self.stage}"

    @classmethod
    def from_sources(
        cls,
        context: Mapping[str, Any] | Callable[[str], Any],
        environ: Mapping[str, str],
        *,
        all_context_keys: tuple[str, ...] = (),
    ) -> DeploymentConfig:
        """Build from CDK context (a mapping or ``node.try_get_context``) and environment variables.

        ``all_context_keys`` lets a likely typo (``-c provder=replicate``) fail instead of being ignored.
        """
        get = context.get if isinstance(context, Mapping) else context
        fields = tuple(cls.model_fields)
        typos = [
            f"  - context key {key!r} is not a Roomcraft setting; did you mean {close[0]!r}?"
            for key in all_context_keys
            if key not in fields and (close := difflib.get_close_matches(key, fields, n=1, cutoff=0.8))
        ]
        values: dict[str, Any] = {}
        for name in fields:
            value = get(name)
            if value is None:
                value = environ.get(ENV_PREFIX + name.upper())
            if value is not None and value != "":
                values[name] = value
        try:
            config = cls(**values)
        except ValidationError as error:
            raise ConfigError(_describe(error, typos)) from None
        if typos:
            raise ConfigError(_describe(None, typos))
        return config


def _describe(error: ValidationError | None, extra: list[str]) -> str:
    lines = ["Invalid Roomcraft deployment configuration:"]
    for problem in error.errors() if error else ():
        setting = ".".join(str(part) for part in problem["loc"]) or "configuration"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] in {
            "literal_error",
            "float_parsing",
            "int_parsing",
            "bool_parsing",
            "greater_than",
            "less_than_equal",
            "greater_than_equal",
            "int_from_float",
        }:
            message = f"{message} (got {problem['input']!r})"
        hint = (
            f" [-c {setting}=... or {ENV_PREFIX}{setting.upper()}]"
            if setting in DeploymentConfig.model_fields
            else ""
        )
        lines.append(f"  - {setting}: {message}{hint}")
    lines.extend(extra)
    return "\n".join(lines)
