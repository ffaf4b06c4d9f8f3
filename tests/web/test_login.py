"""Logging in and out: the session cookie, where it is stored, CSRF, and where the browser lands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, update

from parley.app import create_app
from parley.auth.tokens import hash_secret
from parley.config import Settings
from parley.db import tables
from parley.web.csrf import CSRF_COOKIE
from parley.web.login import WRONG_CREDENTIALS
from parley.web.session import SESSION_COOKIE
from tests.web.conftest import ANALYST, WebWorld, csrf_token, log_in


def set_cookie_header(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(f"{name}=")]
    assert found, f"no Set-Cookie for {name} in {headers}"
    return str(found[0])


def cookie_attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    return {p.partition("=")[0].lower(): p.partition("=")[2] for p in parts[1:]}


def session_rows(engine: Engine) -> list[tuple[str, int, datetime, datetime]]:
    ws = tables.web_sessions
    with engine.connect() as conn:
        return [
            (row.id_hash, row.user_id, row.created_at, row.expires_at)
            for row in conn.execute(select(ws.c.id_hash, ws.c.user_id, ws.c.created_at, ws.c.expires_at))
        ]


@pytest.mark.parametrize(
    ("path", "next_param"),
    [
        ("/", None),
        ("/conversations", "/conversations"),
        (
            "/conversations?status=completed&channel=email",
            "/conversations%3Fstatus%3Dcompleted%26channel%3Demail",
        ),
        ("/conversations/123", "/conversations/123"),
    ],
)
def test_a_page_without_a_session_redirects_to_login_with_next(
    client: TestClient, web_world: WebWorld, path: str, next_param: str | None
) -> None:
    response = client.get(path)
    assert response.status_code == 303
    expected = "/login" if next_param is None else f"/login?next={next_param}"
    assert response.headers["location"] == expected


def test_logging_in_lands_on_the_page_that_asked_for_it(client: TestClient, web_world: WebWorld) -> None:
    wanted = "/conversations?status=completed&channel=email"
    response = log_in(client, ANALYST, next_url=wanted)
    assert response.status_code == 303
    assert response.headers["location"] == wanted
    page = client.get(wanted)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


def test_the_session_cookie_is_httponly_lax_and_lives_as_long_as_the_session(
    client: TestClient, web_world: WebWorld, settings: Settings
) -> None:
    response = log_in(client, ANALYST)
    attributes = cookie_attributes(set_cookie_header(response, SESSION_COOKIE))
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == str(settings.session_max_age_seconds)
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back


def test_the_session_cookie_is_secure_over_https(
    settings: Settings, engine: Engine, web_world: WebWorld
) -> None:
    with TestClient(
        create_app(settings, engine), base_url="https://testserver", follow_redirects=False
    ) as client:
        response = log_in(client, ANALYST)
        assert response.status_code == 303
        attributes = cookie_attributes(set_cookie_header(response, SESSION_COOKIE))
        assert "secure" in attributes
        assert "httponly" in attributes


def test_sessions_are_stored_as_a_hash_with_an_expiry(
    client: TestClient, web_world: WebWorld, engine: Engine, settings: Settings
) -> None:
    before = datetime.now(UTC)
    log_in(client, ANALYST)
    secret = client.cookies[SESSION_COOKIE]
    [(id_hash, _user, created_at, expires_at)] = session_rows(engine)
    assert id_hash == hash_secret(secret)
    assert secret not in id_hash
    assert before - timedelta(seconds=1) <= created_at <= datetime.now(UTC)
    assert expires_at - created_at == timedelta(seconds=settings.session_max_age_seconds)


@pytest.mark.parametrize(
    ("email", "password"),
    [(ANALYST, "wrong password"), ("nobody@acme.test", "correct horse battery"), (ANALYST, "")],
)
def test_wrong_password_and_unknown_email_get_the_same_clear_message(
    client: TestClient, web_world: WebWorld, engine: Engine, email: str, password: str
) -> None:
    response = log_in(client, email, password)
    assert response.status_code == 400
    assert WRONG_CREDENTIALS in response.text
    assert 'role="alert"' in response.text
    assert f'value="{email}"' in response.text  # the email is kept; the password is not
    assert SESSION_COOKIE not in client.cookies
    assert session_rows(engine) == []


def test_email_is_matched_case_insensitively(client: TestClient, web_world: WebWorld) -> None:
    assert log_in(client, ANALYST.upper()).status_code == 303


def test_login_without_the_form_token_is_refused(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": ANALYST, "password": "correct horse battery"})
    assert response.status_code == 403
    assert "expired" in response.text
    assert session_rows(engine) == []


def test_a_form_token_is_bound_to_its_own_browser(
    settings: Settings, engine: Engine, web_world: WebWorld
) -> None:
    """A token lifted from one browser's form does not work with another browser's cookie."""
    app = create_app(settings, engine)
    with (
        TestClient(app, follow_redirects=False) as attacker,
        TestClient(app, follow_redirects=False) as victim,
    ):
        stolen = csrf_token(attacker.get("/login").text)
        victim.get("/login")
        response = victim.post(
            "/login", data={"email": ANALYST, "password": "correct horse battery", "csrf_token": stolen}
        )
        assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_login_posted_from_another_site_is_refused(
    client: TestClient, web_world: WebWorld, engine: Engine, headers: dict[str, str]
) -> None:
    token = csrf_token(client.get("/login").text)
    form = {"email": ANALYST, "password": "correct horse battery", "csrf_token": token}
    response = client.post("/login", data=form, headers=headers)
    assert response.status_code == 403
    assert session_rows(engine) == []


def test_login_posted_from_our_own_origin_is_accepted(client: TestClient, web_world: WebWorld) -> None:
    token = csrf_token(client.get("/login").text)
    form = {"email": ANALYST, "password": "correct horse battery", "csrf_token": token}
    response = client.post(
        "/login", data=form, headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 303


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/inbox",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/login",
        "inbox",
    ],
)
def test_after_login_the_browser_never_leaves_the_site(
    client: TestClient, web_world: WebWorld, next_url: str
) -> None:
    response = log_in(client, ANALYST, next_url=next_url)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_login_page_sends_a_logged_in_user_on(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, ANALYST)
    response = client.get("/login?next=/conversations")
    assert response.status_code == 303
    assert response.headers["location"] == "/conversations"


def test_logging_in_again_replaces_the_session(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    log_in(client, ANALYST)
    first = client.cookies[SESSION_COOKIE]
    token = csrf_token(client.get("/").text)
    client.post("/login", data={"email": ANALYST, "password": "correct horse battery", "csrf_token": token})
    second = client.cookies[SESSION_COOKIE]
    assert first != second
    assert [row[0] for row in session_rows(engine)] == [hash_secret(second)]


def test_logout_ends_the_session_everywhere(client: TestClient, web_world: WebWorld, engine: Engine) -> None:
    log_in(client, ANALYST)
    secret = client.cookies[SESSION_COOKIE]
    token = csrf_token(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "max-age=0" in set_cookie_header(response, SESSION_COOKIE).lower()
    assert session_rows(engine) == []
    # Even a copy of the old cookie is worthless now.
    client.cookies.set(SESSION_COOKIE, secret)
    assert client.get("/").status_code == 303
    assert client.get("/core/conversations").status_code == 401


def test_logout_without_the_form_token_keeps_the_session(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    log_in(client, ANALYST)
    response = client.post("/logout", data={})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert len(session_rows(engine)) == 1
    assert client.get("/").status_code == 200


def test_logout_from_another_site_is_refused(client: TestClient, web_world: WebWorld, engine: Engine) -> None:
    log_in(client, ANALYST)
    token = csrf_token(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert len(session_rows(engine)) == 1


def test_logout_is_post_only(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, ANALYST)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_an_expired_session_is_a_logged_out_one(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    log_in(client, ANALYST)
    with engine.begin() as conn:
        conn.execute(update(tables.web_sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get("/").status_code == 303
    assert client.get("/core/conversations").status_code == 401


def test_expired_sessions_are_purged_at_the_next_login(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    log_in(client, ANALYST)
    with engine.begin() as conn:
        conn.execute(update(tables.web_sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    client.cookies.clear()
    log_in(client, ANALYST)
    assert len(session_rows(engine)) == 1


def test_a_user_in_no_org_is_told_so_instead_of_logged_in(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    with engine.begin() as conn:
        conn.execute(delete(tables.memberships).where(tables.memberships.c.org_id == web_world.acme.id))
    response = log_in(client, ANALYST)
    assert response.status_code == 403
    assert "not a member of any org" in response.text
    assert session_rows(engine) == []


def test_losing_every_membership_while_logged_in_explains_itself(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    log_in(client, ANALYST)
    with engine.begin() as conn:
        conn.execute(delete(tables.memberships).where(tables.memberships.c.org_id == web_world.acme.id))
    response = client.get("/")
    assert response.status_code == 403
    assert "not a member of any org" in response.text
    assert 'action="/logout"' in response.text


def test_behind_a_tls_proxy_the_public_url_decides(
    settings: Settings, engine: Engine, web_world: WebWorld
) -> None:
    """A proxy that terminates TLS forwards plain http: the public URL says what the browser sees."""
    proxied = settings.model_copy(update={"public_url": "https://inbox.example.com"})
    with TestClient(create_app(proxied, engine), follow_redirects=False) as client:
        form_page = client.get("/login")
        csrf_cookie = set_cookie_header(form_page, CSRF_COOKIE)
        assert "secure" in cookie_attributes(csrf_cookie)
        # The browser (on https) sends the Secure cookie back; this http client must be told to.
        browser_cookie = {"Cookie": csrf_cookie.split(";")[0], "Origin": "https://inbox.example.com"}
        form = {
            "email": ANALYST,
            "password": "correct horse battery",
            "csrf_token": csrf_token(form_page.text),
        }
        response = client.post("/login", data=form, headers=browser_cookie)
        assert response.status_code == 303
        assert "secure" in cookie_attributes(set_cookie_header(response, SESSION_COOKIE))


def test_the_origin_is_compared_by_host_not_scheme(client: TestClient, web_world: WebWorld) -> None:
    token = csrf_token(client.get("/login").text)
    form = {"email": ANALYST, "password": "correct horse battery", "csrf_token": token}
    assert client.post("/login", data=form, headers={"Origin": "https://testserver"}).status_code == 303
