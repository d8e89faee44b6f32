#!/usr/bin/env bash
# Install what the bench tests need from Debian: rabbitmq-server (with Erlang and epmd) and
# nats-server (the routed bus). The packages' own system services are kept from starting
# (policy-rc.d exits 101): the bench runs its own isolated servers on 127.0.0.1, on ports of its own,
# in temporary folders.
set -euo pipefail
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && command -v nats-server >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-services: not root, cannot apt-get install rabbitmq-server nats-server; the bench tests will be skipped" >&2
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
apt-get install -y -qq --no-install-recommends rabbitmq-server nats-server >/dev/null
# The package's post-install may leave an epmd daemon on the default port; the bench runs its own.
pkill -x epmd -u rabbitmq 2>/dev/null || true
echo "install-services: rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server) and nats-server $(dpkg-query -W -f='${Version}' nats-server) installed"
