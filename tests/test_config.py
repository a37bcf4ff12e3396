"""The config file as users write it: what loads, what is refused, and how refusals read."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import tomlkit
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from config import (
    DEFAULT_CONFIG,
    EmailChannel,
    FeedSettings,
    Settings,
    WebhookChannel,
    config_warnings,
    format_duration,
    key_path,
    load_config,
    parse_config,
    parse_duration,
    summarize,
)
from monitor.errors import ConfigError

CONFIGS = Path(__file__).parent / "data" / "configs"
ROOT = Path(__file__).resolve().parent.parent
SECRETS = {"SMTP_PASSWORD": "hunter2-smtp", "WEBHOOK_SECRET": "whsec-s3cret"}


def write(tmp_path: Path, text: str, name: str = "talentwatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env if env is not None else {})
    assert caught.value.path == str(path)
    return caught.value.problems


# ── files that load ──────────────────────────────────────────────────────────


def test_the_example_config_loads_as_shipped() -> None:
    settings = load_config(DEFAULT_CONFIG, env={})

    assert settings.path == DEFAULT_CONFIG.absolute()
    assert settings.storage.path == ROOT / "data" / "talentwatch.db"
    assert settings.polling.interval == 15 * 60
    assert 6 <= len(settings.feeds) <= 10
    assert all(feed.url.startswith("https://") for feed in settings.feeds)
    assert {lab.name for lab in settings.labs} >= {"Alibaba Tongyi Lab", "OpenAI"}
    assert settings.channels == ()  # `make run` must start without any SMTP server


def test_the_example_config_shows_every_channel_key_commented_out() -> None:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")

    assert '# password = "${SMTP_PASSWORD}"' in text
    assert "# [[alerts.email]]" in text
    assert "# [[alerts.webhook]]" in text


def _keys(model: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if model is Settings and name == "path":
            continue
        keys.add(field.alias or name)
    return keys


@pytest.mark.parametrize(
    "model",
    [Settings, *(type(getattr(Settings(), section)) for section in ("storage", "polling", "alerts"))],
    ids=lambda model: model.__name__,
)
def test_every_key_is_explained_in_the_example_config(model: type[BaseModel]) -> None:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    for key in _keys(model):
        assert f"{key} = " in text or f"[{key}]" in text or f".{key}]" in text or f"[[{key}]]" in text, key


@pytest.mark.parametrize("model", [FeedSettings, EmailChannel, WebhookChannel], ids=lambda m: m.__name__)
def test_every_feed_and_channel_key_is_explained_in_the_example_config(model: type[BaseModel]) -> None:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    missing = [key for key in _keys(model) if f"{key} = " not in text]
    assert missing == []


def test_every_contract_key_of_the_design_parses() -> None:
    settings = load_config(CONFIGS / "design.toml", env=SECRETS)

    assert settings.storage.path == CONFIGS.resolve() / "data" / "talentwatch.db"
    assert (settings.polling.interval, settings.polling.concurrency, settings.polling.timeout) == (900, 32, 20)
    assert settings.polling.allow_private is False
    (feed,) = settings.feeds
    assert (feed.url, feed.name, feed.interval) == ("https://example.com/ai.xml", "Example AI news", 300)
    (lab,) = settings.labs
    assert lab.name == "Alibaba Tongyi Lab"
    assert lab.aliases == ("Tongyi Lab", "Tongyi", "通义实验室")
    assert (settings.alerts.min_confidence, settings.alerts.on) == (0.5, ("loss",))
    email, webhook = settings.channels
    assert isinstance(email, EmailChannel) and isinstance(webhook, WebhookChannel)
    assert email.to == ("analyst@example.com",)
    assert email.sender == "talentwatch@example.com"
    assert (email.host, email.port, email.starttls, email.ssl) == ("smtp.example.com", 587, True, False)
    assert (email.username, email.password) == ("talentwatch", "hunter2-smtp")
    assert (webhook.url, webhook.format, webhook.secret) == ("https://hooks.example.com/talent", "json", "whsec-s3cret")
    assert email.key == "email:analyst@example.com"
    assert webhook.key.startswith("webhook:hooks.example.com#")
    assert "/talent" not in webhook.key, "the key never shows the URL's path, where chat services keep secrets"


def test_a_file_with_one_feed_gets_every_default(tmp_path: Path) -> None:
    settings = load_config(CONFIGS / "minimal.toml", env={})

    assert settings.storage.path == CONFIGS.resolve() / "data" / "talentwatch.db"
    assert settings.polling.interval == 900
    assert settings.polling.timeout == 20
    assert settings.polling.max_bytes == 15 * 1024 * 1024
    assert settings.alerts.on == ("loss",)
    assert settings.alerts.rumoured is False
    assert settings.alerts.max_age == 7 * 86400
    assert settings.interval_for(settings.feeds[0]) == 900


def test_named_channels_use_their_name_as_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[alerts.email]]
        name = "analysts"
        to = "a@example.com"
        from = "Talentwatch <tw@example.com>"
        host = "127.0.0.1"

        [[alerts.webhook]]
        name = "slack"
        url = "https://hooks.slack.com/services/T/B/X"
        format = "slack"
        """,
    )
    settings = load_config(path, env={})

    assert [channel.key for channel in settings.channels] == ["analysts", "slack"]
    assert settings.alerts.email[0].to == ("a@example.com",)


def test_ssl_alone_means_implicit_tls_on_port_465(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[alerts.email]]
        to = ["a@example.com"]
        from = "tw@example.com"
        host = "smtp.example.com"
        ssl = true
        """,
    )
    (email,) = load_config(path, env={}).alerts.email

    assert (email.ssl, email.starttls, email.port) == (True, False, 465)


def test_allow_private_takes_a_list_of_addresses_networks_and_hosts(tmp_path: Path) -> None:
    path = write(tmp_path, '[polling]\nallow_private = ["127.0.0.1", "10.0.0.0/8", "Intranet.example"]\n')

    assert load_config(path, env={}).polling.allow_private == ("127.0.0.1/32", "10.0.0.0/8", "intranet.example")


# ── storage path ─────────────────────────────────────────────────────────────


def test_a_relative_storage_path_is_taken_from_the_config_files_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "etc").mkdir()
    path = write(tmp_path / "etc", '[storage]\npath = "../var/tw.db"\n')
    monkeypatch.chdir(tmp_path / "etc")

    settings = load_config(Path("talentwatch.toml"), env={})

    assert settings.storage.path == tmp_path.resolve() / "var" / "tw.db"
    assert settings.path == path.absolute()


def test_an_absolute_storage_path_is_kept(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "tw.db"
    path = write(tmp_path, f'[storage]\npath = "{database.as_posix()}"\n')

    assert load_config(path, env={}).storage.path == database


def test_a_storage_path_may_start_at_home(tmp_path: Path) -> None:
    path = write(tmp_path, '[storage]\npath = "~/tw.db"\n')

    assert load_config(path, env={"HOME": "/ignored"}).storage.path == Path.home() / "tw.db"


# ── ${VAR} ───────────────────────────────────────────────────────────────────


def test_variables_are_replaced_in_every_string_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [storage]
        path = "${STATE}/tw.db"
        [[feeds]]
        url = "https://${FEED_HOST}/ai.xml"
        [[labs]]
        name = "${LAB}"
        aliases = ["${LAB} team"]
        """,
    )
    env = {"STATE": str(tmp_path / "state"), "FEED_HOST": "news.example", "LAB": "Tongyi Lab"}

    settings = load_config(path, env=env)

    assert settings.storage.path == tmp_path / "state" / "tw.db"
    assert settings.feeds[0].url == "https://news.example/ai.xml"
    assert settings.labs[0].names == ("Tongyi Lab", "Tongyi Lab team")


def test_the_process_environment_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALENTWATCH_TEST_LAB", "OpenAI")
    path = write(tmp_path, '[[labs]]\nname = "${TALENTWATCH_TEST_LAB}"\n')

    assert load_config(path).labs[0].name == "OpenAI"


def test_a_double_dollar_keeps_a_literal_variable_and_other_dollars_stay(tmp_path: Path) -> None:
    path = write(tmp_path, '[[labs]]\nname = "$${NOT_A_VAR} costs $5 and $$2"\n')

    assert load_config(path, env={}).labs[0].name == "${NOT_A_VAR} costs $5 and $$2"


def test_a_variable_may_have_a_fallback(tmp_path: Path) -> None:
    path = write(tmp_path, '[polling]\ninterval = "${POLL:-10m}"\ntimeout = "${TIMEOUT:-5s}"\n')

    settings = load_config(path, env={"TIMEOUT": "30s"})

    assert (settings.polling.interval, settings.polling.timeout) == (600, 30)


def test_an_unset_variable_names_the_variable_and_the_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[alerts.email]]
        to = ["a@example.com"]
        from = "tw@example.com"
        host = "smtp.example.com"
        username = "tw"
        password = "${SMTP_PASSWORD}"
        """,
    )

    assert problems_of(path, env={}) == ["alerts.email[0].password: environment variable SMTP_PASSWORD is not set"]


def test_an_unset_variable_is_reported_once_not_again_as_a_bad_value(tmp_path: Path) -> None:
    path = write(tmp_path, '[[feeds]]\nurl = "${FEED_URL}"\n')

    assert problems_of(path) == ["feeds[0].url: environment variable FEED_URL is not set"]


@pytest.mark.parametrize("text", ["${", "${1ABC}", "${A B}"])
def test_a_broken_variable_reference_is_an_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, f'[[labs]]\nname = "lab {text}"\n')

    (problem,) = problems_of(path)
    assert problem.startswith("labs[0].name: ")


def test_a_variable_can_fill_numbers_and_booleans(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[alerts.email]]
        to = ["a@example.com"]
        from = "tw@example.com"
        host = "smtp.example.com"
        port = "${SMTP_PORT}"
        starttls = "${SMTP_STARTTLS}"
        """,
    )

    (email,) = load_config(path, env={"SMTP_PORT": "2525", "SMTP_STARTTLS": "false"}).alerts.email

    assert (email.port, email.starttls) == (2525, False)


# ── errors ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[polling]\ninterval = "5x"\n', "polling.interval: '5x' is not a duration (use e.g. 30s, 15m, 2h)"),
        ('[polling]\ninterval = "500ms"\n', "polling.interval: 500ms is too short: the minimum is 1s"),
        ("[polling]\nconcurrency = 0\n", "polling.concurrency: 0 is too small: must be at least 1"),
        ("[polling]\nconcurrency = true\n", "polling.concurrency: expected a number, got true"),
        ('[polling]\nconcurrency = "many"\n', "polling.concurrency: expected a whole number, got a string 'many'"),
        ("[polling]\nconcurrency = 2.5\n", "polling.concurrency: expected a whole number, got a number 2.5"),
        ('[polling]\ntimeout = "0s"\n', "polling.timeout: must be longer than 0s"),
        (
            '[polling]\nallow_private = ["not a host"]\n',
            "polling.allow_private: 'not a host' is not an address, a network (CIDR) or a host name",
        ),
        ('[[feeds]]\nname = "x"\n', "feeds[0].url: required key is missing"),
        ('[[feeds]]\nurl = "ftp://example.com/a"\n', "feeds[0].url: 'ftp://example.com/a' is not an http(s) URL"),
        ('[[feeds]]\nurl = "https:///a"\n', "feeds[0].url: 'https:///a' has no host name"),
        (
            '[[feeds]]\nurl = "https://example.com/a"\ninterval = "0s"\n',
            "feeds[0].interval: 0s is too short: the minimum is 1s",
        ),
        ('[[feeds]]\nurl = "https://example.com/a"\nname = ""\n', "feeds[0].name: cannot be empty"),
        ('[[labs]]\nname = "A"\naliases = [1]\n', "labs[0].aliases[0]: expected a string, got an integer 1"),
        ("[alerts]\nmin_confidence = 1.5\n", "alerts.min_confidence: 1.5 is too large: must be at most 1.0"),
        ('[alerts]\non = ["lost"]\n', "alerts.on[0]: 'lost' is not one of 'loss', 'gain'"),
        ('[alerts]\nrumoured = "yes"\n', "alerts.rumoured: expected true or false, got 'yes'"),
        ('[alerts]\nmax_age = "a week"\n', "alerts.max_age: 'a week' is not a duration (use e.g. 30s, 15m, 2h)"),
        (
            '[[alerts.webhook]]\nurl = "https://h.example/x"\nformat = "xml"\n',
            "alerts.webhook[0].format: 'xml' is not one of 'json', 'slack', 'discord'",
        ),
        (
            '[[alerts.webhook]]\nurl = "file:///etc/passwd"\n',
            "alerts.webhook[0].url: 'file:///etc/passwd' is not an http(s) URL",
        ),
        (
            '[[alerts.email]]\nto = ["a@example.com"]\nfrom = "nobody"\nhost = "h"\n',
            "alerts.email[0].from: 'nobody' is not an email address",
        ),
        (
            '[[alerts.email]]\nto = []\nfrom = "t@example.com"\nhost = "h"\n',
            "alerts.email[0].to: is empty: at least one is needed",
        ),
        (
            '[[alerts.email]]\nto = ["a@example.com"]\nfrom = "t@example.com"\n',
            "alerts.email[0].host: required key is missing",
        ),
        (
            '[[alerts.email]]\nto = ["a@example.com"]\nfrom = "t@example.com"\nhost = "h"\nport = 0\n',
            "alerts.email[0].port: 0 is too small: must be at least 1",
        ),
        (
            '[[alerts.email]]\nto = "a@example.com"\nfrom = "t@example.com"\nhost = "h"\nssl = true\nstarttls = true\n',
            "alerts.email[0]: starttls and ssl cannot both be true (ssl is for port 465, starttls for 587)",
        ),
        (
            '[[alerts.email]]\nto = ["a@example.com"]\nfrom = "t@example.com"\nhost = "h"\npassword = "p"\n',
            "alerts.email[0]: password is set but username is not",
        ),
        ('[storage]\npath = ""\n', "storage.path: must name a database file"),
        ("[storage]\npath = 42\n", "storage.path: expected a file path, got an integer 42"),
        ('storage = "db.sqlite"\n', "storage: expected a table, got a string 'db.sqlite'"),
        ('[feeds]\nurl = "https://example.com/a"\n', "feeds: expected an array, got a table"),
        (
            '[[polling]]\ninterval = "5m"\n',
            "polling: expected a table, got an array (write [polling] once, not [[polling]])",
        ),
        ('path = "elsewhere.toml"\n', "path: unknown key (the file's own location is not a setting)"),
    ],
)
def test_each_kind_of_mistake_names_the_key_and_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)

    problems = problems_of(path)

    assert problems == [expected]
    with pytest.raises(ConfigError, match=str(path)):
        load_config(path, env={})


def test_every_mistake_in_a_file_is_reported_at_once_in_file_order() -> None:
    problems = problems_of(CONFIGS / "many_errors.toml")

    assert problems == (
        [
            "storage.path: expected a file path, got an integer 42",
            "polling.interval: 500ms is too short: the minimum is 1s",
            "polling.concurency: unknown key (did you mean 'concurrency'?)",
            "feeds[1].url: 'ftp://example.com/b.xml' is not an http(s) URL",
            "feeds[2].interval: '5x' is not a duration (use e.g. 30s, 15m, 2h)",
            "labs[0].name: required key is missing",
            "alerts.min_confidence: 1.5 is too large: must be at most 1.0",
            "alerts.on[1]: 'gains' is not one of 'loss', 'gain'",
            "alerts.email[0].to: is empty: at least one is needed",
            "alerts.email[0].password: environment variable SMTP_PASSWORD is not set",
            "alerts.webhok: unknown key (did you mean 'webhook'?)",
        ]
    )


def test_the_error_message_names_the_file_and_every_problem() -> None:
    path = CONFIGS / "many_errors.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})

    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "feeds[2].interval" in message and "alerts.webhok" in message


@pytest.mark.parametrize(
    ("section", "typo", "suggestion"),
    [
        ("polling", "intervall", "interval"),
        ("polling", "timout", "timeout"),
        ("alerts", "min_confidance", "min_confidence"),
        ("alerts", "rumored", "rumoured"),
        ("storage", "pth", "path"),
    ],
)
def test_a_misspelt_key_gets_a_suggestion(tmp_path: Path, section: str, typo: str, suggestion: str) -> None:
    path = write(tmp_path, f"[{section}]\n{typo} = 1\n")

    assert problems_of(path) == [f"{section}.{typo}: unknown key (did you mean {suggestion!r}?)"]


def test_misspelt_keys_inside_arrays_of_tables_get_suggestions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[feeds]]
        url = "https://example.com/a"
        intreval = "5m"
        [[alerts.email]]
        to = ["a@example.com"]
        form = "t@example.com"
        host = "h"
        """,
    )

    assert problems_of(path) == [
        "feeds[0].intreval: unknown key (did you mean 'interval'?)",
        "alerts.email[0].from: required key is missing",
        "alerts.email[0].form: unknown key (did you mean 'from'?)",
    ]


def test_an_unknown_key_with_no_near_miss_lists_the_allowed_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "[storage]\nbackend = 'postgres'\n")

    assert problems_of(path) == ["storage.backend: unknown key (allowed: path)"]


def test_an_unknown_section_gets_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, '[[feed]]\nurl = "https://example.com/a"\n')

    assert problems_of(path) == ["feed: unknown key (did you mean 'feeds'?)"]


def test_duplicate_feeds_labs_and_channels_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[feeds]]
        url = "https://example.com/a"
        [[feeds]]
        url = "HTTPS://Example.com/a"
        [[labs]]
        name = "OpenAI"
        [[labs]]
        name = "openai"
        [[alerts.webhook]]
        url = "https://hooks.example.com/x"
        [[alerts.webhook]]
        url = "https://hooks.example.com/x"
        format = "slack"
        """,
    )

    assert problems_of(path) == [
        "feeds[1].url: duplicate of feeds[0]",
        "labs[1].name: duplicate of labs[0]",
        "alerts.webhook[1]: channel 'webhook:hooks.example.com#2eef74cce4' is already defined at alerts.webhook[0]"
        " (give it a name)",
    ]


def test_duplicates_are_reported_beside_mistakes_elsewhere(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [polling]
        interval = "fast"
        [[feeds]]
        url = "https://example.com/a"
        [[feeds]]
        url = "https://example.com/a"
        """,
    )

    assert problems_of(path) == [
        "polling.interval: 'fast' is not a duration (use e.g. 30s, 15m, 2h)",
        "feeds[1].url: duplicate of feeds[0]",
    ]


def test_a_toml_syntax_error_gives_line_and_column() -> None:
    path = CONFIGS / "syntax_error.toml"

    (problem,) = problems_of(path)

    assert problem.startswith("line 3, column 15: not valid TOML: ")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nowhere.toml") == ["file not found"]


def test_a_directory_is_a_config_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == ["is a directory, not a config file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[polling]\n")
    path.chmod(0)

    (problem,) = problems_of(path)

    assert problem.startswith("cannot be read: ")


def test_a_path_through_a_file_is_a_config_error(tmp_path: Path) -> None:
    blocker = write(tmp_path, "", name="not-a-directory")

    (problem,) = problems_of(blocker / "talentwatch.toml")

    assert problem == "cannot be read: Not a directory"


def test_a_file_that_is_not_utf8_is_a_config_error() -> None:
    (problem,) = problems_of(CONFIGS / "not_utf8.toml")

    assert problem.startswith("is not UTF-8 text")


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbf[polling]\ninterval = "1h"\n')

    assert load_config(path, env={}).polling.interval == 3600


@pytest.mark.parametrize(
    ("loc", "text"),
    [(("feeds", 2, "url"), "feeds[2].url"), (("alerts", "email", 0), "alerts.email[0]"), ((), "")],
)
def test_key_paths_read_like_the_file(loc: tuple[int | str, ...], text: str) -> None:
    assert key_path(loc) == text


_KEYS = st.sampled_from(
    [
        "storage",
        "polling",
        "feeds",
        "labs",
        "alerts",
        "email",
        "webhook",
        "path",
        "url",
        "name",
        "interval",
        "timeout",
        "to",
        "from",
        "host",
        "port",
        "ssl",
        "starttls",
        "on",
        "aliases",
        "allow_private",
        "min_confidence",
        "max_age",
        "format",
        "secret",
        "password",
        "username",
        "count",
        "window",
        "x",
    ]
)
_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["15m", "0s", "${HOME}", "${UNSET}", "https://example.com/a", "a@example.com", "loss"]),
)
_TOML = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(_KEYS, _TOML, max_size=5))
def test_any_toml_document_gives_settings_or_a_config_error(document: dict[str, object]) -> None:
    text = tomlkit.dumps(document)
    try:
        settings = parse_config(text, Path("/srv/talentwatch/talentwatch.toml"), env={"HOME": "/root"})
    except ConfigError as exc:
        assert exc.problems
        assert all(isinstance(problem, str) and ": " in problem for problem in exc.problems)
    else:
        assert isinstance(settings, Settings)


# ── the models ───────────────────────────────────────────────────────────────


def test_settings_are_frozen() -> None:
    settings = load_config(CONFIGS / "design.toml", env=SECRETS)

    with pytest.raises(ValidationError):
        settings.polling.interval = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        settings.feeds[0].url = "https://elsewhere.example"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        settings.alerts = settings.alerts  # type: ignore[misc]
    assert isinstance(settings.feeds, tuple)


def test_settings_can_be_built_in_code_with_the_same_rules() -> None:
    channel = EmailChannel.model_validate({"to": ["a@example.com"], "from": "t@example.com", "host": "h"})
    assert EmailChannel(to=("a@example.com",), sender="t@example.com", host="h") == channel

    with pytest.raises(ValidationError):
        FeedSettings(url="gopher://example.com")
    with pytest.raises(ValidationError):
        FeedSettings(url="https://example.com", unknown=1)  # type: ignore[call-arg]


def test_secrets_stay_out_of_the_models_repr() -> None:
    settings = load_config(CONFIGS / "design.toml", env=SECRETS)

    assert "hunter2-smtp" not in repr(settings)
    assert "whsec-s3cret" not in repr(settings)


# ── durations ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5s", 5),
        ("10m", 600),
        ("2h", 7200),
        ("7d", 604800),
        ("1w", 604800),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("1.5h", 5400),
        ("250ms", 0.25),
        ("90", 90),
        (" 15M ", 900),
        (30, 30),
        (2.5, 2.5),
    ],
)
def test_durations_parse_to_seconds(text: str | int | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5x", "", "  ", "-5s", "h", "1h-", "m5", "five minutes", True, -1, float("nan")])
def test_a_wrong_duration_says_what_is_wrong(text: str | int | float) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.25, "250ms"), (1.5, "1.5s"), (59, "59s"), (900, "15m"), (5400, "1h30m"), (90061, "1d1h1m1s")],
)
def test_durations_format_the_way_users_write_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**9))
def test_a_formatted_whole_duration_parses_back_to_itself(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.text(max_size=20))
def test_parsing_any_text_gives_seconds_or_a_value_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        assert "duration" in str(exc)
    else:
        assert seconds >= 0


# ── check-config's summary and warnings ──────────────────────────────────────


def test_the_summary_shows_what_will_happen_and_no_secret() -> None:
    settings = load_config(CONFIGS / "design.toml", env=SECRETS)

    summary = summarize(settings)

    assert str(CONFIGS / "design.toml") in summary
    assert str(settings.storage.path) in summary
    assert "every     5m  Example AI news <https://example.com/ai.xml>" in summary
    assert "Alibaba Tongyi Lab (also: Tongyi Lab, Tongyi, 通义实验室)" in summary
    assert "email:analyst@example.com" in summary
    assert "webhook:https://hooks.example.com/talent" in summary
    assert "on loss; confidence >= 0.5" in summary
    assert "***" in summary
    assert "hunter2-smtp" not in summary and "whsec-s3cret" not in summary


def test_the_summary_hides_tokens_in_webhook_urls(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[alerts.webhook]]
        url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
        format = "slack"
        [[alerts.webhook]]
        url = "https://user:pw@example.com/hook?token=QUERYSECRET"
        """,
    )

    summary = summarize(load_config(path, env={}))

    assert "XXXXSECRET" not in summary and "QUERYSECRET" not in summary and "pw@" not in summary
    assert "hooks.slack.com" in summary


def test_the_example_config_only_warns_that_no_channel_is_set() -> None:
    warnings = config_warnings(load_config(DEFAULT_CONFIG, env={}))

    assert warnings == ["alerts: no email or webhook channel, so alerts are stored but never sent"]


def test_an_empty_file_is_valid_but_warned_about(tmp_path: Path) -> None:
    warnings = config_warnings(load_config(write(tmp_path, ""), env={}))

    assert any(w.startswith("feeds: no feeds") for w in warnings)
    assert any(w.startswith("labs: no tracked labs") for w in warnings)
    assert any(w.startswith("alerts: no email or webhook channel") for w in warnings)


def test_a_fast_interval_is_valid_but_impolite(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [polling]
        interval = "30s"
        [[feeds]]
        url = "https://example.com/a"
        interval = "5s"
        """,
    )

    warnings = config_warnings(load_config(path, env={}))

    assert "polling.interval: 30s is impolite for public feeds (use 1m or more)" in warnings
    assert "feeds[0].interval: 5s is impolite for public feeds (use 1m or more)" in warnings


def test_a_password_over_an_unencrypted_connection_is_warned_about(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[alerts.email]]
        to = ["a@example.com"]
        from = "t@example.com"
        host = "smtp.example.com"
        starttls = false
        username = "tw"
        password = "${SMTP_PASSWORD}"
        """,
    )

    warnings = config_warnings(load_config(path, env={"SMTP_PASSWORD": "p"}))

    assert "alerts.email[0]: the password would be sent unencrypted (starttls and ssl off)" in warnings


def test_the_summary_shows_private_addresses_and_the_alert_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [polling]
        allow_private = ["10.0.0.0/8"]
        [alerts]
        on = ["loss", "gain"]
        rumoured = true
        """,
    )

    summary = summarize(load_config(path, env={}))

    assert "private addresses allowed for 10.0.0.0/8" in summary
    assert "on loss, gain" in summary and "rumours included" in summary
