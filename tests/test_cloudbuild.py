"""cloudbuild.yaml fetches nothing unchecked, plans on pull requests and applies on main."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = (ROOT / "cloudbuild.yaml").read_text()


def substitution(name: str) -> str:
    return re.search(rf"^  {name}: (\S+)$", BUILD, re.M)[1]


def test_every_builder_image_is_pinned_by_digest():
    images = re.findall(r"^\s+name: (\S+)$", BUILD, re.M)
    assert images and all(
        re.fullmatch(r"[\w./-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}", i) for i in images
    )


def test_terraform_is_checked_against_its_published_sha256_before_use():
    assert re.fullmatch(r"[0-9a-f]{64}", substitution("_TERRAFORM_SHA256"))
    install = BUILD.split("- id: terraform", 1)[1].split("- id:", 1)[0]
    check = install.index('echo "${_TERRAFORM_SHA256}  /tmp/terraform.zip" | sha256sum --check')
    assert check < install.index("zipfile.ZipFile")
    version = substitution("_TERRAFORM_VERSION")
    required = re.search(
        r'required_version = ">= ([\d.]+)"', (ROOT / "terraform/versions.tf").read_text()
    )
    assert tuple(map(int, version.split("."))) >= tuple(map(int, required[1].split(".")))


def test_nested_substitutions_are_dynamic():
    nested = [line for line in BUILD.splitlines() if re.match(r"^  _\w+: .*\$\{_\w+\}", line)]
    assert nested and re.search(r"^  dynamicSubstitutions: true$", BUILD, re.M)


def test_pull_requests_plan_and_main_applies_that_plan():
    steps = re.findall(r"^  - id: (\S+)$", BUILD, re.M)
    assert steps == ["terraform", "test", "plan", "apply"]
    plan = BUILD.split("- id: plan", 1)[1].split("- id: apply", 1)[0]
    assert (
        "terraform validate" in plan
        and "terraform plan -input=false -out=/workspace/tfplan" in plan
    )
    apply = BUILD.split("- id: apply", 1)[1]
    guard = apply.index('if [ -n "${_PR_NUMBER}" ] || [ "${BRANCH_NAME}" != "main" ]')
    assert guard < apply.index("terraform apply -input=false /workspace/tfplan")
    assert "-auto-approve" not in BUILD
