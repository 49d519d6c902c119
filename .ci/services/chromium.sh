# Headless Chromium for the status page test (test/status/**), sourced by .ci/run.
# Debian's chromium ships /usr/bin/chromium; the test drives it with
# playwright-core (no browser download) using --headless --no-sandbox.
apt_install chromium
export_bin CHROMIUM_BIN chromium /usr/bin/chromium
