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
from pathlib import Path

import pytest
from events import V6
from hypothesis import given, settings
from hypothesis import strategies as st

from binderops.launches.events import ERROR_PAYLOAD_BYTES, error_payload, mask_addresses
from binderops.launches.ingest import Message, ingest
from binderops.warehouse import schemas

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


# Nothing private in any public place: credentials and addresses in every form, for every
# provider, through ingest, then everything that is published.
PROVIDERS = schemas.launch_event_schemas()[6]["properties"]["provider"]["enum"]
SECRETS = st.from_regex(r"s3cr3t[A-Za-z0-9]{10}", fullmatch=True)
PLACES = ["user", "password", "query", "fragment", "parameter", "bare"]


def once(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@st.composite
def private_spec(draw) -> tuple[str, str, str]:
    """(provider, spec, secret): a spec as a user might paste one with a credential in it,
    raw or percent-encoded once or twice, where the provider's spec holds a URL or not."""
    provider, secret = draw(st.sampled_from(PROVIDERS)), draw(SECRETS)
    place = draw(st.sampled_from(PLACES))
    separator = draw(st.sampled_from(["", " ", "/", "\\"])) if place == "password" else ""
    name = draw(st.sampled_from(["token", "private_token", "access_token", "sig"]))
    host = "https://gitlab.example.org/group/project.git"
    url = {
        "user": f"https://{secret}@gitlab.example.org/group/project.git",
        "password": f"https://oauth2:pa{separator}{secret}@gitlab.example.org/group/project.git",
        "query": f"{host}?{name}={secret}",
        "fragment": f"{host}#{secret}",
        "parameter": f"https://gitlab.example.org/group;{name}={secret}/project.git",
        "bare": f"oauth2:{secret}@gitlab.example.org/group/project.git",
    }[place]
    encodings = draw(st.integers(min_value=0, max_value=2))
    encoded = url
    for _ in range(encodings):
        encoded = once(encoded)
    ref = draw(st.sampled_from(["main", "HEAD", f"main?{name}={secret}", f"v1;{name}={secret}"]))
    if provider in ("Git", "GitLab"):
        spec = f"{encoded if encodings else once(url)}/{ref}"
    elif provider == "CKAN":
        spec = encoded if encodings else once(url)
    elif provider in ("GitHub", "Gist"):
        spec = draw(
            st.sampled_from(
                [f"binder-examples/requirements/{ref}", f"{secret}@binder-examples/r/main", encoded]
            )
        )
    else:
        spec = encoded
    return provider, spec, secret


@st.composite
def private_origin(draw) -> tuple[str, list[str]]:
    """(request_origin, what must not be published of it): addresses, ports, tokens."""
    address = draw(
        st.sampled_from(["203.0.113.7", "10.1.2.3", "[2001:db8::17]", "192.0.2.44.nip.io"])
    )
    port = str(draw(st.integers(min_value=1024, max_value=65535)))
    token = draw(SECRETS)
    value = draw(
        st.sampled_from(
            [
                f"http://{address}:{port}",
                f"https://{address}",
                f"https://jupyterbook.org:{port}/path?token={token}",
                f"https://{token}@jupyterbook.org",
                f"https://user:{token}@jupyterbook.org:{port}",
                f"{address}:{port}",
                token,
            ]
        )
    )
    return value, [address.strip("[]"), f":{port}", token]


def launch(provider: str, spec: str, request_origin: str) -> dict:
    return {**V6, "provider": provider, "spec": spec, "request_origin": request_origin}


@settings(max_examples=400, deadline=None)
@given(case=private_spec(), origin=private_origin())
def test_no_credential_or_address_survives_into_a_launch_row(case, origin):
    from binderops.launches.events import to_row

    provider, spec, secret = case
    value, private = origin
    row = to_row(launch(provider, spec, value), "e1", NOW, "mybinder.org")
    published = json.dumps(row._asdict(), default=str)
    assert secret not in published, (spec, row.spec, row.repo, row.ref)
    assert not [p for p in private if p in (row.request_origin or "")], (value, row)


@settings(max_examples=4, deadline=None)
@given(
    cases=st.lists(st.tuples(private_spec(), private_origin()), min_size=40, max_size=40),
)
def test_nothing_private_reaches_any_public_output(tmp_path_factory, cases):
    """Ingested through the real path, then published: the public views, the day files, the
    monthly Parquet, the index, the dashboard and its live panel, and the aggregate the
    badges count from."""
    import pyarrow.parquet as pq

    from binderops import dashboard
    from binderops.core.config import Settings, read
    from binderops.launches import archive
    from binderops.warehouse import open_warehouse

    tmp = tmp_path_factory.mktemp("public")
    warehouse = open_warehouse(f"duckdb://{tmp / 'w.duckdb'}")
    secrets, privates = [], []
    for n, ((provider, spec, secret), (value, private)) in enumerate(cases):
        event = launch(provider, spec, value)
        event["timestamp"] = f"2026-03-01T12:{n:02d}:00Z"
        data = base64.b64encode(json.dumps(event).encode()).decode()
        ingest(Message(data, {}, f"m{n}"), warehouse, "mybinder.org", 65536, NOW)
        secrets.append(secret)
        privates += private
    settings = read(Settings, {"BINDEROPS_STATE_DIR": str(tmp / "state")})
    today = datetime(2026, 3, 3, tzinfo=UTC).date()
    archive.publish(warehouse, settings, {}, today)
    dashboard.publish(warehouse, settings, today)
    dashboard.write_live(warehouse, settings, datetime(2026, 3, 1, 12, 30, tzinfo=UTC))
    texts = [
        json.dumps(warehouse.query(f"SELECT * FROM {view}"), default=str)
        for view in ("launches", "launches_daily", "repo_launches_daily")
    ]
    warehouse.close()
    public = Path(settings.public_dir)
    files = [p for p in public.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".jsonl" for p in files)
    for path in files:
        if path.suffix == ".parquet":
            texts.append(json.dumps(pq.read_table(path).to_pylist(), default=str))
        else:
            texts.append(path.read_text(errors="replace"))
    everything = "\n".join(texts)
    assert [s for s in secrets if s in everything] == []
    assert [p for p in set(privates) if p in everything and not p.startswith(":")] == []


def test_the_public_view_cuts_ingested_at_to_the_minute_like_the_timestamp(warehouse):
    """To the microsecond, the time a launch was stored would undo the timestamp's cut."""
    data = base64.b64encode(json.dumps(V6).encode()).decode()
    moment = datetime(2026, 3, 2, 8, 15, 42, 123456, tzinfo=UTC)
    ingest(Message(data, {}, "m1"), warehouse, "mybinder.org", 65536, moment)
    [raw] = warehouse.query("SELECT ingested_at FROM raw.launches")
    [public] = warehouse.query("SELECT timestamp, ingested_at FROM launches")
    [dataset] = warehouse.query(
        "SELECT updated FROM ("
        + schemas.sql_in("dashboard/datasets", warehouse.names)
        + ") WHERE dataset = 'launches'"
    )
    assert raw["ingested_at"] == moment
    assert public["ingested_at"] == moment.replace(second=0, microsecond=0)
    assert dataset["updated"] == public["timestamp"]  # the newest launch, already cut
