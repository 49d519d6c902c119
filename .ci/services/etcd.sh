# etcd for test/etcd/** (sourced by .ci/run with set -euo pipefail).
# Debian's etcd-server ships /usr/bin/etcd. The tests start their own etcd per
# suite on free 127.0.0.1 ports with a temp data dir (test/helpers/etcd-server.ts),
# so a packaged etcd service does not matter: without systemd (CI containers)
# the package's postinst does not start one, and if an init did start it, it
# would sit on 2379/2380 with /var/lib/etcd, which the tests never touch.
apt_install etcd-server
export_bin ETCD_BIN etcd /usr/bin/etcd
