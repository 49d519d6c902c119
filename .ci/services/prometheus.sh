# Prometheus for test/otel/** (sourced by .ci/run with set -euo pipefail).
# Debian's prometheus ships /usr/bin/prometheus. The tests start their own
# instance on a free 127.0.0.1 port with a temp config and data dir, scraping
# the example's exporter; the packaged service is never started (policy-rc.d).
apt_install prometheus
PROMETHEUS_BIN="$(command -v prometheus || true)"
PROMETHEUS_BIN="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
if [[ ! -x "$PROMETHEUS_BIN" ]]; then
  echo "FATAL: prometheus is installed but no prometheus binary was found" >&2
  exit 1
fi
# Captured, not piped into head (SIGPIPE under pipefail; see consul.sh).
PROMETHEUS_VERSION="$("$PROMETHEUS_BIN" --version 2>&1)"
echo "${PROMETHEUS_VERSION%%$'\n'*}"
export PROMETHEUS_BIN
