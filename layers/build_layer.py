"""Build the Lambda dependency layer without Docker: ``uv run python layers/build_layer.py`` (``make layer``).

1. Installs ``layers/requirements.txt`` into ``layers/build/python`` as binary wheels for the Lambda
   platform (``uv pip install --python-platform aarch64-manylinux_2_28 --python-version 3.12
   --only-binary :all: --target ...``), at the versions pinned in ``uv.lock`` and without the
   packages the runtime already has (``layers/excludes.txt``: boto3, botocore, s3transfer).
2. Pre-compiles the bytecode with an interpreter of the runtime's Python version, so a cold start
   does not compile (Lambda cannot write ``__pycache__`` into ``/opt``). Without such an interpreter
   the step is skipped with a warning, and ``sizes.json`` says so.
3. Zips the layer (``layers/build/layer.zip``) and writes its sizes to ``layers/build/sizes.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from infra import runtime  # noqa: E402 - after making the repo importable

LAYERS = REPO_ROOT / "layers"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
"""Function code plus all its layers, unzipped."""


def _run(command: list[str], cwd: Path | None = None) -> None:
    print("+", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True, cwd=cwd)  # noqa: S603 - our own tools, fixed arguments


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        sys.exit("build_layer: `uv` is not on PATH (https://docs.astral.sh/uv/)")
    return uv


def install(target: Path, *, python_version: str, platform: str) -> None:
    uv = _uv()
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "constraints.txt"
        # The versions the tests ran against: uv.lock's resolution of the project's runtime dependencies.
        _run(
            [
                uv,
                "export",
                "--frozen",
                "--no-hashes",
                "--no-emit-project",
                "--no-dev",
                "--format",
                "requirements.txt",
                "--quiet",
                "-o",
                str(constraints),
            ],
            cwd=REPO_ROOT,
        )
        _run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--target",
                str(target),
                "--python-platform",
                platform,
                "--python-version",
                python_version,
                "--only-binary",
                ":all:",
                "--no-compile",
                "-r",
                str(LAYERS / "requirements.txt"),
                "-c",
                str(constraints),
                "--excludes",
                str(LAYERS / "excludes.txt"),
            ],
            cwd=REPO_ROOT,
        )
    # Console scripts are useless in a layer and point at this machine's interpreter.
    shutil.rmtree(target / "bin", ignore_errors=True)


def _capture(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a probe (our own tools, fixed arguments) and keep its output."""
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def _uv_python_find(uv: str, python_version: str) -> str | None:
    result = _capture([uv, "python", "find", python_version])
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def find_interpreter(python_version: str) -> str | None:
    """An interpreter of exactly this version: on PATH, under pyenv, or from uv (installed if it can)."""
    uv = _uv()
    pyenv_versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [
        shutil.which(f"python{python_version}"),
        *sorted(str(path) for path in pyenv_versions.glob(f"{python_version}*/bin/python{python_version}")),
        _uv_python_find(uv, python_version),
    ]
    probe = ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    for candidate in filter(None, candidates):
        if _capture([candidate, *probe]).stdout.strip() == python_version:
            return candidate
    print(f"build_layer: no Python {python_version} here; trying `uv python install`", file=sys.stderr)
    if _capture([uv, "python", "install", python_version]).returncode == 0:
        return _uv_python_find(uv, python_version)
    return None


def compile_bytecode(target: Path, python_version: str) -> bool:
    interpreter = find_interpreter(python_version)
    if interpreter is None:
        print(
            f"build_layer: WARNING no Python {python_version} interpreter here; the layer ships without "
            "bytecode and compiles at each cold start. Install one (`uv python install "
            f"{python_version}`) and rebuild.",
            file=sys.stderr,
        )
        return False
    # unchecked-hash: valid whatever the files' mtimes become after zipping and unzipping.
    _run(
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(target),
        ]
    )
    return True


def tree_size(root: Path) -> tuple[int, int]:
    files = [path for path in root.rglob("*") if path.is_file()]
    return sum(path.stat().st_size for path in files), len(files)


def zip_layer(build: Path, archive: Path) -> int:
    """The layer as Lambda receives it: a zip with a top-level ``python/`` folder."""
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted((build / "python").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(build))
    return archive.stat().st_size


def installed_packages(target: Path) -> dict[str, str]:
    packages: dict[str, str] = {}
    for dist_info in sorted(target.glob("*.dist-info")):
        name, _, version = dist_info.name.removesuffix(".dist-info").rpartition("-")
        packages[name.lower().replace("_", "-")] = version
    return packages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python-version", default=runtime.PYTHON_VERSION)
    parser.add_argument("--platform", default=runtime.WHEEL_PLATFORM, help="uv --python-platform")
    parser.add_argument("--build-dir", type=Path, default=runtime.LAYER_BUILD_DIR)
    parser.add_argument("--no-compile", action="store_true", help="skip pre-compiling bytecode")
    args = parser.parse_args(argv)

    build: Path = args.build_dir
    target = build / "python"
    started = time.monotonic()
    shutil.rmtree(target, ignore_errors=True)
    build.mkdir(parents=True, exist_ok=True)
    install(target, python_version=args.python_version, platform=args.platform)
    source_bytes, _ = tree_size(target)
    compiled = False if args.no_compile else compile_bytecode(target, args.python_version)
    unzipped, files = tree_size(target)
    zipped = zip_layer(build, build / "layer.zip")
    sizes = {
        "python_version": args.python_version,
        "platform": args.platform,
        "bytecode_compiled": compiled,
        "files": files,
        "unzipped_bytes": unzipped,
        "unzipped_bytes_without_bytecode": source_bytes,
        "zipped_bytes": zipped,
        "unzipped_mb": round(unzipped / 1_000_000, 1),
        "zipped_mib": round(zipped / 1024 / 1024, 1),
        "lambda_unzipped_limit_used": round(unzipped / LAMBDA_UNZIPPED_LIMIT, 3),
        "build_seconds": round(time.monotonic() - started, 1),
        "packages": installed_packages(target),
        "excluded": [
            line
            for line in (LAYERS / "excludes.txt").read_text().splitlines()
            if line and not line.startswith("#")
        ],
    }
    (build / "sizes.json").write_text(json.dumps(sizes, indent=2) + "\n")
    print(json.dumps({key: value for key, value in sizes.items() if key != "packages"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
