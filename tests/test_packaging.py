"""The distribution: the sdist builds a wheel that holds every module, and that wheel works.

Builds the sdist and, from it, the wheel (``python -m build --no-isolation``: the backend
comes from the dev install, so no network is needed), checks what each holds against the
files git tracks, installs the wheel with ``--no-deps`` into a fresh venv that sees the dev
venv's dependencies (not its editable install of this project), imports both packages from
there and runs the basic example.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dynamodb_wrapper_async", "dynamodb_wrapper_sync")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def tracked(*paths: str) -> set[str]:
    """The files git tracks under ``paths``."""
    listed = subprocess.run(
        ["git", "ls-files", *paths], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(listed.stdout.split())


def run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT, cwd=out)
    return out


def test_the_sdist_and_the_wheel_hold_every_package_file(dist: Path) -> None:
    (sdist,) = dist.glob("dynamodb_wrapper-*.tar.gz")
    (wheel,) = dist.glob("dynamodb_wrapper-*.whl")
    package_files = tracked(*PACKAGES)
    assert {f"{p}/py.typed" for p in PACKAGES} <= package_files
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {name for name in archive.namelist() if not name.startswith("dynamodb_wrapper-")}
    assert in_wheel == package_files
    with tarfile.open(sdist) as archive:
        root = archive.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(f"{root}/") for name in archive.getnames()}
    assert package_files | tracked("tests", "examples") <= in_sdist
    assert {"pyproject.toml", "README.md", "LICENSE", "ARCHITECTURE.md", "CHANGELOG.md"} <= in_sdist


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_basic_example(
    dist: Path, tmp_path: Path
) -> None:
    (wheel,) = dist.glob("dynamodb_wrapper-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
        "--no-index", wheel, cwd=tmp_path)  # fmt: skip
    # Dependencies come from the dev venv; its editable install of this project does not
    # (.pth files of a directory added this way are not run).
    fresh_site = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=tmp_path).strip()  # fmt: skip
    (Path(fresh_site) / "dev_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    where = run(python, "-c", "import dynamodb_wrapper_async as a, dynamodb_wrapper_sync as s; "
                "print(a.__file__); print(s.__file__)", cwd=tmp_path)  # fmt: skip
    for line in where.split():
        assert Path(line).is_relative_to(fresh_site), line

    out = run(python, ROOT / "examples" / "basic_usage.py", cwd=tmp_path)
    assert "Embedded local DynamoDB" in out
    assert "Traceback" not in out
