"""`tsur bench web`: how fast the queue and incident pages answer over a big database.

`measure` asks the real app in-process (FastAPI TestClient) for the queue (unfiltered
and filtered) and incident pages as a logged-in moderator and as an official, over a
database monitor.incidents.synthetic filled, and reports p50/p95.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from monitor.context import Context
from monitor.incidents.synthetic import MODERATOR, OFFICIAL, PASSWORD, sample
from monitor.web.app import create_app
from nlp.labels import TOPICS


@dataclass
class Timing:
    page: str
    role: str
    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float


def _percentiles(samples: list[float]) -> tuple[float, float]:
    if len(samples) == 1:
        return samples[0], samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94]


def _login(client, login: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/login", data={"login": login, "password": PASSWORD,
                                         "csrf_token": token, "next": "/"},
                         follow_redirects=False)
    if answer.status_code != 303:
        raise RuntimeError(f"bench login as {login} failed ({answer.status_code})")


def _pages(role: str, rng: random.Random, names: list[str], own: list[int],
           max_id: int) -> dict[str, Callable[[], str]]:
    """Page name → a function giving the next URL to request (filters and ids vary)."""
    statuses = ["new", "assigned", "in_progress", "needs_info"]
    if role == "official":
        return {
            "queue": lambda: "/",
            "queue (filtered)": lambda: f"/?status={rng.choice(statuses)}&topic={rng.choice(TOPICS)}",
            "incident": lambda: f"/incidents/{rng.choice(own)}",
        }
    return {
        "queue": lambda: "/",
        "queue (filtered)": lambda: f"/?status={rng.choice(statuses)}&municipality={rng.choice(names)}",
        "incident": lambda: f"/incidents/{rng.randint(1, max_id)}",
    }


def measure(ctx: Context, requests: int = 200, *, seed: int = 2,
            progress: Callable[[str], None] = lambda s: None) -> list[Timing]:
    """Time the pages through the real app, in-process, as a moderator and an official."""
    from fastapi.testclient import TestClient  # only here: importing it warns on every command

    rng = random.Random(seed)
    picked = sample(ctx.db, requests)
    app = create_app(ctx, secret_key="bench")
    results: list[Timing] = []
    for role, login in (("moderator", MODERATOR), ("official", OFFICIAL)):
        with TestClient(app) as client:
            _login(client, login)

            pages = _pages(role, rng, picked.municipalities, picked.own, picked.max_id)
            for page, url in pages.items():
                progress(f"{role}: {page}")
                client.get(url())  # warm up caches before timing
                samples = []
                for _ in range(requests):
                    target = url()
                    began = time.perf_counter()
                    answer = client.get(target)
                    samples.append((time.perf_counter() - began) * 1000)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{target} answered {answer.status_code} for {role}")
                p50, p95 = _percentiles(samples)
                results.append(Timing(page, role, len(samples), round(p50, 1), round(p95, 1),
                                      round(max(samples), 1)))
    return results
