"""Deployment artefact sizes: the dependency layer and each function's asset, zipped and unzipped.

The layer's numbers come from ``layers/build/sizes.json`` (``make layer``; built here if missing).
Each function is bundled with the infra packaging code (``infra.packaging.FunctionBundler``), exactly
as ``cdk synth`` bundles it, and zipped as Lambda receives it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.sandbox import compile_tree

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
LAMBDA_ZIPPED_DIRECT_LIMIT = 50 * 1024 * 1024


def tree(folder: Path) -> tuple[int, int]:
    files = [path for path in folder.rglob("*") if path.is_file()]
    return sum(path.stat().st_size for path in files), len(files)


def zipped(folder: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "asset.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(folder))
        return archive.stat().st_size


def layer_sizes() -> dict[str, Any]:
    sizes_file = REPO_ROOT / "layers" / "build" / "sizes.json"
    if not sizes_file.exists():
        subprocess.run(  # noqa: S603 - the project's own script
            [sys.executable, str(REPO_ROOT / "layers" / "build_layer.py")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    sizes: dict[str, Any] = json.loads(sizes_file.read_text())
    return {key: value for key, value in sizes.items() if key != "packages"} | {
        "packages": len(sizes.get("packages", {}))
    }


def function_sizes(function_ids: list[str]) -> dict[str, Any]:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.packaging import FunctionBundler

    result: dict[str, Any] = {}
    for function_id in function_ids:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "asset"
            folder.mkdir()
            FunctionBundler(function_id, REPO_ROOT).try_bundle(str(folder))
            unzipped, files = tree(folder)
            packed = zipped(folder)
            has_bytecode = any(folder.rglob("*.pyc"))
            compiled = Path(tmp) / "compiled"
            shutil.copytree(folder, compiled)
            compile_tree(compiled)
            with_bytecode, _ = tree(compiled)
            result[function_id] = {
                "files": files,
                "unzipped_bytes": unzipped,
                "zipped_bytes": packed,
                "ships_bytecode": has_bytecode,
                "unzipped_bytes_if_compiled": with_bytecode,
                "zipped_bytes_if_compiled": zipped(compiled),
            }
    return result


def run(function_ids: list[str]) -> dict[str, Any]:
    layer = layer_sizes()
    functions = function_sizes(function_ids)
    largest = max((f["unzipped_bytes"] for f in functions.values()), default=0)
    return {
        "benchmark": "artifacts",
        "method": __doc__.strip().splitlines()[0],
        "layer": layer,
        "functions": functions,
        "largest_function_plus_layer_unzipped_bytes": largest + int(layer.get("unzipped_bytes", 0)),
        "lambda_unzipped_limit_bytes": LAMBDA_UNZIPPED_LIMIT,
        "lambda_zipped_direct_upload_limit_bytes": LAMBDA_ZIPPED_DIRECT_LIMIT,
    }
