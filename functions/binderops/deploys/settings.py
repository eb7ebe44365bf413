"""What push-to-deploy reads from its environment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.config import check_repo, setting, url
from ..core.errors import ConfigError

TRIGGER_NAME = re.compile(r"projects/[^/]+/locations/[^/]+/triggers/[^/]+")
BACKENDS = ("local", "cloudbuild")
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class DeploySettings:
    webhook_secret: str = setting("BINDEROPS_GITHUB_WEBHOOK_SECRET", secret=True)
    repos: tuple[str, ...] = setting("BINDEROPS_DEPLOY_REPOS", ())
    branch: str = setting("BINDEROPS_DEPLOY_BRANCH", "main")
    # Set but empty means "ignore nothing"; unset means the default.
    ignore: tuple[str, ...] = setting("BINDEROPS_DEPLOY_IGNORE", ("docs/**",))
    label: str = setting("BINDEROPS_DEPLOY_LABEL", "test-staging")
    override_label: str = setting("BINDEROPS_DEPLOY_OVERRIDE_LABEL", "deploy-during-incident")
    rollback: bool = setting("BINDEROPS_DEPLOY_ROLLBACK", False)
    backend: str = setting("BINDEROPS_DEPLOY_BACKEND", "local")
    # The local back end: the command a build runs, how long it may, where it reports.
    command: str = setting("BINDEROPS_DEPLOY_COMMAND")
    timeout: int = setting("BINDEROPS_DEPLOY_TIMEOUT", 1800)
    status_url: str = setting("BINDEROPS_DEPLOY_STATUS_URL", parse=url)
    # Variables the local deploy command gets beyond the allow-list (a KUBECONFIG, say).
    pass_env: tuple[str, ...] = setting("BINDEROPS_DEPLOY_PASS_ENV", ())
    cloudbuild_trigger: str = setting("BINDEROPS_CLOUDBUILD_TRIGGER")
    # Trials of pull requests from forks run on this trigger, whose service account holds no
    # production credentials. Unset: such trials are refused.
    trial_trigger: str = setting("BINDEROPS_CLOUDBUILD_TRIAL_TRIGGER")
    # A /test-this-pr comment older than this many seconds is not acted on: a redelivered
    # old comment must not deploy what was pushed since.
    request_max_age: int = setting("BINDEROPS_DEPLOY_REQUEST_MAX_AGE", 600)
    cloudbuild_api_url: str = setting(
        "BINDEROPS_CLOUDBUILD_API_URL", "https://cloudbuild.googleapis.com", parse=url
    )
    builds_topic: str = setting("BINDEROPS_BUILDS_TOPIC", "cloud-builds")

    def check(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"BINDEROPS_DEPLOY_BACKEND must be local or cloudbuild, got {self.backend!r}"
            )
        for name, trigger in (
            ("BINDEROPS_CLOUDBUILD_TRIGGER", self.cloudbuild_trigger),
            ("BINDEROPS_CLOUDBUILD_TRIAL_TRIGGER", self.trial_trigger),
        ):
            if trigger and not TRIGGER_NAME.fullmatch(trigger):
                raise ConfigError(
                    f"{name} must look like projects/PROJECT/locations/LOCATION/triggers/TRIGGER, "
                    f"got {trigger!r}"
                )
        if self.trial_trigger and self.trial_trigger == self.cloudbuild_trigger:
            raise ConfigError(
                "BINDEROPS_CLOUDBUILD_TRIAL_TRIGGER must differ from BINDEROPS_CLOUDBUILD_TRIGGER: "
                "its service account must hold no production credentials"
            )
        for repo in self.repos:
            check_repo("BINDEROPS_DEPLOY_REPOS", repo)
        for name in self.pass_env:
            if not VARIABLE.fullmatch(name) or name.upper().startswith("BINDEROPS_"):
                raise ConfigError(
                    f"BINDEROPS_DEPLOY_PASS_ENV names {name[:80]!r}: it takes names of variables "
                    "the deploy command needs, never one of binderops' own settings"
                )
        if self.timeout <= 0:
            raise ConfigError("BINDEROPS_DEPLOY_TIMEOUT must be positive")
