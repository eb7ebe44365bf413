"""How binderops is built and installed: the package's shape, its lock, its wheel."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
import venv
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "functions" / "binderops"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = ROOT / "functions" / "requirements.txt"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports() -> dict[str, set[str]]:
    """Each module of binderops and the binderops modules it imports (at any depth in it)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                # `from . import schemas` imports the module schemas; `from .x import y`, x.
                names = [f"{origin}.{alias.name}" for alias in node.names]
                candidates = [n for n in names if n in modules] or [origin]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            for candidate in candidates:
                while candidate and candidate not in modules:
                    candidate = candidate.rpartition(".")[0]
                if candidate and candidate not in (name, "binderops"):
                    targets.add(candidate)
        graph[name] = targets
    return graph


def test_nothing_outside_local_imports_the_local_tooling():
    graph = package_imports()
    wrong = {m: sorted(t for t in ts if t.startswith("binderops.local")) for m, ts in graph.items()}
    assert {m: ts for m, ts in wrong.items() if ts and not m.startswith("binderops.local")} == {}
    main = ast.parse((ROOT / "functions" / "main.py").read_text())
    imported = {n.module for n in ast.walk(main) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(name.startswith("binderops.local") for name in imported)


def lint_imports(*args: str, cwd: Path = ROOT / "functions") -> subprocess.CompletedProcess:
    """import-linter over the package as ``cwd`` holds it, with pyproject's contracts."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_imports_run_one_way_as_the_import_linter_contracts_say():
    """local → instance → dashboard → capabilities (independent of one another) → warehouse
    → clients → core, checked by import-linter over pyproject's [tool.importlinter]."""
    result = lint_imports("--config", str(ROOT / "pyproject.toml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("launches/ingest.py", "from ..deploys import builds", "launches is not allowed"),
        ("core/config.py", "from ..warehouse import schemas", "core is not allowed"),
        ("clients/http.py", "from ..launches import events", "clients is not allowed"),
    ],
)
def test_an_import_against_the_layers_is_caught(tmp_path, module, line, broken):
    import shutil

    shutil.copytree(PACKAGE, tmp_path / "binderops", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "binderops" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports("--config", str(ROOT / "pyproject.toml"), "--no-cache", cwd=tmp_path)
    assert result.returncode == 1 and broken in result.stdout, result.stdout


def run_python(code: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "functions"), **(env or {})},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


HEAVY = ("duckdb", "pyarrow", "sqlglot", "tqdm", "binderops.local")


def test_the_deployed_functions_load_none_of_the_local_stacks_parts(tmp_path):
    code = f"""
import sys
sys.path.insert(0, {str(ROOT / "functions")!r})
import main
from binderops import instance
instance.warehouse()
print(sorted({{m.split(".")[0] if not m.startswith("binderops") else m for m in sys.modules}}))
"""
    loaded = run_python(code, {"BINDEROPS_WAREHOUSE": "bigquery://p/d"})
    assert [h for h in HEAVY if f"'{h}" in loaded] == []


def test_the_binderhub_handler_needs_only_google_cloud_pubsub():
    code = """
import sys
from binderops.launches.binderhub import PubSubHandler
print(sorted(sys.modules))
"""
    loaded = set(ast.literal_eval(run_python(code).strip()))
    ours = {m for m in loaded if m.startswith("binderops")}
    assert ours == {"binderops", "binderops.launches", "binderops.launches.binderhub"}
    others = {"requests", "functions_framework", "flask", "cloudevents", "orjson", "fastjsonschema"}
    assert loaded & ({*others, *HEAVY} | {"google.cloud.bigquery", "google.cloud.storage"}) == set()
    [requirement] = map(Requirement, PYPROJECT["project"]["dependencies"])
    assert requirement.name == "google-cloud-pubsub"
    # A range, so the package installs beside BinderHub's own pins; the lock is inside it.
    assert not str(requirement.specifier).startswith("==")
    assert requirement.specifier.contains(locked()["google-cloud-pubsub"])


def locked() -> dict[str, str]:
    text = LOCK.read_text()
    return {m[0].lower(): m[1] for m in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.M)}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_pins_pyprojects_function_dependencies_with_hashes():
    """functions/requirements.txt is what Cloud Functions installs: `make lock` writes it."""
    pins = locked()
    direct = (
        PYPROJECT["project"]["dependencies"]
        + PYPROJECT["project"]["optional-dependencies"]["functions"]
    )
    for requirement in map(Requirement, direct):
        pinned = pins.get(normal(requirement.name))
        assert pinned and requirement.specifier.contains(pinned), f"{requirement}: run `make lock`"
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 2)[2].strip())
    assert all("--hash=sha256:" in entry for entry in entries), (
        "every locked package carries its hashes"
    )


def test_the_lock_holds_every_transitive_dependency():
    """Each locked package's own requirements (as installed here) are locked too."""
    pins = locked()
    environment = {**default_environment(), "python_version": "3.11", "sys_platform": "linux"}
    missing = set()
    for name in pins:
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here; its own pins were checked when it was locked
        for requirement in map(Requirement, requires):
            if requirement.marker and not requirement.marker.evaluate({**environment, "extra": ""}):
                continue
            if normal(requirement.name) not in pins:
                missing.add(f"{name} needs {requirement.name}")
    assert missing == set(), "run `make lock`"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built by the standard front end."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(dist.glob("binderops-*.whl"))


def installed(wheel: Path, where: Path, borrow: bool) -> tuple[Path, str, Callable]:
    """``wheel`` installed non-editable into a fresh environment at ``where``: its python,
    its site-packages, and a way to run the ``binderops`` command there. With ``borrow``
    it borrows this environment's dependencies (no download is needed); without, it has
    the package alone."""
    env_dir = where / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if borrow:  # this environment's packages, but not its editable binderops
        borrowed = [p for p in sys.path if p.endswith("site-packages")]
        Path(site, "borrowed.pth").write_text("\n".join(borrowed) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            site,
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    work = where / "elsewhere"
    work.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BINDEROPS_", "PYTHON"))}

    def binderops(*args: str) -> subprocess.CompletedProcess:
        code = "import sys; from binderops.local.cli import main; sys.exit(main())"
        return subprocess.run(
            [python, "-c", code, *args],
            cwd=work,
            env=clean,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return python, site, binderops


@pytest.mark.parametrize(
    "command",
    [("setup",), ("backfill", "README.md"), ("run", "--once"), ("send", "github-push")],
)
def test_without_the_local_extra_a_command_says_how_to_get_it_in_one_line(wheel, tmp_path, command):
    *_, binderops = installed(wheel, tmp_path, borrow=False)
    if command[0] == "backfill":
        (tmp_path / "elsewhere" / "README.md").write_text("not an archive\n")
    result = binderops(*command)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"binderops {command[0]}: needs ")
    assert line.endswith("pip install 'binderops[local]'")


def test_a_wheel_installed_elsewhere_finds_its_schemas_and_runs(wheel, tmp_path):
    """Installed non-editable into a fresh environment that borrows this one's dependencies."""
    python, site, binderops = installed(wheel, tmp_path, borrow=True)
    work = tmp_path / "elsewhere"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BINDEROPS_", "PYTHON"))}

    where = binderops("--version")
    assert where.returncode == 0 and where.stdout.strip() == f"binderops {version()}"
    located = subprocess.run(
        [python, "-c", "import binderops.warehouse.schemas as s; print(s.schemas_dir())"],
        cwd=work,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert located.stdout.strip().startswith(site), located.stderr
    setup = binderops("setup")
    assert setup.returncode == 0, setup.stderr
    query = binderops("query", "SELECT COUNT(*) AS n FROM launches_daily", "--format", "json")
    assert query.returncode == 0 and query.stdout.strip() == '[{"n": 0}]', query.stderr
    for template in (
        "core/badge.svg",
        "launches/templates/archive-index.html",
        "incidents/templates/incident-report.md",
        "federation/templates/status.html",
        "federation/templates/incidents.atom",
    ):
        assert Path(site, "binderops", template).exists(), template
    main_py = Path(site, "binderops", "_functions", "main.py")
    assert main_py.read_text() == (ROOT / "functions" / "main.py").read_text()


def version() -> str:
    namespace: dict = {}
    exec((PACKAGE / "__init__.py").read_text(), namespace)
    return namespace["__version__"]


@pytest.mark.parametrize("name", ["LICENSE"])
def test_the_license_file_matches_pyproject(name):
    text = (ROOT / name).read_text()
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause" and text.startswith(
        "BSD 3-Clause License"
    )


def test_the_deployed_source_leaves_the_local_tooling_out():
    """Terraform's archive of functions/ (its fileset filter, applied here as Terraform does)."""
    main_tf = (ROOT / "terraform" / "main.tf").read_text()
    pattern = re.search(
        r'fileset\(local\.source_dir, "\*\*"\).*?regex\("(.+?)", f\)', main_tf
    ).group(1)
    pattern = pattern.encode().decode(
        "unicode_escape"
    )  # HCL string escapes, as Terraform reads them
    files = [
        p.relative_to(ROOT / "functions").as_posix()
        for p in (ROOT / "functions").rglob("*")
        if p.is_file()
    ]
    shipped = {f for f in files if not re.search(pattern, f)}
    assert not any(f.startswith("binderops/local/") for f in shipped)
    assert {"main.py", "requirements.txt", "binderops/launches/ingest.py"} <= shipped
    assert "binderops/incidents/templates/incident-report.md" in shipped


def test_one_template_engine_fills_every_template():
    """Jinja2 everywhere: no string.Template, no hand-rolled placeholders, no ${…} in SQL."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "string import Template" not in text and '.replace("{{' not in text, path
    for path in (ROOT / "schemas" / "sql").rglob("*.sql"):
        assert "${" not in path.read_text(), path


def test_templates_escape_what_they_are_given_where_the_output_is_html_or_svg():
    from xml.etree import ElementTree

    from binderops.core.badge import RED, svg

    drawn = svg("launches", "<b>1</b>", RED, '"><script>alert(1)</script>')
    assert b"<script" not in drawn and b"<b>" not in drawn
    [title] = ElementTree.fromstring(drawn).iter("{http://www.w3.org/2000/svg}title")
    assert title.text == '"><script>alert(1)</script>'
