"""Routing: the most specific rule wins; officials take turns when round-robin is on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_lifecycle import make_incident, wf  # noqa: F401 (the workflow fixture)

from monitor.catalog.organisations import organisation_id
from monitor.catalog.users import create_user
from monitor.context import Context
from monitor.incidents.lifecycle import act
from monitor.incidents.routing import route
from monitor.settings import RoutingRule


@pytest.mark.parametrize("topic, municipality, org, why", [
    ("health", "Дзержинск", "minzdrav", "правило для темы"),  # topic rule over the administration
    ("roads_transport", "Дзержинск", "adm-dzr", "администрация"),
    ("ecology_waste", None, "minecology", "региональный орган"),  # no place: the ministry
    ("business", None, "cur", "очередь ЦУР"),  # nothing fits
    ("business", "Кулебаки", "cur", "очередь ЦУР"),  # no administration configured
])
def test_defaults_of_the_demo_configuration(settings, topic, municipality, org, why):
    key, reason = route(settings, topic, municipality)
    assert key == org and why in reason


def test_specific_rules_beat_general_ones(settings):
    rules = (RoutingRule("minzhkh", topic="housing", municipality="Дзержинск"),
             RoutingRule("adm-arz", municipality="Дзержинск"),
             *settings.routing)
    s = replace(settings, routing=rules)
    assert route(s, "housing", "Дзержинск")[0] == "minzhkh"
    assert route(s, "roads_transport", "Дзержинск")[0] == "adm-arz"
    assert route(s, "housing", "Арзамас")[0] == "adm-arz"  # its administration


def test_round_robin_gives_officials_turns(wf, settings, clock):  # noqa: F811
    ctx = Context(wf.db, replace(settings, workflow=replace(settings.workflow, round_robin=True)),
                  clock, wf.pipeline)
    users = [create_user(ctx.db, f"dzr{n}", "official-pass", "official", clock.now(),
                         organisation="adm-dzr") for n in range(3)]
    create_user(ctx.db, "nn1", "official-pass", "official", clock.now(), organisation="adm-nn")
    dzr = str(organisation_id(ctx.db, "adm-dzr"))
    picked = []
    for _ in range(4):
        i = make_incident(ctx)
        picked.append(act(ctx, i, "assign", "moderator", organisation_id=dzr)["assignee_id"])
    assert picked == [users[0], users[1], users[2], users[0]]


def test_without_round_robin_nobody_is_picked(wf):  # noqa: F811
    create_user(wf.db, "dzr0", "official-pass", "official", wf.clock.now(), organisation="adm-dzr")
    i = make_incident(wf)
    assert act(wf, i, "assign", "moderator", organisation_id="3")["assignee_id"] is None
