# DNS discovery tests (test/dns/**): bind9's named as an authoritative server,
# nsupdate to change records mid-test. Sourced by .ci/run (set -euo pipefail).
#
# The tests start their own named on a free 127.0.0.1 port with a temporary
# config directory (test/helpers/dns-server.ts) and stop it; the system service
# is not needed (apt_install keeps bind9's postinst from starting one).
apt_install bind9 bind9-dnsutils
# /usr/sbin is not always on PATH in containers: tell the tests where the binaries are.
export NAMED_BIN="${NAMED_BIN:-$(command -v named || echo /usr/sbin/named)}"
export NSUPDATE_BIN="${NSUPDATE_BIN:-$(command -v nsupdate || echo /usr/bin/nsupdate)}"
"$NAMED_BIN" -v
[[ -x "$NSUPDATE_BIN" ]] || { echo "FATAL: nsupdate not found at $NSUPDATE_BIN" >&2; exit 1; }
