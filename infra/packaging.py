"""Lambda code and layer assets, bundled on this machine (no Docker).

Each function's asset is ``functions/<id>/*.py`` (the entry point is ``handler.handler``) plus the
project's ``shared`` package, minus laptop-only code. The dependency layer is ``layers/build/python``,
built by ``layers/build_layer.py`` (``make layer``); synth builds it first if it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra import runtime

_NEVER_SHIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache", ".ruff_cache")

# Only used if local bundling declined, which ours never does; CDK requires an image.
_UNUSED_IMAGE = DockerImage.from_registry(f"public.ecr.aws/sam/build-python{runtime.PYTHON_VERSION}")


class BundlingError(RuntimeError):
    """Local bundling cannot produce an asset (missing handler, layer build failed)."""


@jsii.implements(ILocalBundling)
class FunctionBundler:
    """Copies one function's entry point and the ``shared`` package into the asset folder."""

    def __init__(self, function_id: str, repo_root: Path = runtime.REPO_ROOT) -> None:
        self.function_id = function_id
        self.repo_root = repo_root

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        out = Path(output_dir)
        source = self.repo_root / "functions" / self.function_id
        if not (source / "handler.py").is_file():
            raise BundlingError(
                f"functions/{self.function_id}/handler.py does not exist, but shared/resources.py declares "
                f"FunctionSpec(id={self.function_id!r}); add the handler or remove the spec"
            )
        for module in sorted(source.glob("*.py")):
            if module.name != "__init__.py":
                shutil.copy2(module, out / module.name)
        shared = self.repo_root / "shared"

        def ignore(directory: str, names: list[str]) -> set[str]:
            skipped = set(_NEVER_SHIPPED(directory, names))
            if Path(directory) == shared:
                skipped.update(name for name in names if name in runtime.LAPTOP_ONLY_PACKAGES)
            return skipped

        shutil.copytree(shared, out / "shared", ignore=ignore)
        return True


@jsii.implements(ILocalBundling)
class LayerBundler:
    """Copies the built dependency layer (``layers/build/python``), building it first if needed."""

    def __init__(self, repo_root: Path = runtime.REPO_ROOT) -> None:
        self.repo_root = repo_root

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        built = self.repo_root / "layers" / "build" / "python"
        if not built.is_dir():
            print("roomcraft: layers/build/python is missing; building the dependency layer", file=sys.stderr)
            script = self.repo_root / "layers" / "build_layer.py"
            result = subprocess.run([sys.executable, str(script)], check=False)  # noqa: S603 - our own script
            if result.returncode != 0 or not built.is_dir():
                raise BundlingError(
                    "building the dependency layer failed; run `make layer` and read its output"
                )
        # As built, including the pre-compiled bytecode (``__pycache__``) that saves cold-start time.
        shutil.copytree(built, Path(output_dir) / "python")
        return True


def function_code(function_id: str) -> lambda_.Code:
    """The asset of one function; hashed on the bundle's output, so any change to ``shared`` redeploys."""
    return lambda_.Code.from_asset(
        str(runtime.FUNCTIONS_DIR),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=_UNUSED_IMAGE,
            # Distinguishes the functions' bundling options (CDK caches assets by them).
            command=["roomcraft-bundle-function", function_id],
            local=FunctionBundler(function_id),
        ),
    )


def layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(runtime.LAYER_DIR),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=_UNUSED_IMAGE,
            command=["roomcraft-bundle-layer"],
            local=LayerBundler(),
        ),
    )
