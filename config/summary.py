"""What ``check-config`` tells a user about a valid file: a summary and the doubts.

A file can be valid and still not do what its author meant (no channel, so
nothing is ever sent; a 10-second interval that gets the daemon banned).
Warnings say so without refusing the file; the summary shows what the
daemon will actually do, with every secret masked so it can be pasted into
a ticket or a log.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from config.durations import format_duration
from config.schema import EmailChannel, FeedHealthSettings, Settings, WebhookChannel

POLITE_INTERVAL = 60.0
MASK = "***"


def config_warnings(settings: Settings) -> list[str]:
    """Doubts about a valid config, each as "key.path: why it is probably not meant"."""
    warnings: list[str] = []
    polling = settings.polling
    if polling.interval < POLITE_INTERVAL:
        warnings.append(
            f"polling.interval: {format_duration(polling.interval)} is impolite for public feeds "
            f"(use {format_duration(POLITE_INTERVAL)} or more)"
        )
    for index, feed in enumerate(settings.feeds):
        if feed.interval is not None and feed.interval < POLITE_INTERVAL:
            warnings.append(
                f"feeds[{index}].interval: {format_duration(feed.interval)} is impolite for public feeds "
                f"(use {format_duration(POLITE_INTERVAL)} or more)"
            )
    if polling.timeout >= settings.polling.interval:
        warnings.append("polling.timeout: as long as the polling interval, so fetches of one feed may overlap")
    if polling.allow_private is True:
        warnings.append("polling.allow_private: any private or loopback address may be fetched")
    if not settings.feeds:
        warnings.append("feeds: no feeds, so nothing will be polled")
    if not settings.labs:
        warnings.append("labs: no tracked labs, so events are stored but nothing is alerted")
    if not settings.channels:
        warnings.append("alerts: no email or webhook channel, so alerts are stored but never sent")
    if not settings.alerts.on:
        warnings.append("alerts.on: empty, so nothing is alerted")
    if settings.alerts.min_confidence < 0.3:
        warnings.append(f"alerts.min_confidence: {settings.alerts.min_confidence:g} lets many false reports through")
    for index, email in enumerate(settings.alerts.email):
        if email.password is not None and not (email.starttls or email.ssl):
            warnings.append(f"alerts.email[{index}]: the password would be sent unencrypted (starttls and ssl off)")
    for index, hook in enumerate(settings.alerts.webhook):
        if hook.url.lower().startswith("http://") and hook.format != "json":
            warnings.append(f"alerts.webhook[{index}].url: {hook.format} webhooks are https; this one is http")
    return warnings


def summarize(settings: Settings) -> str:
    """The human summary ``check-config`` prints: what will be polled, tracked and sent where."""
    polling, alerts = settings.polling, settings.alerts
    lines = [
        f"config:   {settings.path}",
        f"database: {settings.storage.path}",
        f"polling:  every {format_duration(polling.interval)} by default, {polling.concurrency} at once "
        f"({polling.per_host} per host), timeout {format_duration(polling.timeout)}, "
        f"private addresses {_private(polling.allow_private)}",
        f"classify: {_fulltext(settings)}",
        f"feeds:    {len(settings.feeds)}",
    ]
    for feed in settings.feeds:
        every = format_duration(settings.interval_for(feed))
        label = f"{feed.name} <{feed.url}>" if feed.name else feed.url
        lines.append(f"  - every {every:>6}  {label}")
    lines.append(f"labs:     {len(settings.labs)}")
    for lab in settings.labs:
        aliases = f" (also: {', '.join(lab.aliases)})" if lab.aliases else ""
        lines.append(f"  - {lab.name}{aliases}")
    lines.append(f"channels: {len(settings.channels)}")
    for channel in settings.channels:
        key = channel.key
        if isinstance(channel, WebhookChannel) and channel.name is None:
            key = "webhook:" + _mask_url(channel.url, channel.format)
        lines.append(f"  - {key}: {_describe_channel(channel)}{_pacing(channel)}")
    kinds = ", ".join(alerts.on) if alerts.on else "nothing"
    rule = (
        f"alerts:   on {kinds}; confidence >= {alerts.min_confidence:g}; "
        f"rumours {'included' if alerts.rumoured else 'left out'}; "
        f"events up to {format_duration(alerts.max_age)} old"
    )
    lines.append(rule)
    if alerts.follow_up:
        lines.append("          a follow-up alert when a move alerted earlier is confirmed")
    if alerts.exodus is not None:
        lines.append(f"          exodus alert when a lab loses {alerts.exodus.count} people within "
                     f"{format_duration(alerts.exodus.window)}")
    if alerts.feed_health is not None:
        lines.append(f"          {_feed_health(alerts.feed_health)}")
    if alerts.templates is not None:
        lines.append(f"          templates from {alerts.templates} (the shipped ones fill the gaps)")
    return "\n".join(lines)


def _fulltext(settings: Settings) -> str:
    classify = settings.classify
    if not classify.fulltext:
        return "headlines and summaries only (full text off)"
    return (f"article pages read when a summary leaves a move half told, "
            f"at most {classify.fulltext_max_pages} per feed and poll")


def _feed_health(health: FeedHealthSettings) -> str:
    checks = []
    if health.failures:
        checks.append(f"{health.failures} failed polls in a row")
    if health.silent is not None:
        checks.append(f"{format_duration(health.silent)} without new entries")
    return "feed health alert after " + (" or ".join(checks) if checks else "nothing (both checks off)")


def _pacing(channel: EmailChannel | WebhookChannel) -> str:
    """A channel's digest schedule and rate limit, as the summary line's tail."""
    parts = []
    if channel.digest:
        parts.append(f"digest {channel.digest} ({channel.timezone})")
    if channel.rate_limit is not None:
        count, seconds = channel.rate_limit
        parts.append(f"at most {count} per {format_duration(seconds)}")
    return "; " + ", ".join(parts) if parts else ""


def _private(allow: bool | tuple[str, ...]) -> str:
    if allow is True:
        return "allowed"
    if allow is False or not allow:
        return "refused"
    return "allowed for " + ", ".join(allow)


def _describe_channel(channel: EmailChannel | WebhookChannel) -> str:
    if isinstance(channel, EmailChannel):
        tls = "ssl" if channel.ssl else "starttls" if channel.starttls else "no tls"
        login = ""
        if channel.username is not None:
            login = f", login {channel.username}" + (f" / {MASK}" if channel.password is not None else "")
        server = f"{channel.host}:{channel.port}"
        return f"email to {', '.join(channel.to)} from {channel.sender} via {server} ({tls}{login})"
    signed = f", signed with {MASK}" if channel.secret is not None else ""
    return f"{channel.format} webhook {_mask_url(channel.url, channel.format)}{signed}"


def _mask_url(url: str, format: str) -> str:
    """Slack and Discord URLs carry their token in the path, others may in the query or userinfo."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    if format in ("slack", "discord"):
        return f"{parts.scheme}://{host}/{MASK}"
    if parts.username or parts.password:
        host = f"{MASK}@{host}"
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{host}{parts.path}{query}"
