"""Settings for deploys and incidents: secrets from files, clear errors that leak nothing."""

import pytest

from binderops.core.config import Settings, read
from binderops.core.errors import ConfigError
from binderops.deploys.settings import DeploySettings
from binderops.incidents.settings import IncidentSettings

ALL = (Settings, DeploySettings, IncidentSettings)


def read_all(env):
    """Every settings object the deploy and incident functions read from ``env``."""
    return [read(kind, env) for kind in ALL]


def test_secrets_come_from_the_environment_or_a_mounted_file(tmp_path):
    mounted = tmp_path / "token"
    mounted.write_text("ghp_from_secret_manager\n")
    env = {"BINDEROPS_GITHUB_TOKEN_FILE": str(mounted), "BINDEROPS_GITHUB_WEBHOOK_SECRET": "s3"}
    settings, deploys = read(Settings, env), read(DeploySettings, env)
    assert settings.github_token == "ghp_from_secret_manager"
    assert deploys.webhook_secret == "s3"
    assert "ghp_from_secret_manager" not in repr(settings) and "s3" not in repr(deploys)


def test_an_unreadable_secret_file_is_named_in_the_error(tmp_path):
    with pytest.raises(ConfigError, match=r"BINDEROPS_ALERT_TOKEN_FILE names .* cannot be read"):
        read_all({"BINDEROPS_ALERT_TOKEN_FILE": str(tmp_path / "missing")})


def test_deploy_defaults():
    settings, deploys = read(Settings, {}), read(DeploySettings, {})
    assert (deploys.backend, deploys.branch, deploys.ignore, deploys.label) == (
        "local",
        "main",
        ("docs/**",),
        "test-staging",
    )
    assert settings.github_api_url == "https://api.github.com"
    assert read(DeploySettings, {"BINDEROPS_DEPLOY_IGNORE": ""}).ignore == ()


@pytest.mark.parametrize(
    "env, message",
    [
        ({"BINDEROPS_DEPLOY_BACKEND": "jenkins"}, "local or cloudbuild"),
        (
            {"BINDEROPS_CLOUDBUILD_TRIGGER": "my-trigger"},
            "projects/PROJECT/locations/LOCATION/triggers/TRIGGER",
        ),
        ({"BINDEROPS_DEPLOY_REPOS": "org/repo, not a repo"}, "owner/name"),
        ({"BINDEROPS_ALERT_BASIC_AUTH": "no-colon"}, "user:password"),
        ({"BINDEROPS_DEPLOY_ROLLBACK": "maybe"}, "true or false"),
    ],
)
def test_malformed_settings_say_what_to_write(env, message):
    with pytest.raises(ConfigError, match=message):
        read_all(env)


def test_a_malformed_chat_webhook_is_named_by_position_never_by_url():
    with pytest.raises(ConfigError) as raised:
        read_all(
            {
                "BINDEROPS_CHAT_WEBHOOKS": "slack=https://hooks.slack.com/services/SECRET,teams=https://x/SECRET2"
            }
        )
    assert "entry 2" in str(raised.value) and "SECRET" not in str(raised.value)
    env = {
        "BINDEROPS_CHAT_WEBHOOKS": " zulip=https://a:b@z.example/api/v1/messages , matrix=https://m/r"
    }
    hooks = read(IncidentSettings, env).chat_webhooks
    assert hooks == (("zulip", "https://a:b@z.example/api/v1/messages"), ("matrix", "https://m/r"))
