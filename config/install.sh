#!/usr/bin/env bash
# Installs logseal as a systemd service from a checkout: builds it, copies it to /opt/logseal,
# creates the logseal user, the config in /etc/logseal and the unit. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

npm ci
npm run build
npm prune --omit=dev

id logseal >/dev/null 2>&1 || useradd --system --home-dir /var/lib/logseal --shell /usr/sbin/nologin logseal
install -d -m 0755 /opt/logseal /etc/logseal
cp -r dist node_modules package.json /opt/logseal/
[ -f /etc/logseal/logseal.yaml ] || install -m 0640 -g logseal config/example.yaml /etc/logseal/logseal.yaml
[ -f /etc/logseal/logseal.env ] || install -m 0600 /dev/null /etc/logseal/logseal.env
install -m 0644 config/logseal.service /etc/systemd/system/logseal.service
node /opt/logseal/dist/agent/cli/main.js validate -c /etc/logseal/logseal.yaml >/dev/null \
  || echo "install.sh: edit /etc/logseal/logseal.yaml (and secrets in /etc/logseal/logseal.env), then: systemctl enable --now logseal" >&2
systemctl daemon-reload
echo "installed. Configure /etc/logseal/logseal.yaml, put ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET in /etc/logseal/logseal.env, then: systemctl enable --now logseal"
