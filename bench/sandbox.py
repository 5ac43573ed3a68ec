"""A deployment-shaped Python environment for cold-start measurements, built under ``bench/.build``.

Lambda runs a function with ``/var/task`` (the function asset), ``/opt/python`` (the layer) and the
runtime's own boto3 on ``sys.path``, and nothing else: no dev tools, no virtualenv. Importing from
the project's ``.venv`` instead would measure the wrong thing (for example ``httpx`` imports its
command-line extras when ``rich`` and ``click`` happen to be installed for other tools). So the
benchmark builds the same three folders for *this* machine's interpreter and architecture:

- ``layer/python``: ``layers/build_layer.py`` with ``--python-version`` and ``--platform`` of this
  machine (same requirements, same ``uv.lock`` versions, bytecode pre-compiled as for deployment);
- ``runtime``: boto3, botocore and s3transfer at the locked versions (what the Lambda runtime provides);
- ``task-<function>``: the function asset exactly as ``infra.packaging.FunctionBundler`` builds it.

Probes then run ``python -I -S`` (no site-packages, no user site, no environment paths) with only
those folders on ``sys.path``.
"""

from __future__ import annotations

import compileall
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "bench" / ".build"
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer")


@dataclass(frozen=True)
class Sandbox:
    layer: Path
    runtime: Path
    tasks: dict[str, Path]
    """Function id (or ``baseline``) -> its task folder."""
    python_version: str
    wheel_platform: str

    def sys_path(self, name: str) -> list[str]:
        """In Lambda's order: task, layer, runtime."""
        return [str(self.tasks[name]), str(self.layer), str(self.runtime)]


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def wheel_platform() -> str:
    machine = platform.machine().lower()
    return f"{'aarch64' if machine in {'arm64', 'aarch64'} else 'x86_64'}-manylinux_2_28"


def _fingerprint(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def _stamp_matches(folder: Path, stamp: str) -> bool:
    marker = folder / ".bench-stamp"
    return folder.is_dir() and marker.is_file() and marker.read_text() == stamp


def compile_tree(folder: Path) -> None:
    """As deployment does: bytecode next to the sources, valid whatever the files' mtimes."""
    compileall.compile_dir(
        str(folder),
        quiet=1,
        workers=0,
        invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def build_layer(pyver: str, wheels: str) -> Path:
    build = BUILD_DIR / "layer"
    stamp = _fingerprint(
        (REPO_ROOT / "uv.lock").read_text(),
        (REPO_ROOT / "layers" / "requirements.txt").read_text(),
        (REPO_ROOT / "layers" / "excludes.txt").read_text(),
        pyver,
        wheels,
    )
    if not _stamp_matches(build, stamp):
        shutil.rmtree(build, ignore_errors=True)
        subprocess.run(  # noqa: S603 - the project's own script
            [
                sys.executable,
                str(REPO_ROOT / "layers" / "build_layer.py"),
                "--python-version",
                pyver,
                "--platform",
                wheels,
                "--build-dir",
                str(build),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        sizes = json.loads((build / "sizes.json").read_text())
        if not sizes.get("bytecode_compiled"):
            compile_tree(build / "python")
        (build / ".bench-stamp").write_text(stamp)
    return build / "python"


def build_runtime(pyver: str, wheels: str) -> Path:
    folder = BUILD_DIR / "runtime"
    pins = [f"{name}=={version(name)}" for name in RUNTIME_PACKAGES]
    stamp = _fingerprint(*pins, pyver, wheels)
    if not _stamp_matches(folder, stamp):
        shutil.rmtree(folder, ignore_errors=True)
        uv = shutil.which("uv")
        if uv is None:
            raise RuntimeError("`uv` is not on PATH")
        subprocess.run(  # noqa: S603 - uv with fixed arguments
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--target",
                str(folder),
                "--python-platform",
                wheels,
                "--python-version",
                pyver,
                "--only-binary",
                ":all:",
                "--no-compile",
                *pins,
            ],
            check=True,
        )
        shutil.rmtree(folder / "bin", ignore_errors=True)
        compile_tree(folder)
        (folder / ".bench-stamp").write_text(stamp)
    return folder


def build_tasks(function_ids: list[str], *, compiled: bool = True) -> dict[str, Path]:
    """Each function's asset via the infra packaging code, plus the naive baseline's."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.packaging import FunctionBundler

    suffix = "" if compiled else "-nobytecode"
    tasks: dict[str, Path] = {}
    for function_id in function_ids:
        folder = BUILD_DIR / f"task-{function_id}{suffix}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        FunctionBundler(function_id, REPO_ROOT).try_bundle(str(folder))
        if compiled:
            compile_tree(folder)
        tasks[function_id] = folder

    # The baseline ships the same ``shared`` package (its worker reuses the pipeline) plus its module.
    folder = BUILD_DIR / f"task-baseline{suffix}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    FunctionBundler(function_ids[0], REPO_ROOT).try_bundle(str(folder))
    for module in folder.glob("*.py"):
        module.unlink()
    shutil.copy2(REPO_ROOT / "bench" / "baseline_app.py", folder / "baseline_app.py")
    if compiled:
        compile_tree(folder)
    tasks["baseline"] = folder
    return tasks


def build(function_ids: list[str]) -> Sandbox:
    pyver, wheels = python_version(), wheel_platform()
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    layer = build_layer(pyver, wheels)
    runtime = build_runtime(pyver, wheels)
    tasks = build_tasks(function_ids)
    for function_id, folder in build_tasks(function_ids, compiled=False).items():
        tasks[f"{function_id}-nobytecode"] = folder
    return Sandbox(layer=layer, runtime=runtime, tasks=tasks, python_version=pyver, wheel_platform=wheels)
