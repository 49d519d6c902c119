# etcd for test/etcd/** (sourced by .ci/run with set -euo pipefail).
# Debian's etcd-server ships /usr/bin/etcd. The tests start their own etcd per
# suite on free 127.0.0.1 ports with a temp data dir (test/helpers/etcd-server.ts),
# so a packaged etcd service does not matter: without systemd (CI containers)
# the package's postinst does not start one, and if an init did start it, it
# would sit on 2379/2380 with /var/lib/etcd, which the tests never touch.
apt_install etcd-server
ETCD_BIN="$(command -v etcd || true)"
ETCD_BIN="${ETCD_BIN:-/usr/bin/etcd}"
if [[ ! -x "$ETCD_BIN" ]]; then
  echo "FATAL: etcd-server is installed but no etcd binary was found" >&2
  exit 1
fi
"$ETCD_BIN" --version
export ETCD_BIN
