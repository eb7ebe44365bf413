"""Settings read from ``BINDEROPS_*`` environment variables: one small frozen dataclass per
capability, beside the shared ``Settings`` here.

Each field names its variable and its default once, with ``setting``; ``read`` parses any
of these classes from an environment. With no variable set everything runs on this machine:
an embedded DuckDB warehouse under ``./.binderops`` and the Pub/Sub emulator.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ConfigError

DEFAULT_STATE_DIR = Path(".binderops")
REPO_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def setting(
    env: str,
    default: Any = "",
    *,
    secret: bool = False,
    parse: Callable[[str, str], Any] | None = None,
    fallback: str = "",
) -> Any:
    """A settings field read from the variable ``env`` (or ``fallback`` when that is unset).

    A secret is also read from the file ``ENV_FILE`` names (a Secret Manager volume mount)
    and is kept out of ``repr``, so it never reaches a log. ``parse(name, raw)`` turns the
    raw text into the value; by default the default's type decides.
    """
    metadata = {"env": env, "secret": secret, "parse": parse, "fallback": fallback}
    return dataclasses.field(default=default, repr=not secret, metadata=metadata)


def whole_number(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def listing(name: str, raw: str) -> tuple[str, ...]:
    """A comma-separated list; set but empty means an empty list."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def url(name: str, raw: str) -> str:
    return raw.strip().rstrip("/")


def path(name: str, raw: str) -> Path:
    return Path(raw)


def _parser(field: dataclasses.Field) -> Callable[[str, str], Any]:
    if field.metadata["parse"]:
        return field.metadata["parse"]
    default = field.default
    if isinstance(default, bool):
        return flag
    if isinstance(default, int):
        return whole_number
    if isinstance(default, tuple):
        return listing
    if isinstance(default, Path):
        return path
    return lambda name, raw: raw.strip()


def _secret_file(name: str, env: Mapping[str, str]) -> str:
    file_name = env.get(f"{name}_FILE")
    if not file_name:
        return ""
    try:
        return Path(file_name).read_text().strip()
    except OSError as e:
        raise ConfigError(
            f"{name}_FILE names {file_name!r}, which cannot be read: {e.strerror}"
        ) from None


def read(cls: type[T], env: Mapping[str, str] | None = None) -> T:
    """An instance of the settings class ``cls`` from ``env`` (default ``os.environ``).

    An unset or empty variable takes the field's default, except a list, where set but
    empty means "none". The class's ``check`` method, if any, validates the whole.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        name = field.metadata["env"]
        raw = env.get(name)
        if not raw and field.metadata["fallback"]:
            raw = env.get(field.metadata["fallback"])
        if not raw and field.metadata["secret"]:
            raw = _secret_file(name, env)
        # A list set but empty is kept: it means "none", where its default may list some.
        if raw is not None and (raw or isinstance(field.default, tuple)):
            values[field.name] = _parser(field)(name, raw)
    settings = cls(**values)
    check = getattr(settings, "check", None)
    if check is not None:
        check()
    return settings


def variables(cls: type) -> dict[str, dataclasses.Field]:
    """The environment variables ``cls`` reads, each with its field (for docs and checks)."""
    return {f.metadata["env"]: f for f in dataclasses.fields(cls)}


def check_repo(name: str, repo: str) -> None:
    if repo and not REPO_NAME.fullmatch(repo):
        raise ConfigError(f"{name} takes owner/name repositories, got {repo!r}")


@dataclass(frozen=True)
class Settings:
    """What every capability shares: where state lives, the warehouse, the public files,
    the project, and GitHub."""

    state_dir: Path = setting("BINDEROPS_STATE_DIR", DEFAULT_STATE_DIR)
    # duckdb://PATH or bigquery://PROJECT/DATASET; empty: STATE_DIR/warehouse.duckdb
    warehouse: str = setting("BINDEROPS_WAREHOUSE")
    project: str = setting("BINDEROPS_PROJECT", "binderops-local", fallback="GOOGLE_CLOUD_PROJECT")
    bigquery_api_url: str = setting("BINDEROPS_BIGQUERY_API_URL", parse=url)
    # Public files: a bucket in production; else a folder (empty: STATE_DIR/public).
    public_bucket: str = setting("BINDEROPS_PUBLIC_BUCKET")
    # None only until __post_init__ derives it from state_dir: every reader sees a Path.
    public_dir: Path = setting("BINDEROPS_PUBLIC_DIR", None, parse=path)
    storage_api_url: str = setting("BINDEROPS_STORAGE_API_URL", parse=url)
    # GitHub, for deploys and incidents.
    github_token: str = setting("BINDEROPS_GITHUB_TOKEN", secret=True)
    github_api_url: str = setting("BINDEROPS_GITHUB_API_URL", "https://api.github.com", parse=url)
    incident_repo: str = setting("BINDEROPS_INCIDENT_REPO")
    # The federation register (core/members.py); unset: no member is registered.
    members: Path | None = setting("BINDEROPS_MEMBERS", None, parse=path)

    def __post_init__(self) -> None:
        # Defaults that follow the state folder are derived here, once.
        if not self.warehouse:
            object.__setattr__(self, "warehouse", f"duckdb://{self.state_dir / 'warehouse.duckdb'}")
        if self.public_dir is None:
            object.__setattr__(self, "public_dir", self.state_dir / "public")

    def check(self) -> None:
        if not self.warehouse.startswith(("duckdb://", "bigquery://")):
            raise ConfigError(
                "BINDEROPS_WAREHOUSE must be duckdb://PATH or bigquery://PROJECT/DATASET, "
                f"got {self.warehouse!r}"
            )
        check_repo("BINDEROPS_INCIDENT_REPO", self.incident_repo)
