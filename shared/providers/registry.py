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
    elif name in {"replicate", "sagemaker"}:
        raise ProviderNotConfigured(f"the {name} provider is not available in this build")
    else:
        raise UnsupportedProvider(f"unknown provider {name!r}")
    _cache[name] = provider
    return provider


def typical_seconds(name: str) -> float:
    """ETA estimate without constructing the provider (the API must not import provider clients)."""
    return {"preview": 2.0, "replicate": 35.0, "sagemaker": 25.0}.get(name, 30.0)
