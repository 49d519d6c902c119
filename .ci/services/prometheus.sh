# Prometheus for test/otel/** (sourced by .ci/run with set -euo pipefail).
# Debian's prometheus ships /usr/bin/prometheus. The tests start their own
# instance on a free 127.0.0.1 port with a temp config and data dir, scraping
# the example's exporter; the packaged service is never started (policy-rc.d).
apt_install prometheus
export_bin PROMETHEUS_BIN prometheus /usr/bin/prometheus
