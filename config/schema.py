"""The shape of ``talentwatch.toml``: what each key means and which values it takes.

Every model is frozen, so a running daemon can hand its settings to many
tasks and swap them whole on reload without anyone seeing half an edit; and
``extra="forbid"``, so a misspelt key is reported instead of silently
ignored. Durations arrive as text ("15m") and leave as float seconds.

The loader (``config.loader``) reads the file, substitutes ``${VAR}`` and
turns validation errors into "key.path: problem" lines; these models hold
the rules themselves, so settings built in code obey the same ones.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.cron import digest_trigger, zone
from config.durations import format_duration, parse_duration

MIB = 1024 * 1024
DEFAULT_DB_PATH = Path("data/talentwatch.db")
_HOSTNAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True)


# ── value types ──────────────────────────────────────────────────────────────


def _duration(value: Any) -> float:
    return parse_duration(value)


def _at_least(minimum: float) -> AfterValidator:
    def check(seconds: float) -> float:
        if seconds < minimum:
            raise ValueError(f"{format_duration(seconds)} is too short: the minimum is {format_duration(minimum)}")
        return seconds

    return AfterValidator(check)


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("must be longer than 0s")
    return seconds


def _no_bool(value: Any) -> Any:
    # TOML keeps booleans and numbers apart; pydantic's lax mode would not.
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


def _bool(value: Any) -> Any:
    # "true"/"false" may come from a ${VAR}; "yes", 1 or "on" are more likely slips.
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        shown = "a table" if isinstance(value, dict) else "an array" if isinstance(value, list) else repr(value)
        raise ValueError(f"expected true or false, got {shown}")
    return value


def _one_or_many(value: Any) -> Any:
    # `to = "a@example.com"` is what people write for a single recipient.
    return (value,) if isinstance(value, str) else value


def _http_url(value: str) -> str:
    url = value.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{value!r} is not an http(s) URL")
    if not parts.hostname:
        raise ValueError(f"{value!r} has no host name")
    if port == 0:
        raise ValueError(f"{value!r} has port 0")
    return url


def _address(value: str) -> str:
    _display_name, address = parseaddr(value)
    if not address or address.count("@") != 1 or " " in address:
        raise ValueError(f"{value!r} is not an email address")
    local, domain = address.split("@")
    if not local or not domain:
        raise ValueError(f"{value!r} is not an email address")
    return value.strip()


_RATE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _rate_limit(value: Any) -> Any:
    """``"20/h"`` (at most 20 messages in any hour), ``"5/10m"``, or ``"off"``: (count, seconds) or None."""
    if value is None or isinstance(value, tuple):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a rate like \"20/h\" or \"off\"")
    text = value.strip().lower()
    if text in ("off", "none", "unlimited"):
        return None
    count, slash, per = text.partition("/")
    if not slash or not count.strip().isdigit() or int(count) < 1:
        raise ValueError(f"{value!r} is not a rate: write a count per period, like \"20/h\" or \"5/10m\"")
    per = per.strip()
    try:
        seconds = _RATE_UNITS[per] if per in _RATE_UNITS else parse_duration(per)
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    if seconds <= 0:
        raise ValueError(f"{value!r}: the period must be longer than 0s")
    return (int(count), float(seconds))


Bool = Annotated[bool, BeforeValidator(_bool)]
Duration = Annotated[float, BeforeValidator(_duration), AfterValidator(_positive)]
Interval = Annotated[float, BeforeValidator(_duration), _at_least(1.0)]
Number = Annotated[float, BeforeValidator(_no_bool)]
Count = Annotated[int, BeforeValidator(_no_bool), Field(ge=1)]
Port = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=65535)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Address = Annotated[str, AfterValidator(_address)]
NonEmpty = Annotated[str, Field(min_length=1), AfterValidator(str.strip)]
RateLimit = Annotated[tuple[int, float] | None, BeforeValidator(_rate_limit)]


# ── sections ─────────────────────────────────────────────────────────────────


class StorageSettings(_Model):
    """Where the SQLite database lives.

    A relative path is taken from the config file's directory (the loader
    passes it as ``base_dir`` in the validation context), so the daemon
    finds the same database whatever directory it was started from.
    """

    path: Path = Field(default=DEFAULT_DB_PATH, validate_default=True)

    @field_validator("path", mode="after")
    @classmethod
    def _resolve(cls, path: Path, info: ValidationInfo) -> Path:
        if str(path).strip() in ("", "."):
            raise ValueError("must name a database file")
        path = path.expanduser()
        base = (info.context or {}).get("base_dir")
        if base is not None and not path.is_absolute():
            path = (Path(base) / path).resolve()
        return path


class PollingSettings(_Model):
    """How often and how politely feeds are fetched."""

    interval: Interval = 900.0
    concurrency: Count = 32
    timeout: Duration = 20.0
    allow_private: Bool | tuple[str, ...] = False
    max_bytes: Count = 15 * MIB
    per_host: Count = 2  # fetches at once to one host, so one site is never hammered

    @field_validator("allow_private", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        """``true``/``false``, or a list of the addresses, networks or hosts let through."""
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ValueError("expected true, false or a list of addresses, networks (CIDR) or host names")
        allowed: list[str] = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                shown = repr(item) if isinstance(item, str | int | float) else "a table or an array"
                raise ValueError(f"{shown} is not an address, a network (CIDR) or a host name")
            text = item.strip()
            try:
                allowed.append(str(ipaddress.ip_network(text, strict=False)))
            except ValueError:
                if not _HOSTNAME.fullmatch(text):
                    raise ValueError(f"{text!r} is not an address, a network (CIDR) or a host name") from None
                allowed.append(text.lower().rstrip("."))
        return tuple(allowed)


class ClassifySettings(_Model):
    """How entries are read: ``fulltext`` fetches the article page of entries whose headline and
    summary name a move but not both of its sides, at most ``fulltext_max_pages`` per feed and poll."""

    fulltext: Bool = True
    fulltext_max_pages: Count = 5


class FeedSettings(_Model):
    """One feed to poll; ``interval`` overrides ``polling.interval`` for it alone."""

    url: HttpUrl
    name: NonEmpty | None = None
    interval: Interval | None = None


class LabSettings(_Model):
    """A lab whose losses (and optionally gains) are alerted on."""

    name: NonEmpty
    aliases: Annotated[tuple[NonEmpty, ...], BeforeValidator(_one_or_many)] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The name then every alias, each once: what a matcher compares against."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))


class _ChannelOptions(_Model):
    """How often a channel may speak: a digest instead of single alerts, and a rate limit.

    ``digest`` ("daily 09:00", "weekly mon 09:00", "hourly" or a cron
    expression, read in ``timezone``) collects the period's alerts into one
    message. ``rate_limit`` ("20/h") holds alerts over the limit in the
    outbox until the window has room again; they are delayed, never dropped.
    """

    timezone: str = "UTC"
    digest: str | None = None
    rate_limit: RateLimit = None

    @field_validator("timezone", mode="after")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone(name)
        return name.strip()

    @field_validator("digest", mode="after")
    @classmethod
    def _schedule(cls, expression: str | None, info: ValidationInfo) -> str | None:
        if expression is None:
            return None
        digest_trigger(expression, info.data.get("timezone") or "UTC")
        return expression.strip()


class EmailChannel(_ChannelOptions):
    """An SMTP destination for alerts.

    ``ssl = true`` alone is enough for an implicit-TLS server: STARTTLS is
    then switched off and the port defaults to 465, because people rarely
    remember both, and asking for both is a mistake we report.
    """

    name: NonEmpty | None = None
    to: Annotated[tuple[Address, ...], BeforeValidator(_one_or_many), Field(min_length=1)]
    sender: Address = Field(alias="from")
    host: NonEmpty
    port: Port = 587
    starttls: Bool = True
    ssl: Bool = False
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    timeout: Duration = 30.0

    @model_validator(mode="before")
    @classmethod
    def _implicit_tls_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("ssl") is True:
            data = dict(data)
            data.setdefault("starttls", False)
            data.setdefault("port", 465)
        return data

    @model_validator(mode="after")
    def _one_tls(self) -> EmailChannel:
        if self.starttls and self.ssl:
            raise ValueError("starttls and ssl cannot both be true (ssl is for port 465, starttls for 587)")
        if self.password is not None and self.username is None:
            raise ValueError("password is set but username is not")
        return self

    @property
    def key(self) -> str:
        """A stable channel id: alerts and their delivery state are stored under it."""
        return self.name or "email:" + ",".join(self.to)


class WebhookChannel(_ChannelOptions):
    """An HTTP endpoint that receives alerts as JSON, or as Slack/Discord messages.

    Slack and Discord channels are read by people, so they are rate-limited
    by default (``SOCIAL_RATE_LIMIT``); ``rate_limit = "off"`` lifts it.
    """

    name: NonEmpty | None = None
    url: HttpUrl
    format: Literal["json", "slack", "discord"] = "json"
    secret: str | None = Field(default=None, repr=False)
    timeout: Duration = 10.0

    @model_validator(mode="before")
    @classmethod
    def _chat_rate_limit(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("format") in ("slack", "discord") and "rate_limit" not in data:
            data = dict(data) | {"rate_limit": SOCIAL_RATE_LIMIT}
        return data

    @property
    def key(self) -> str:
        """A stable channel id: alerts and their delivery state are stored under it."""
        # Slack and Discord put the secret in the URL's path: the key shows the host and a digest only.
        if self.name:
            return self.name
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:10]
        return f"webhook:{urlsplit(self.url).hostname}#{digest}"


Channel = EmailChannel | WebhookChannel
SOCIAL_RATE_LIMIT = "20/h"


class ExodusSettings(_Model):
    """One extra alert when a lab's losses within ``window`` reach ``count``."""

    count: Annotated[int, BeforeValidator(_no_bool), Field(ge=2)] = 3
    window: Duration = 30 * 86400.0


def _off_or_duration(value: Any) -> Any:
    """``"off"`` (or ``false``) turns a check off; anything else is a duration."""
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    return _positive(parse_duration(value))


class FeedHealthSettings(_Model):
    """An alert of its own when a feed fails poll after poll, or brings nothing new for long."""

    failures: Annotated[int, BeforeValidator(_no_bool), Field(ge=0)] = 10  # 0: no alert on failures
    silent: Annotated[float | None, BeforeValidator(_off_or_duration)] = 14 * 86400.0  # "off": no silence alert


def _template_folder(path: Path | None, info: ValidationInfo) -> Path | None:
    """A folder of Jinja2 templates replacing the shipped ones file by file; each must parse."""
    if path is None:
        return None
    import jinja2

    path = path.expanduser()
    base = (info.context or {}).get("base_dir")
    if base is not None and not path.is_absolute():
        path = (Path(base) / path).resolve()
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder")
    problems = []
    for template in sorted(path.glob("*.j2")):
        try:
            jinja2.Environment().parse(template.read_text("utf-8"))
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"{template.name} line {exc.lineno}: {exc.message}")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{template.name}: cannot be read ({exc})")
    if problems:
        raise ValueError("; ".join(problems))
    return path


class AlertSettings(_Model):
    """Which events become alerts, and where they go."""

    min_confidence: Annotated[Number, Field(ge=0.0, le=1.0)] = 0.5
    on: Annotated[tuple[Literal["loss", "gain"], ...], BeforeValidator(_one_or_many)] = ("loss",)
    rumoured: Bool = False
    max_age: Duration = 7 * 86400.0
    follow_up: Bool = False  # a second alert when a move alerted earlier is confirmed
    exodus: ExodusSettings | None = None
    feed_health: FeedHealthSettings | None = None
    templates: Annotated[Path | None, AfterValidator(_template_folder)] = None
    email: tuple[EmailChannel, ...] = ()
    webhook: tuple[WebhookChannel, ...] = ()

    @field_validator("on", mode="after")
    @classmethod
    def _dedupe(cls, on: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(on))

    @field_validator("min_confidence", mode="after")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a number between 0 and 1")
        return value

    @model_validator(mode="after")
    def _unique_channels(self) -> AlertSettings:
        """Alerts are stored per channel key, so two channels must never share one."""
        problems: list[str] = []
        seen: dict[str, str] = {}
        channels = [("email", i, c.key) for i, c in enumerate(self.email)]
        channels += [("webhook", i, w.key) for i, w in enumerate(self.webhook)]
        for kind, index, key in channels:
            where = f".{kind}[{index}]"
            if key in seen:
                problems.append(f"{where}: channel {key!r} is already defined at alerts{seen[key]} (give it a name)")
            else:
                seen[key] = where
        if problems:
            raise ValueError("\n".join(problems))
        return self


# ── the whole file ───────────────────────────────────────────────────────────


class Settings(_Model):
    """A whole, valid config file.

    ``path`` is the file it was loaded from (the daemon watches it for
    edits); it is set by the loader, and a ``path`` key in the file itself
    is refused as unknown.
    """

    path: Path = Field(default=Path("talentwatch.toml"), exclude=True)
    storage: StorageSettings = StorageSettings()
    polling: PollingSettings = PollingSettings()
    classify: ClassifySettings = ClassifySettings()
    feeds: tuple[FeedSettings, ...] = ()
    labs: tuple[LabSettings, ...] = ()
    alerts: AlertSettings = AlertSettings()

    @field_validator("feeds", mode="after")
    @classmethod
    def _unique_feeds(cls, feeds: tuple[FeedSettings, ...]) -> tuple[FeedSettings, ...]:
        _refuse_duplicates("feeds", "url", [_url_identity(feed.url) for feed in feeds])
        return feeds

    @field_validator("labs", mode="after")
    @classmethod
    def _unique_labs(cls, labs: tuple[LabSettings, ...]) -> tuple[LabSettings, ...]:
        _refuse_duplicates("labs", "name", [lab.name.casefold() for lab in labs])
        return labs

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Every alert channel, email ones first, each with a unique ``key``."""
        return (*self.alerts.email, *self.alerts.webhook)

    def interval_for(self, feed: FeedSettings) -> float:
        """Seconds between polls of ``feed``: its own interval, else the default."""
        return feed.interval if feed.interval is not None else self.polling.interval


def _url_identity(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def _refuse_duplicates(section: str, key: str, values: list[str]) -> None:
    """Raise one line per repeat, each a path relative to ``section`` ("[1].url: ...")."""
    first: dict[str, int] = {}
    problems = []
    for index, value in enumerate(values):
        if value in first:
            problems.append(f"[{index}].{key}: duplicate of {section}[{first[value]}]")
        else:
            first[value] = index
    if problems:
        raise ValueError("\n".join(problems))
