"""deploy/: the systemd units, the environment file, the server tsur.toml and the nginx
example stay valid and agree with the code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from monitor.clock import SystemClock
from monitor.context import Context
from monitor.settings import ENVIRONMENT, load_settings
from monitor.store import open_db
from monitor.web.app import create_app

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
SERVICES = [u for u in UNITS if u.suffix == ".service"]
LONG_RUNNING = [u for u in SERVICES if u.name != "tsur-backup.service"]
INSTALLED_TSUR = "/opt/tsur/venv/bin/tsur"
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes",
             "ReadWritePaths=/var/lib/tsur", "CapabilityBoundingSet=", "User=tsur",
             "EnvironmentFile=/etc/tsur/tsur.env")


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd); units not verified")
    tsur = shutil.which("tsur") or str(Path(sys.executable).parent / "tsur")
    for unit in UNITS:  # the installed path replaced by this machine's tsur
        (tmp_path / unit.name).write_text(unit.read_text(encoding="utf-8").replace(
            INSTALLED_TSUR, tsur), encoding="utf-8")
    result = subprocess.run([analyze, "verify", "--man=no", *sorted(map(str, tmp_path.iterdir()))],
                            capture_output=True, text=True, timeout=120)
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if str(tmp_path) in line or "tsur-" in line]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_every_service_is_hardened_and_reads_its_secrets_from_the_environment_file(unit):
    text = unit.read_text(encoding="utf-8")
    for option in HARDENING:
        assert f"\n{option}" in text, f"{unit.name} lacks {option}"
    assert f"ExecStart={INSTALLED_TSUR} " in text and "--log-format json" in text


@pytest.mark.parametrize("unit", LONG_RUNNING, ids=lambda p: p.name)
def test_long_running_services_check_first_and_restart(unit):
    text = unit.read_text(encoding="utf-8")
    assert f"ExecStartPre={INSTALLED_TSUR} check" in text
    assert re.search(r"^Restart=(always|on-failure)$", text, re.M)
    assert "WantedBy=multi-user.target" in text


def test_the_backup_timer_starts_the_backup_service_every_day():
    timer = (DEPLOY / "systemd" / "tsur-backup.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* " in timer and "Persistent=true" in timer
    assert "db backup" in (DEPLOY / "systemd" / "tsur-backup.service").read_text(encoding="utf-8")


def test_the_environment_file_names_only_variables_tsur_reads():
    names = set(re.findall(r"^#?\s*(TSUR_[A-Z0-9_]+)=", (DEPLOY / "tsur.env.example").read_text(
        encoding="utf-8"), re.M))
    known = {v.name for v in ENVIRONMENT}
    assert {"TSUR_SECRET_KEY", "TSUR_SECURE_COOKIES", "TSUR_TRUSTED_PROXIES"} <= names
    assert names - known == {"TSUR_VK_TOKEN_ADM_DZR"}, "only an organisation's own token is free"


def test_the_server_configuration_loads(tmp_path):
    settings = load_settings(DEPLOY / "tsur.toml.example", environ={})
    assert str(settings.database) == "/var/lib/tsur/tsur.db"
    assert settings.backup_dir == Path("/var/lib/tsur/backups") and settings.backups.keep == 14


def test_nginx_forwards_the_paths_the_app_serves(tmp_path):
    nginx = (DEPLOY / "nginx" / "tsur.conf").read_text(encoding="utf-8")
    settings = load_settings(None, environ={"TSUR_DB": str(tmp_path / "t.db")})
    client = TestClient(create_app(Context(open_db(settings.database), settings, SystemClock()),
                                   "k"))
    for location in re.findall(r"location = (/[\w/]+)", nginx):
        answer = client.get(location)  # 405 for the webhooks, which take POST
        assert answer.status_code != 404, f"nginx names {location}, which the app does not serve"
    assert {"/vk/callback", "/telegram/webhook", "/metrics"} <= set(
        re.findall(r"location = (/[\w/]+)", nginx))
    assert "X-Forwarded-Proto" in nginx and "ssl_certificate" in nginx


def test_alerts_and_the_dashboard_name_only_metrics_tsur_exposes(tmp_path):
    settings = load_settings(None, environ={"TSUR_DB": str(tmp_path / "t.db")})
    client = TestClient(create_app(Context(open_db(settings.database), settings, SystemClock()),
                                   "k"))
    exposed = set(re.findall(r"^# TYPE (\w+) (\w+)", client.get("/metrics").text, re.M))
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    names = {name for name, _ in exposed} | {
        name + suffix for name, kind in exposed for suffix in suffixes.get(kind, ())}
    for path in (DEPLOY / "prometheus" / "alerts.yml", DEPLOY / "grafana" / "tsur.json"):
        used = set(re.findall(r"\btsur_[a-z_]+", path.read_text(encoding="utf-8")))
        assert used and used <= names, f"{path.name} names {sorted(used - names)}"
