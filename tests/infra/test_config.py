"""The deployment configuration: defaults, context over environment, and clear errors on bad values."""

from __future__ import annotations

import re

import pytest

from infra.config import ConfigError, DeploymentConfig

pytestmark = pytest.mark.infra

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"


def load(context: dict[str, object] | None = None, environ: dict[str, str] | None = None) -> DeploymentConfig:
    context = context or {}
    return DeploymentConfig.from_sources(context, environ or {}, all_context_keys=tuple(context))


def test_defaults_are_a_safe_preview_deployment() -> None:
    config = load()
    assert config.stage == "dev"
    assert config.provider == "preview"
    assert config.retain_data is True
    assert config.stack_name == "Roomcraft-dev"


def test_context_strings_are_parsed_and_win_over_the_environment() -> None:
    config = load(
        {
            "stage": "prod",
            "provider": "replicate",
            "api_rate_limit": "20",
            "retain_data": "false",
            "cors_allowed_origins": "https://a.example.com, https://b.example.com:8443",
        },
        {"ROOMCRAFT_DEPLOY_STAGE": "ignored", "ROOMCRAFT_DEPLOY_LOG_RETENTION_DAYS": "90"},
    )
    assert config.stage == "prod"
    assert config.provider == "replicate"
    assert config.api_rate_limit == 20.0
    assert config.retain_data is False
    assert config.log_retention_days == 90
    assert config.cors_allowed_origins == ("https://a.example.com", "https://b.example.com:8443")


def test_a_context_reader_function_works_like_a_mapping() -> None:
    context = {"stage": "qa"}
    assert DeploymentConfig.from_sources(context.get, {}).stage == "qa"


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"provider": "gpu"}, "provider: Input should be 'preview', 'replicate' or 'sagemaker' (got 'gpu')"),
        ({"alarm_email": "not-an-email"}, "alarm_email: must be an email address like ops@example.com"),
        ({"stage": "Prod_1"}, "stage: must start with a lower-case letter"),
        (
            {"log_retention_days": "10"},
            "log_retention_days: must be one of the periods CloudWatch Logs accepts",
        ),
        ({"api_rate_limit": "0"}, "api_rate_limit: Input should be greater than 0 (got '0')"),
        ({"api_burst_limit": "lots"}, "api_burst_limit: Input should be a valid integer"),
        ({"replicate_model": "just-a-name"}, "replicate_model: must be 'owner/model'"),
        ({"provider": "sagemaker"}, "provider 'sagemaker' needs sagemaker_endpoint"),
        ({"domain_name": "img.example.com"}, "domain_name and certificate_arn go together"),
        (
            {
                "domain_name": "img.example.com",
                "certificate_arn": CERTIFICATE.replace("us-east-1", "eu-west-1"),
            },
            "CloudFront only accepts ACM certificates from us-east-1 (got region eu-west-1)",
        ),
        (
            {"cors_allowed_origins": "https://a.example.com/path"},
            "each origin must be '*' or 'https://host[:port]'",
        ),
        (
            {"provder": "replicate"},
            "context key 'provder' is not a Roomcraft setting; did you mean 'provider'?",
        ),
    ],
)
def test_bad_values_fail_with_a_message_naming_the_setting(context: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(context)
    message = str(raised.value)
    assert message.startswith("Invalid Roomcraft deployment configuration:")
    assert expected in message


def test_every_problem_is_reported_at_once_with_where_to_set_it() -> None:
    with pytest.raises(ConfigError) as raised:
        load({}, {"ROOMCRAFT_DEPLOY_PROVIDER": "gpu", "ROOMCRAFT_DEPLOY_ALARM_EMAIL": "nope"})
    lines = str(raised.value).splitlines()
    assert len(lines) == 3
    assert "[-c provider=... or ROOMCRAFT_DEPLOY_PROVIDER]" in lines[1] + lines[2]


def test_a_custom_domain_with_a_us_east_1_certificate_is_accepted() -> None:
    config = load({"domain_name": "images.example.com", "certificate_arn": CERTIFICATE})
    assert config.domain_name == "images.example.com"


# --- model parameter ranges (issue 14, item 4) ---------------------------------------------------
@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"provider": "replicate", "generation_steps": "600"}, "generation_steps: 600 is outside"),
        ({"provider": "replicate", "generation_guidance": "0.5"}, "guidance_scale (1-50)"),
        (
            {
                "provider": "replicate",
                "replicate_model": "black-forest-labs/flux-depth-dev",
                "generation_steps": "80",
            },
            "num_inference_steps (1-50)",
        ),
    ],
)
def test_generation_settings_outside_the_models_range_stop_synthesis(
    context: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load(context)


def test_generation_settings_inside_the_range_pass() -> None:
    config = load({"provider": "replicate", "generation_steps": "40", "generation_guidance": "7.5"})
    assert (config.generation_steps, config.generation_guidance) == (40, 7.5)
    flux = load(
        {
            "provider": "replicate",
            "replicate_model": "black-forest-labs/flux-depth-dev",
            "generation_guidance": "60",
        }
    )
    assert flux.generation_guidance == 60.0
