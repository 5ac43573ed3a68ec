"""Where Roomcraft's Lambda code runs: one Python version and one architecture for functions and layer.

Plain constants, no CDK import, so ``layers/build_layer.py`` can read them without loading aws-cdk-lib.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

PYTHON_VERSION = "3.12"
"""The Lambda runtime (``python3.12``); the layer's wheels and bytecode are built for this version."""

ARCHITECTURE = "arm64"
"""Graviton: cheaper per GB-second than x86_64 for the same work."""

WHEEL_PLATFORM = "aarch64-manylinux_2_28"
"""uv's ``--python-platform`` for ``arm64`` on Amazon Linux 2023 (glibc 2.34)."""

LAYER_DIR = REPO_ROOT / "layers"
LAYER_BUILD_DIR = LAYER_DIR / "build"
LAYER_PYTHON_DIR = LAYER_BUILD_DIR / "python"
"""Lambda adds ``/opt/python`` to ``sys.path``: the layer zip holds a top-level ``python/`` folder."""

FUNCTIONS_DIR = REPO_ROOT / "functions"
SHARED_DIR = REPO_ROOT / "shared"
LAPTOP_ONLY_PACKAGES = ("local",)
"""Sub-packages of ``shared`` that never ship to Lambda (the embedded local cloud)."""
