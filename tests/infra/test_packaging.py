"""Packaging without Docker: function bundles (handler + shared) and the dependency layer's inputs."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra import runtime
from infra.packaging import BundlingError, FunctionBundler, LayerBundler
from shared.resources import FUNCTIONS

pytestmark = pytest.mark.infra


def write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root / "functions" / "__init__.py")
    write(root / "functions" / "thing" / "__init__.py")
    write(root / "functions" / "thing" / "handler.py", "def handler(event, context): ...\n")
    write(root / "functions" / "thing" / "routes.py")
    write(root / "shared" / "__init__.py")
    write(root / "shared" / "domain" / "model.py")
    write(root / "shared" / "domain" / "__pycache__" / "model.cpython-311.pyc")
    write(root / "shared" / "local" / "cloud.py")
    write(root / "shared" / "adapters" / "local.py")  # only the top-level shared/local is laptop-only
    return root


def test_function_bundle_is_the_entry_point_and_shared_without_laptop_code(
    repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert FunctionBundler("thing", repo_root=repo).try_bundle(str(out)) is True
    assert files_under(out) == {
        "handler.py",
        "routes.py",
        "shared/__init__.py",
        "shared/domain/model.py",
        "shared/adapters/local.py",
    }


def test_a_missing_handler_fails_synth_with_a_clear_message(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(BundlingError, match=r"functions/dispatcher/handler.py does not exist"):
        FunctionBundler("dispatcher", repo_root=repo).try_bundle(str(tmp_path))


def test_layer_bundle_copies_the_built_layer_with_its_bytecode(repo: Path, tmp_path: Path) -> None:
    write(repo / "layers" / "build" / "python" / "pkg" / "__init__.py")
    write(repo / "layers" / "build" / "python" / "pkg" / "__pycache__" / "__init__.cpython-312.pyc")
    out = tmp_path / "out"
    out.mkdir()
    assert LayerBundler(repo_root=repo).try_bundle(str(out)) is True
    assert files_under(out) == {"python/pkg/__init__.py", "python/pkg/__pycache__/__init__.cpython-312.pyc"}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.id)
def test_each_real_function_bundle_imports_on_its_own(spec: object, tmp_path: Path) -> None:
    function_id = spec.id  # type: ignore[attr-defined]
    FunctionBundler(function_id).try_bundle(str(tmp_path))
    assert not (tmp_path / "shared" / "local").exists()
    # Import the bundle as Lambda would: the bundle first, the repository itself not importable.
    code = (
        "import sys; root = sys.argv[1];"
        'sys.path[:] = [sys.argv[2]] + [p for p in sys.path if p and p.rstrip("/") != root];'
        "import handler, shared; assert shared.__file__.startswith(sys.argv[2]), shared.__file__;"
        "assert callable(handler.handler)"
    )
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Roomcraft",
    }
    result = subprocess.run(
        [sys.executable, "-c", code, str(runtime.REPO_ROOT), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_layer_requirements_match_the_project_dependencies() -> None:
    project = tomllib.loads((runtime.REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {Requirement(line).name: Requirement(line) for line in project}
    lines = (runtime.LAYER_DIR / "requirements.txt").read_text().splitlines()
    layer = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    assert layer, "layers/requirements.txt is empty"
    for requirement in layer:
        assert requirement.name in declared, f"{requirement.name} is in the layer but not in pyproject.toml"
        assert requirement.specifier == declared[requirement.name].specifier, requirement.name
        assert requirement.extras == declared[requirement.name].extras, requirement.name
    laptop_only = {"moto", "uvicorn", "boto3"}
    assert not laptop_only & {r.name for r in layer}
    runtime_deps = set(declared) - laptop_only
    assert {r.name for r in layer} == runtime_deps


def test_the_runtime_provided_sdk_is_excluded_from_the_layer() -> None:
    excludes = (runtime.LAYER_DIR / "excludes.txt").read_text().split()
    assert {"boto3", "botocore", "s3transfer"} <= set(excludes)
