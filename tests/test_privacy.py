"""Privacy: nothing a user did not mean to publish reaches the warehouse.

Credentials pasted into a launch URL are stripped before anything is stored; addresses are
masked wherever outside text is kept (payloads and reasons), glued to text or not, and a
cut never leaves half an address.
"""

import base64
import ipaddress
import json
import re
from datetime import UTC, datetime

import pytest
from events import V6
from hypothesis import given, settings
from hypothesis import strategies as st

from binderops.launches.events import ERROR_PAYLOAD_BYTES, error_payload, mask_addresses
from binderops.launches.ingest import Message, ingest

NOW = datetime(2026, 3, 2, tzinfo=UTC)
TOKEN = "ghp_s3cr3tT0k3n"


def stored(warehouse, event: dict, event_id: str = "e1") -> dict:
    data = base64.b64encode(json.dumps(event).encode()).decode()
    ingest(Message(data, {"event_id": event_id}, event_id), warehouse, "mybinder.org", 65536, NOW)
    rows = warehouse.query("SELECT * FROM raw.launches WHERE event_id = @id", {"id": event_id})
    rows += warehouse.query(
        "SELECT * FROM raw.launch_errors WHERE event_id = @id", {"id": event_id}
    )
    warehouse.close()
    [row] = rows
    return row


@pytest.mark.parametrize(
    "provider, spec, clean_spec, repo",
    [
        (
            "Git",
            f"https%3A%2F%2Fuser%3A{TOKEN}%40github.com%2Forg%2Fprivate.git/HEAD",
            "https%3A%2F%2Fgithub.com%2Forg%2Fprivate.git/HEAD",
            "https://github.com/org/private.git",
        ),
        (
            "GitLab",
            f"https%3A%2F%2Foauth2%3A{TOKEN}%40gitlab.com%2Fgroup%2Fproject/main",
            "https%3A%2F%2Fgitlab.com%2Fgroup%2Fproject/main",
            "https://gitlab.com/group/project",
        ),
        (
            "Zenodo",
            f"https://someone:{TOKEN}@zenodo.org/record/3242074",
            "https://zenodo.org/record/3242074",
            "https://zenodo.org/record/3242074",
        ),
    ],
)
def test_credentials_in_a_spec_never_reach_the_warehouse(
    warehouse, provider, spec, clean_spec, repo
):
    row = stored(warehouse, {**V6, "provider": provider, "spec": spec})
    assert (row["spec"], row["repo"]) == (clean_spec, repo)
    assert TOKEN not in json.dumps(row, default=str)


def test_a_spec_without_credentials_is_stored_exactly_as_sent(warehouse):
    spec = "https%3A%2F%2Fcodeberg.org%2Fada%2Fnotes.git/HEAD"
    assert stored(warehouse, {**V6, "provider": "Git", "spec": spec})["spec"] == spec


def test_a_ckan_spec_is_decoded_as_binderhub_decodes_it(warehouse):
    spec = "https%3A%2F%2Fdemo.ckan.org%2Fdataset%2Fsample-dataset-1"
    row = stored(warehouse, {**V6, "provider": "CKAN", "spec": spec})
    assert (row["spec"], row["repo"], row["ref"]) == (
        spec,
        "https://demo.ckan.org/dataset/sample-dataset-1",
        "",
    )


@pytest.mark.parametrize(
    "text, masked",
    [
        ("from 203.0.113.7:51234 at noon", "from [address] at noon"),
        ("ip=203.0.113.7abc", "ip=[address]abc"),
        ("client[2001:db8::17]:443", "client[[address]]:443"),
        ("x-forwarded-for:2001:db8::17,198.51.100.2", "x-forwarded-for:[address],[address]"),
        ("mapped ::ffff:198.51.100.2 here", "mapped [address] here"),
        ("version 1.2.3 at 12:34:56", "version 1.2.3 at 12:34:56"),
    ],
)
def test_addresses_are_masked_with_ports_brackets_and_glued_text(text, masked):
    assert mask_addresses(text) == masked


def test_the_reason_of_a_rejected_message_is_masked_too(warehouse):
    row = stored(warehouse, {**V6, "timestamp": "203.0.113.7"})
    assert "203.0.113.7" not in row["reason"] and "[address]" in row["reason"]
    assert "203.0.113.7" not in row["payload"]


def test_a_cut_leaves_no_half_address(warehouse):
    # The address straddles the point where the kept payload is cut.
    padding = "x" * (ERROR_PAYLOAD_BYTES - 6)
    payload = json.dumps({"junk": padding + "203.0.113.77 tail"}).encode()
    kept = error_payload(base64.b64encode(payload).decode())
    assert len(kept.encode()) <= ERROR_PAYLOAD_BYTES
    assert not re.search(r"203\.0|0\.113", kept), kept[-40:]


@settings(max_examples=200, deadline=None)
@given(
    address=st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)),
    before=st.text(alphabet="abcxyz=[ ,;/@", max_size=6),
    after=st.text(alphabet="xyz]:/ ,;", max_size=6),
)
def test_no_address_survives_in_a_kept_payload(address, before, after):
    text = f"{before}{address}{after}"
    payload = base64.b64encode(json.dumps({"spec": text}).encode()).decode()
    kept = error_payload(payload)
    for candidate in re.findall(r"[0-9A-Fa-f:.]{2,}", kept):
        try:
            assert ipaddress.ip_address(candidate) != address, kept
        except ValueError:
            pass
    assert str(address) not in kept


def test_an_address_cut_where_a_long_payload_is_first_sliced_does_not_survive_masking():
    """Masking shrinks text (an IPv6 address becomes nine characters), so what lay near the
    first slice of a long payload can end up inside what is kept: no half address there."""
    address = "2001:db8:1111:2222:3333:4444:5555:6666"
    filler = (address + " ") * ((2 * ERROR_PAYLOAD_BYTES) // (len(address) + 1))
    text = filler + "x" * (2 * ERROR_PAYLOAD_BYTES - len(filler) - 10) + " 198.51.100.234 tail"
    kept = error_payload(base64.b64encode(text.encode()).decode())
    assert len(kept.encode()) <= ERROR_PAYLOAD_BYTES
    assert "198.51" not in kept, kept[-60:]
