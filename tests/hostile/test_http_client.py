"""The one HTTP client for credentials (pipegen.http_client), against two loopback hosts: the
configured one (127.0.0.1) and another (127.0.0.2). Redirects and links to the other host never
carry a credential header (Authorization, basic auth or a custom one like GitLab's PRIVATE-TOKEN),
and a request with a body is never replayed there."""
from __future__ import annotations

import pytest
from urllib3.response import HTTPResponse

from hostile.conftest import Answer, RecordingHost
from pipegen import http_client

TOKEN = "http-client-t0ken-5a4b3c2d1e"


def session(home: RecordingHost, **kwargs):
    return http_client.session(home.url, retries=0, **kwargs)


def redirecting(to: RecordingHost, status: int):
    return lambda method, path: Answer(status, {}, {"Location": f"{to.url}/elsewhere"})


@pytest.mark.parametrize("credentials", [{"credentials": {"PRIVATE-TOKEN": TOKEN}},
                                         {"credentials": {"Authorization": f"Bearer {TOKEN}"}},
                                         {"basic_auth": (TOKEN, "")}])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_get_redirected_to_another_host_loses_every_credential(hosts, credentials, status):
    home, other = hosts
    home.route = redirecting(other, status)
    other.route = lambda method, path: Answer(200, {"ok": True})
    response = session(home, **credentials).get(f"{home.url}/api")
    assert response.status_code == 200
    assert home.carried(TOKEN) and other.seen and not other.carried(TOKEN)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("status", [307, 308])
def test_a_request_with_a_body_is_never_replayed_on_another_host(hosts, method, status):
    home, other = hosts
    home.route = redirecting(other, status)
    with pytest.raises(http_client.CrossHostRedirect, match="not followed"):
        session(home, credentials={"PRIVATE-TOKEN": TOKEN}).request(method, f"{home.url}/api", json={"body": 1})
    assert other.seen == []


def test_a_post_turned_into_a_get_by_a_302_goes_without_body_or_credential(hosts):
    home, other = hosts
    home.route = redirecting(other, 302)
    other.route = lambda method, path: Answer(200, {})
    session(home, credentials={"PRIVATE-TOKEN": TOKEN}).post(f"{home.url}/api", json={"secret": TOKEN})
    assert [(seen.method, seen.body) for seen in other.seen] == [("GET", b"")] and not other.carried(TOKEN)


def test_the_same_host_keeps_its_credential_through_a_redirect(hosts):
    home, _ = hosts
    home.route = lambda method, path: (Answer(307, {}, {"Location": "/moved"}) if path == "/api"
                                       else Answer(201, {"id": 1}))
    assert session(home, credentials={"PRIVATE-TOKEN": TOKEN}).post(f"{home.url}/api", json={}).status_code == 201
    assert [seen.headers.get("PRIVATE-TOKEN") for seen in home.seen] == [TOKEN, TOKEN]


def test_a_link_to_another_host_is_requested_without_the_credential(hosts):
    home, other = hosts
    other.route = lambda method, path: Answer(200, [])
    http = session(home, credentials={"Authorization": f"Bearer {TOKEN}"}, headers={"Accept": "application/json"})
    assert not http.at_home(f"{other.url}/page2") and http.at_home(home.url + "/x")
    http.get(f"{other.url}/page2")
    assert other.seen[0].headers.get("Accept") == "application/json" and not other.carried(TOKEN)


def test_origins():
    http = http_client.HostBoundSession("http://api.example.test/v4")
    assert http.at_home("http://API.example.test:80/x") and http.at_home("https://api.example.test/x")
    assert not http.at_home("http://api.example.test:8080/x") and not http.at_home("http://evil.test/")
    secure = http_client.HostBoundSession("https://api.example.test")
    assert not secure.at_home("http://api.example.test/")  # no downgrade keeps the token
    assert not secure.at_home("https://api.example.test:bad/")


def test_a_retry_after_is_capped():
    answer = HTTPResponse(body=b"", headers={"Retry-After": "86400"}, status=503)
    assert http_client.BoundedRetry(total=1).get_retry_after(answer) == http_client.MAX_RETRY_AFTER
