# Consul for the test/consul suites (sourced by .ci/run with set -euo pipefail).
# Consul is not in Debian 12: extract the vendored 1.8.7 .deb and export
# CONSUL_BIN. The tests start their own `consul agent -dev` on free loopback ports.
CONSUL_DEB="$REPO/../shared/vendor/consul_1.8.7+dfsg1-2+b3_amd64.deb"
if [[ ! -f "$CONSUL_DEB" ]]; then
  echo "FATAL: $CONSUL_DEB is missing (the Consul tests need it)" >&2
  exit 1
fi
command -v dpkg-deb >/dev/null || apt_install dpkg
CONSUL_DIR="$(mktemp -d)"
add_cleanup 'rm -rf "$CONSUL_DIR"'
dpkg-deb -x "$CONSUL_DEB" "$CONSUL_DIR"
# The vendored build, whatever else is on PATH.
CONSUL_BIN="$CONSUL_DIR/usr/bin/consul"
export_bin CONSUL_BIN consul "$CONSUL_BIN" version
