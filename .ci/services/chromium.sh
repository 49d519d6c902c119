# Headless Chromium for the status page test (test/status/**), sourced by .ci/run.
# Debian's chromium ships /usr/bin/chromium; the test drives it with
# playwright-core (no browser download) using --headless --no-sandbox.
apt_install chromium
CHROMIUM_BIN="$(command -v chromium || true)"
CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM_BIN" ]]; then
  echo "FATAL: chromium is installed but no chromium binary was found" >&2
  exit 1
fi
"$CHROMIUM_BIN" --version
export CHROMIUM_BIN
