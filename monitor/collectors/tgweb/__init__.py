"""Public Telegram channels read through their web preview (t.me/s/<name>), no bot.

Source keys are ``tgweb:<username>`` (lower case); a post's external id is
``<username>_<post id>``, e.g. ``gorodets_live_1234``, and its url the permalink
https://t.me/<username>/<post id>.
"""

from __future__ import annotations

from monitor.catalog.channels import PLATFORM, channel_name, source_key
from monitor.settings import env

from .collector import USER_AGENT, TgWebCollector, TgWebOptions, options_from_settings
from .page import Page, WebPost, parse_page

__all__ = ["PLATFORM", "USER_AGENT", "Page", "TgWebCollector", "TgWebOptions", "WebPost",
           "channel_name", "make_collector", "parse_page", "source_key"]


def make_collector(source_row: dict, settings) -> TgWebCollector:
    """The collector for a sources row whose key is ``tgweb:<username>``.

    The runner passes the row's stored cursor (JSON-decoded) to `step`; the base URL
    comes from TSUR_TELEGRAM_WEB_URL, politeness and depth from [tgweb] in tsur.toml.
    """
    platform, _, name = str(source_row["key"]).partition(":")
    if platform != PLATFORM or not name:
        raise ValueError(f"{source_row['key']!r} is not a {PLATFORM}:<channel> source key")
    return TgWebCollector(
        source_row["key"], channel_name(name),
        base_url=env("TSUR_TELEGRAM_WEB_URL", getattr(settings, "environ", None) or {}),
        options=options_from_settings(settings),
    )
