# DNS discovery tests (test/dns/**): bind9's named as an authoritative server,
# nsupdate to change records mid-test. Sourced by .ci/run (set -euo pipefail).
#
# The tests start their own named on a free 127.0.0.1 port with a temporary
# config directory (test/helpers/dns-server.ts) and stop it; the system service
# is not needed (apt_install keeps bind9's postinst from starting one).
apt_install bind9 bind9-dnsutils
export_bin NAMED_BIN named /usr/sbin/named -v
export_bin NSUPDATE_BIN nsupdate /usr/bin/nsupdate -V
