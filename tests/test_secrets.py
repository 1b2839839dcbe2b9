"""No password is ever printed: one redaction for every line, whatever the URL's form or outcome."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import require_server, run_scaffold
from hosts import make_host
from plugin_scaffold.databases import redact, redact_text, server_url, temporary_database

TOKEN = "S3cr3tTok"


def leaked(result_text: str, password: str) -> list[str]:
    """The pieces of ``password`` (raw, %-decoded, %-encoded) found in the output."""
    from urllib.parse import quote, unquote

    pieces = {password, unquote(password), quote(password, safe=""), TOKEN}
    return [p for p in pieces if p and p in result_text]


#: (form, password as written in the URL, how to place it)
FORMS = [
    ("slash", f"Su/{TOKEN}", "userinfo"),
    ("unencoded-at", f"Pa@{TOKEN}", "userinfo"),
    ("percent-encoded", f"Pa%40{TOKEN}%2F7", "userinfo"),
    ("query", f"{TOKEN}x", "query"),
    ("query-encoded", f"Pa%2F{TOKEN}", "query"),
]


def with_password(base: str, password: str, place: str) -> str:
    url = sa.engine.make_url(base)
    user = url.username or "postgres"
    rest = f"{url.host}:{url.port or 5432}/{url.database}"
    scheme = url.drivername
    if place == "userinfo":
        return f"{scheme}://{user}:{password}@{rest}"
    return f"{scheme}://{user}@{rest}?password={password}"


@pytest.mark.parametrize("form,password,place", FORMS, ids=[f[0] for f in FORMS])
def test_redact_hides_every_form(form: str, password: str, place: str) -> None:
    url = with_password("postgresql+psycopg://postgres@127.0.0.1:5432/db", password, place)
    assert not leaked(redact(url), password)
    assert not leaked(redact_text(f"failed on {url!r}: boom"), password)
    assert not leaked(redact_text(f"not a database URL: '{url}'"), password)


def test_redact_text_hides_conninfo_and_keyword_forms() -> None:
    for text in (
        f"host=127.0.0.1 user=postgres password={TOKEN} dbname=x",
        f"connect(host='h', password='{TOKEN}')",
        f"{{'user': 'root', 'password': '{TOKEN}'}}",
        f"PASSWORD = {TOKEN}",
        f"root:{TOKEN}@127.0.0.1:3306",
    ):
        assert TOKEN not in redact_text(text), text


@pytest.fixture
def pg_database() -> Iterator[str]:
    require_server("postgresql")
    with temporary_database("postgresql") as url:
        yield url


@pytest.mark.postgresql
@pytest.mark.parametrize("env_style", ["url", "connection"])
@pytest.mark.parametrize("form,password,place", FORMS, ids=[f[0] for f in FORMS])
def test_no_password_printed_on_postgresql(
    tmp_path: Path, pg_database: str, env_style: str, form: str, password: str, place: str
) -> None:
    """PostgreSQL trusts local connections: the password is carried but not needed."""
    if env_style == "url" and "%" not in password:
        pytest.skip("an env.py reading sqlalchemy.url matters for %-encoded passwords")
    ini = make_host(tmp_path / "host", env_style=env_style)
    good = with_password(pg_database, password, place)
    refused = with_password(pg_database.replace(":5432/", ":1/"), password, place)
    bad = good.replace("postgresql+psycopg", "postgresql+nosuchdriver")
    # A raw '@' in the password cannot be told from the host's: refused, saying how to write it.
    works = [(0, "upgraded"), (0, "0002aaaa0002"), (0, "downgraded"), (1, "scaffold: error:")]
    if form == "unencoded-at":
        works = [(2, "percent-encode it")] * 4
    runs: list[tuple[list[str], int, str]] = [
        (["--url", good, "upgrade"], *works[0]),
        (["--url", good, "current"], *works[1]),
        (["--url", good, "downgrade", "base"], *works[2]),
        (["--url", refused, "upgrade"], *works[3]),
        (["-v", "--url", refused, "upgrade"], works[3][0], "scaffold: error:"),
        (["--url", bad, "upgrade"], 2, "scaffold: error:"),
        (["-v", "--url", bad, "upgrade"], 2, "scaffold: error:"),
    ]
    if form != "unencoded-at":
        runs += [
            (["--url", good, "upgrade", "nosuchrev"], 2, "nosuchrev"),
            (["-v", "--url", good, "upgrade", "nosuchrev"], 2, "nosuchrev"),
        ]
    for args, code, expected in runs:
        result = run_scaffold("-c", str(ini), *args, cwd=tmp_path, check=code)
        output = result.stdout + result.stderr
        assert expected in output, (args, output)
        assert not leaked(output, password), (args, output)


@pytest.fixture
def mariadb_user() -> Iterator[tuple[str, str, str]]:
    """A scratch database and a user of its own, with a password made to be hard to redact."""
    require_server("mysql")
    with temporary_database("mysql") as url:
        admin = sa.create_engine(server_url("mysql"), isolation_level="AUTOCOMMIT")
        user = f"scaffold_{uuid.uuid4().hex[:8]}"
        password = f"Pa@{TOKEN}/x%y"
        database = sa.engine.make_url(url).database
        with admin.connect() as conn:
            doubled = password.replace("%", "%%")  # the driver formats the statement with %
            conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY '{doubled}'")
            conn.exec_driver_sql(f"GRANT ALL ON `{database}`.* TO '{user}'@'%%'")
        try:
            yield url, user, password
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
            admin.dispose()


@pytest.mark.mysql
def test_no_password_printed_on_mariadb(tmp_path: Path, mariadb_user: tuple[str, str, str]) -> None:
    from urllib.parse import quote

    url, user, password = mariadb_user
    parsed = sa.engine.make_url(url)
    where = f"{parsed.host}:{parsed.port or 3306}/{parsed.database}"
    encoded = quote(password, safe="")
    forms = {
        "userinfo-encoded": f"mysql+pymysql://{user}:{encoded}@{where}",
        "query": f"mysql+pymysql://{user}@{where}?password={encoded}",
        "unencoded-at": f"mysql+pymysql://{user}:{password}@{where}",
    }
    ini = make_host(tmp_path / "host", env_style="connection")
    for form, good in forms.items():
        wrong = good.replace(TOKEN, "Wrong" + TOKEN)
        works = form != "unencoded-at"  # a raw '@' is refused: write it as %40
        runs = [
            (["--url", good, "upgrade"], 0 if works else 2),
            (["--url", good, "downgrade", "base"], 0 if works else 2),
            (["--url", wrong, "upgrade"], 1 if works else 2),
            (["-v", "--url", wrong, "upgrade"], 1 if works else 2),
        ]
        for args, code in runs:
            result = run_scaffold("-c", str(ini), *args, cwd=tmp_path, check=code)
            output = result.stdout + result.stderr
            assert not leaked(output, password), (form, args, output)
            assert "Wrong" + TOKEN not in output, (form, args, output)
