"""Choose the inference provider by name; only the worker imports heavy provider clients."""

from __future__ import annotations

from shared.domain.errors import ProviderNotConfigured, UnsupportedProvider
from shared.providers.base import InferenceProvider
from shared.settings import Settings

_cache: dict[str, InferenceProvider] = {}


def provider_for(name: str, settings: Settings) -> InferenceProvider:
    if name in _cache:
        return _cache[name]
    provider: InferenceProvider
    if name == "preview":
        from shared.providers.preview import PreviewProvider

        provider = PreviewProvider()
    elif name == "replicate":
        from shared.providers.replicate import ReplicateProvider

        provider = ReplicateProvider(settings)
    elif name == "sagemaker":
        from shared.providers.sagemaker import SageMakerProvider

        if not settings.sagemaker_endpoint:
            raise ProviderNotConfigured("the sagemaker provider needs ROOMCRAFT_SAGEMAKER_ENDPOINT")
        provider = SageMakerProvider(settings)
    else:
        raise UnsupportedProvider(f"unknown provider {name!r}")
    _cache[name] = provider
    return provider


def typical_seconds(name: str) -> float:
    """ETA estimate without constructing the provider (the API must not import provider clients)."""
    return {"preview": 2.0, "replicate": 35.0, "sagemaker": 25.0}.get(name, 30.0)


def forget_providers() -> None:
    """Drop built providers (tests and the local cloud change settings between runs)."""
    _cache.clear()


def uses_callbacks(settings: Settings) -> bool:
    """Whether a provider of this deployment may call back: Replicate enabled with a token, or a
    Replicate webhook secret set on purpose (``REPLICATE_WEBHOOK_SECRET``, local runs and tests).
    Cheap (imports no provider client): the API asks before it verifies a callback."""
    import os

    if os.environ.get("REPLICATE_WEBHOOK_SECRET", "").strip():
        return True
    return "replicate" in settings.providers_allowed and missing_configuration("replicate", settings) is None


def missing_configuration(name: str, settings: Settings) -> str | None:
    """Why provider ``name`` cannot run with these settings and this environment, or None.

    Cheap (imports no provider client): the CLI calls it before it starts anything.
    """
    import os

    if name == "replicate" and not (
        settings.replicate_token_secret_arn or os.environ.get("REPLICATE_API_TOKEN", "").strip()
    ):
        return (
            "the replicate provider needs an API token: export REPLICATE_API_TOKEN=r8_... "
            "(https://replicate.com/account/api-tokens), or set ROOMCRAFT_REPLICATE_TOKEN_SECRET_ARN"
        )
    if name == "replicate":
        from shared.providers.profiles import parameter_problems, profile_for

        problems = parameter_problems(
            profile_for(settings.replicate_model),
            guidance=settings.generation_guidance,
            steps=settings.generation_steps,
            overrides=settings.replicate_input_overrides,
        )
        if problems:
            return f"the settings do not fit {settings.replicate_model}: " + "; ".join(problems)
    if name == "sagemaker" and not settings.sagemaker_endpoint:
        return "the sagemaker provider needs an endpoint: set ROOMCRAFT_SAGEMAKER_ENDPOINT"
    if name not in {"preview", "replicate", "sagemaker"}:
        return f"unknown provider {name!r}; use preview, replicate or sagemaker"
    return None
