#!/usr/bin/env bash
# Install what the bench and testbed tests need from Debian: rabbitmq-server (with Erlang and epmd),
# nats-server (the routed bus), mariadb-server and redis-server (the testbed's databases and trace
# stores), openvswitch-switch (each compute site's switch, userspace datapath: lab/ovs.py), and
# chromium (tests/test_html.py opens the HTML reports in it, headless and offline). The packages' own
# system services are kept from starting (policy-rc.d exits 101): the bench and the testbed run their
# own isolated servers on loopback addresses, on ports of their own, in temporary folders.
set -euo pipefail
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && command -v nats-server >/dev/null && [ -x /usr/sbin/mariadbd ] && [ -x /usr/bin/redis-server ] && [ -x /usr/sbin/ovs-vswitchd ] && command -v chromium >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-services: not root, cannot apt-get install rabbitmq-server nats-server mariadb-server redis-server openvswitch-switch chromium; the bench, testbed and HTML report tests will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
backup=""
if [ -e "$policy" ]; then
    backup="$(mktemp)"
    cp -p "$policy" "$backup"
fi
restore() {
    if [ -n "$backup" ]; then mv "$backup" "$policy"; else rm -f "$policy"; fi
}
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' > "$policy"
chmod +x "$policy"
apt-get update -qq
apt-get install -y -qq --no-install-recommends rabbitmq-server nats-server mariadb-server redis-server openvswitch-switch chromium >/dev/null
# The package's post-install may leave an epmd daemon on the default port; the bench runs its own.
pkill -x epmd -u rabbitmq 2>/dev/null || true
# ... and the MariaDB package's post-install may have started its server; the testbed runs its own.
pkill -x mariadbd -u mysql 2>/dev/null || true
pkill -x redis-server -u redis 2>/dev/null || true
# openvswitch-switch's service is not started (no systemd; policy-rc.d): each site runs its own switch.
echo "install-services: rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server), nats-server $(dpkg-query -W -f='${Version}' nats-server), mariadb-server $(dpkg-query -W -f='${Version}' mariadb-server), redis-server $(dpkg-query -W -f='${Version}' redis-server), openvswitch-switch $(dpkg-query -W -f='${Version}' openvswitch-switch) and chromium $(dpkg-query -W -f='${Version}' chromium) installed"
