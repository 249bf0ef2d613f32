"""`nginx -t` on docker-compose.yml's nginx config (deploy/compose/nginx.conf), with real nginx.
The gateways' Compose names resolve only on the Compose network: a copy names loopback instead."""
import re
import subprocess

import pytest

from tests.support import ROOT
from tests.support.processes import free_port, installed, nginx_config

pytestmark = pytest.mark.e2e


def test_nginx_accepts_the_compose_config(tmp_path):
    site = ROOT / "deploy" / "compose" / "nginx.conf"
    servers = re.findall(r"^\s*(server [\w.-]+:\d+;)", site.read_text(), re.M)
    assert len(servers) == 2, servers
    loopback = {server: f"server 127.0.0.1:{free_port()};" for server in servers}
    config = nginx_config("unused", free_port(), tmp_path, site_file=site, **loopback)
    result = subprocess.run([installed("nginx", "nginx"), "-t", "-p", str(tmp_path), "-c", str(config)],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
