"""No password is ever printed, in any spelling, on any output path, whatever printed it.

A password is hidden by its value once scaffold has seen it (in ``--url``, the project's
``url``, the host's ``sqlalchemy.url``): as written, percent-decoded or -encoded, quoted as
``repr``, JSON or a libpq conninfo would — in scaffold's own lines, in Alembic's, in the host
env.py's and in a driver's, in ``-v`` tracebacks; and by its place in a URL it has never seen.

The matrix: every spelling of a password in a URL (SPELLINGS) by every command by success, error
and ``-v``, on PostgreSQL (trust authentication: the password is carried, not needed), with a
host env.py that prints what it is given — the URL, the decoded password, the driver's keyword
arguments — and, asked with ``-x fail=1``, raises with the decoded password in its message.
MariaDB checks real passwords, right and wrong.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import EXAMPLE_HOST, require_server
from forkrun import ForkServer, Result
from plugin_scaffold.databases.servers import server_url, temporary_database
from plugin_scaffold.databases.urls import DatabaseURL, redact, redact_text, remember_secrets
from plugin_scaffold.plugin.template import render_plugin

TOKEN = "S3cr3tTok"


def leaked(text: str, password: str) -> list[str]:
    """The pieces of ``password`` (raw, %-decoded, %-encoded, or just its token) in ``text``."""
    from urllib.parse import quote, unquote

    pieces = {password, unquote(password), quote(password, safe=""), TOKEN}
    return [p for p in pieces if p and p in text]


#: (id, the password as written in the URL, where the URL holds it)
SPELLINGS = [
    ("space", f"s3 cret{TOKEN}", "userinfo"),
    ("single-quote", f"it's{TOKEN}", "userinfo"),
    ("double-quote", f'say"{TOKEN}"', "userinfo"),
    ("comma", f"a,b{TOKEN},c", "userinfo"),
    ("backslash", f"back\\{TOKEN}\\n", "userinfo"),
    ("slash", f"Su/{TOKEN}", "userinfo"),
    ("percent-encoded", f"Pa%40{TOKEN}%2F7%20x", "userinfo"),
    ("unencoded-at", f"Pa@{TOKEN}", "userinfo"),
    ("query", f"{TOKEN}x", "query"),
    ("query-comma", f"abc,{TOKEN},xyz", "query"),
    ("query-at", f"Pa@{TOKEN}", "query"),
    ("query-encoded", f"Pa%2F{TOKEN}%2C%27", "query"),
]
ids = [s[0] for s in SPELLINGS]


def with_password(base: str, password: str, place: str, *, port: str | None = None) -> str:
    url = sa.engine.make_url(base)
    rest = f"{url.host}:{port or url.port or 5432}/{url.database}"
    user = url.username or "postgres"
    if place == "userinfo":
        return f"{url.drivername}://{user}:{password}@{rest}"
    return f"{url.drivername}://{user}@{rest}?password={password}"


# --- the redaction itself -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passwords these tests make this process remember are forgotten after each: another
    test in the same worker may print ``postgres``, a password of one of these."""
    from plugin_scaffold.databases import urls

    monkeypatch.setattr(urls, "_secrets", [])
    monkeypatch.setattr(urls, "_secrets_pattern", None)


@pytest.mark.parametrize("form,password,place", SPELLINGS, ids=ids)
def test_a_url_never_seen_is_hidden_by_the_place_of_its_password(
    form: str, password: str, place: str
) -> None:
    """Text from env.py or a driver naming a URL scaffold was never given: the password's place
    in the URL hides it — unless it holds a quote, which ends the URL for all that can tell."""
    unseen = password.replace(TOKEN, f"Unseen{uuid.uuid4().hex[:6]}")
    url = with_password("postgresql+psycopg://postgres@127.0.0.1:5432/db", unseen, place)
    for text in (f"failed on {url}: boom", f"not a database URL: '{url}'", f"{url!r}"):
        hidden = redact_text(text)
        if "quote" not in form:
            assert "Unseen" not in hidden, (text, hidden)
        assert "127.0.0.1:5432/db" in hidden, (text, hidden)


@pytest.mark.parametrize("form,password,place", SPELLINGS, ids=ids)
def test_a_password_seen_once_is_hidden_in_every_spelling(
    form: str, password: str, place: str
) -> None:
    from urllib.parse import quote, quote_plus, unquote

    url = with_password("postgresql+psycopg://postgres@127.0.0.1:5432/db", password, place)
    remember_secrets(url)
    decoded = unquote(password)
    try:
        parsed = DatabaseURL.parse(url).url
    except Exception:
        parsed = None  # a raw '@' in the userinfo is refused, and hidden all the same
    texts = [
        url,
        repr(url),
        json.dumps(url),
        redact(url),
        f"password is {decoded}",
        f"connect(password={decoded!r}, host='127.0.0.1')",
        f"{{'user': 'postgres', 'password': {decoded!r}}}",
        json.dumps({"password": decoded}),
        "host=127.0.0.1 password='" + decoded.replace("\\", "\\\\").replace("'", "\\'") + "'",
        f"quoted: {quote(decoded, safe='')} / {quote_plus(decoded)}",
    ]
    if parsed is not None:
        texts += [parsed.render_as_string(hide_password=False), repr(parsed.query)]
        texts.append(repr(parsed.translate_connect_args()))
    for text in texts:
        assert not leaked(redact_text(text), password), (text, redact_text(text))


def test_a_short_or_common_password_does_not_eat_other_words() -> None:
    """``postgres`` the password hides ``postgres`` the user and database, not ``postgresql``
    the dialect; a one- or two-character password is hidden by its place only."""
    remember_secrets("postgresql://postgres:postgres@127.0.0.1/postgres")
    assert redact("postgresql://postgres:postgres@127.0.0.1/postgres") == (
        "postgresql://***:***@127.0.0.1/***"
    )
    remember_secrets("postgresql://u:pw@127.0.0.1/db")
    assert redact_text("postgresql://u:pw@127.0.0.1/db, pwd pw") == (
        "postgresql://u:***@127.0.0.1/db, pwd pw"
    )
    # alembic init's placeholder holds no secret: its "pass" is left in "pass --url".
    remember_secrets("driver://user:pass@localhost/dbname")
    assert redact_text("pass --url") == "pass --url"


def test_a_raw_at_in_a_query_string_password_is_taken_as_written() -> None:
    """``?password=Pa@x`` is valid for SQLAlchemy; with a port in the URL SQLAlchemy alone
    would read user ``u@127.0.0.1`` and host ``x``. Not refused, not printed."""
    url = f"postgresql+psycopg://u@127.0.0.1:5432/db?password=Pa@{TOKEN}&sslmode=disable"
    parsed = DatabaseURL.parse(url).url
    assert (parsed.username, parsed.host, parsed.port, parsed.database) == (
        "u",
        "127.0.0.1",
        5432,
        "db",
    )
    assert dict(parsed.query) == {"password": f"Pa@{TOKEN}", "sslmode": "disable"}
    assert redact(url) == "postgresql+psycopg://u@127.0.0.1:5432/db?password=***&sslmode=disable"
    assert not leaked(redact_text(f"cannot use {url}"), f"Pa@{TOKEN}")


def test_scaffold_test_passes_on_what_its_sessions_print_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``scaffold test --url`` hands the server URL to nox, pytest and the plugin's tests, which
    print to pipes scaffold reads: each line comes out redacted, stdout and stderr apart."""
    import sys

    from plugin_scaffold.testing.sessions import run_redacted

    url = f"postgresql+psycopg://postgres:s3 cret{TOKEN}@127.0.0.1:5432/x"
    remember_secrets(url)
    child = (
        "import os, sys; url = os.environ['U']; print('url', url); "
        "print('password', url.split(':')[2].split('@')[0], file=sys.stderr); sys.exit(3)"
    )
    code = run_redacted([sys.executable, "-c", child], cwd=tmp_path, env={"U": url})
    out, err = capsys.readouterr()
    assert code == 3
    assert out == "url postgresql+psycopg://postgres:***@127.0.0.1:5432/x\n"
    assert err == "password ***\n"


def test_redact_text_hides_conninfo_and_keyword_forms() -> None:
    for text in (
        f"host=127.0.0.1 user=postgres password={TOKEN} dbname=x",
        f"connect(host='h', password='{TOKEN}')",
        f"{{'user': 'root', 'password': '{TOKEN}'}}",
        f"PASSWORD = {TOKEN}",
        f"root:{TOKEN}@127.0.0.1:3306",
        f"postgresql://u@h/db?password=abc,{TOKEN}&x=1",
    ):
        assert TOKEN not in redact_text(text), text


# --- the matrix: every spelling by every command by success, error and -v -----------------------

#: Prints what env.py is given; with ``-x fail=1`` it raises with the decoded password in it.
TALKATIVE = """
from sqlalchemy.engine import make_url as _make_url

_url = config.get_main_option("sqlalchemy.url")
if _url:
    _parsed = _make_url(_url)
    print(f"env.py: {_url} {_parsed.password!r} {_parsed.translate_connect_args()!r}")
    print(f"env.py: query {dict(_parsed.query)!r}")
    if context.get_x_argument(as_dictionary=True).get("fail"):
        raise RuntimeError(
            f"env.py refuses {_parsed.password or _parsed.query['password']} in "
            f"{_parsed.render_as_string(False)}"
        )
"""

#: (arguments, exit code and words with a working URL, and with a server that refuses)
COMMANDS: list[tuple[tuple[str, ...], int, str, int | None, str]] = [
    (("upgrade",), 0, "upgraded postgresql+psycopg://postgres", 1, "cannot connect to"),
    (("current",), 0, "(hush) (head)", 1, "cannot connect to"),
    (("upgrade", "--sql"), 0, "COMMIT;", 0, "COMMIT;"),
    (("heads",), 0, "(hush) (head)", None, ""),
    (("history",), 0, "(hush) (head)", None, ""),
    (("branches",), 0, "", None, ""),
    (("plugins",), 0, "hush  (project", 0, "the database could not be read"),
    (("check", "--models"), 0, "models match migrations", 1, "does not answer"),
    (("check", "--json"), 0, "[]", 1, "does not answer"),
    (("revision", "-m", "x", "--autogenerate"), 0, "no changes", 1, "does not answer"),
    (
        ("stamp", "--plugin", "hush"),
        0,
        "is already at hush@head: no row changed",
        1,
        "cannot connect to",
    ),
    (("merge",), 0, "one head", None, ""),
    (("adopt",), 2, "already in the version table", 1, "cannot connect to"),
    (("forget", "hush", "--yes"), 2, "plugin hush is installed", 1, "cannot connect to"),
    (("downgrade", "--plugin", "hush"), 0, "downgraded postgresql", 1, "cannot connect to"),
    (("wire",), 0, "wired hush", None, ""),
    (("unwire", "hush"), 0, "unwired hush", None, ""),
]


@pytest.fixture(scope="module")
def talkative(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example host, its env.py building its own engine and printing what it is given, and
    the plugin ``hush`` for it."""
    root = tmp_path_factory.mktemp("secrets")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.db")
    shutil.copytree(EXAMPLE_HOST, root / "host", ignore=ignore)
    env = root / "host/examplehost/migrations/env.py"
    text = env.read_text().replace(
        'connection = config.attributes.get("connection")', "connection = None"
    )
    metadata = "target_metadata = Base.metadata\n"
    env.write_text(text.replace(metadata, metadata + TALKATIVE, 1))
    project = render_plugin(root / "plug", {"plugin_name": "hush"})
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"examplehost:migrations"', '"../host/alembic.ini"')
    )
    return root


def check(result: Result, argv: tuple[str, ...], code: int, words: str, password: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, (argv, output)
    assert words in output, (argv, words, output)
    assert not leaked(output, password), (argv, output)


@pytest.mark.postgresql
@pytest.mark.parametrize("form,password,place", SPELLINGS, ids=ids)
def test_no_password_printed_by_any_command(
    server: ForkServer, talkative: Path, tmp_path: Path, form: str, password: str, place: str
) -> None:
    require_server("postgresql")
    root = Path(shutil.copytree(talkative, tmp_path / "tree"))
    project = root / "plug"
    with temporary_database("postgresql", prefix="scaffold_secrets") as database:
        good = with_password(database, password, place)
        refused = with_password(database, password, place, port="1")
        malformed = with_password(database, password, place, port="port")

        def run(*argv: str, env: dict[str, str] | None = None) -> Result:
            return server.run(*argv, cwd=project, env=env)

        for argv, code, words, refused_code, refused_words in COMMANDS:
            if form == "unencoded-at":  # cannot be told from the host's '@': refused, any command
                for url, says in [(good, "has an '@' in its password"), (malformed, "not a")]:
                    for verbose in ((), ("-v",)):
                        check(run(*verbose, "--url", url, *argv), argv, 2, says, password)
                continue
            check(run("--url", good, *argv), argv, code, words, password)
            for verbose in ((), ("-v",)):
                result = run(*verbose, "--url", malformed, *argv)
                check(result, argv, 2, "not a database URL: 'postgresql+psycopg://", password)
            if refused_code is None:
                continue  # the database is never opened
            for verbose in ((), ("-v",)):
                result = run(*verbose, "--url", refused, *argv)
                check(result, argv, refused_code, refused_words, password)
            failed = run("-v", "--url", good, "-x", "fail=1", *argv)
            check(failed, argv, 0 if argv == ("plugins",) else 2, "env.py refuses ***", password)
        if form == "unencoded-at":
            return
        # The same URL from the project's pyproject.toml and from the host's alembic.ini.
        pyproject = project / "pyproject.toml"
        text = pyproject.read_text()
        pyproject.write_text(text.replace('"sqlite:///dev.db"', json.dumps(good)))
        check(run("current"), ("current",), 0, "(core) (head)", password)
        pyproject.write_text(text.replace('"sqlite:///dev.db"', json.dumps(refused)))
        check(run("-v", "upgrade"), ("upgrade",), 1, "cannot connect to", password)
        pyproject.write_text(text.replace('url = "sqlite:///dev.db"\n', ""))
        ini = root / "host/alembic.ini"
        ini_text = ini.read_text()
        cases = [  # (the value in the ini, with each '%' doubled as configparser wants)
            (good.replace("%", "%%"), ("current",), 0, "(core) (head)"),
            (refused.replace("%", "%%"), ("-v", "upgrade"), 1, "cannot connect to"),
            (malformed.replace("%", "%%"), ("-v", "current"), 2, "not a database URL"),
        ]
        if "%" in good:  # left single: configparser's own message would quote the line's rest
            cases.append((good, ("-v", "current"), 2, "a '%' is written '%%' in an ini file"))
        for value, argv, code, words in cases:
            line = f"sqlalchemy.url = {value}\n"
            ini.write_text(
                ini_text.replace("sqlalchemy.url = sqlite:///%(here)s/examplehost.db\n", line)
            )
            check(run(*argv), argv, code, words, password)


# --- MariaDB: real passwords, right and wrong -------------------------------------------------


@pytest.fixture
def mariadb_user() -> Iterator[tuple[str, str, str]]:
    """A scratch database and a user of its own, with a password made to be hard to redact."""
    require_server("mysql")
    with temporary_database("mysql") as url:
        admin = sa.create_engine(server_url("mysql"), isolation_level="AUTOCOMMIT")
        user = f"scaffold_{uuid.uuid4().hex[:8]}"
        password = f"Pa@{TOKEN}/x%y it's,"
        database = sa.engine.make_url(url).database
        with admin.connect() as conn:
            # the driver formats the statement with %; SQL doubles a quote
            written = password.replace("%", "%%").replace("'", "''")
            conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY '{written}'")
            conn.exec_driver_sql(f"GRANT ALL ON `{database}`.* TO '{user}'@'%%'")
        try:
            yield url, user, password
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
            admin.dispose()


@pytest.mark.mysql
def test_no_password_printed_on_mariadb(
    server: ForkServer, talkative: Path, tmp_path: Path, mariadb_user: tuple[str, str, str]
) -> None:
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
    project = Path(shutil.copytree(talkative, tmp_path / "tree")) / "plug"
    for form, good in forms.items():
        wrong = good.replace(TOKEN, "Wrong" + TOKEN)
        works = form != "unencoded-at"  # a raw '@' is refused: write it as %40
        runs = [
            (("--url", good, "upgrade"), 0 if works else 2),
            (("--url", good, "current"), 0 if works else 2),
            (("--url", good, "downgrade", "base"), 0 if works else 2),
            (("--url", wrong, "upgrade"), 1 if works else 2),
            (("-v", "--url", wrong, "upgrade"), 1 if works else 2),
            (("-v", "--url", good, "-x", "fail=1", "current"), 2),
        ]
        for args, code in runs:
            result = server.run(*args, cwd=project)
            output = result.stdout + result.stderr
            assert result.returncode == code, (form, args, output)
            assert not leaked(output, password), (form, args, output)
            assert "Wrong" + TOKEN not in output, (form, args, output)
