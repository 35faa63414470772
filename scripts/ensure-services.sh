#!/bin/sh
# Makes what the test suite needs available on this machine, or says why it cannot.
# Always exits 0: a test whose service is missing skips with a printed reason; CI (CI=true)
# then fails in scripts/test.mjs if anything skipped for a missing service.
# Runs under dash: no bash-isms (no /dev/tcp; ports are checked with node).
here=$(dirname "$0")
sh "$here/ensure-chromium.sh"

# mosquitto for the MQTT 5 / shared-subscription / Last Will / broker-restart tests of
# @psession/mqtt (the embedded aedes broker covers MQTT 3.1.1). The tests start their own private
# mosquitto on a free loopback port with a config they write, so only the binary is needed here:
# nothing is started. Installed like chromium: Debian's package, with apt-get, when missing.
find_mosquitto() {
  for candidate in /usr/sbin/mosquitto /usr/local/sbin/mosquitto /usr/bin/mosquitto; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  command -v mosquitto 2>/dev/null
}

MOSQUITTO=$(find_mosquitto)
if [ -n "$MOSQUITTO" ]; then
  echo "ensure-services: $("$MOSQUITTO" -h 2>/dev/null | head -n 1 || echo mosquitto) at $MOSQUITTO"
elif [ "$(id -u)" != "0" ]; then
  echo "ensure-services: mosquitto is missing and this is not root; install it with: sudo apt-get install -y mosquitto (the mosquitto tests will skip)"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-services: mosquitto is missing and apt-get is not available (not Debian/Ubuntu); the mosquitto tests will skip"
else
  echo "ensure-services: installing Debian mosquitto with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y --no-install-recommends mosquitto || { apt-get update && apt-get install -y --no-install-recommends mosquitto; }; then
    MOSQUITTO=$(find_mosquitto)
    if [ -n "$MOSQUITTO" ]; then
      echo "ensure-services: installed $("$MOSQUITTO" -h 2>/dev/null | head -n 1 || echo mosquitto) at $MOSQUITTO"
    else
      echo "ensure-services: apt-get finished but no mosquitto binary was found; the mosquitto tests will skip"
    fi
  else
    echo "ensure-services: apt-get could not install mosquitto; the mosquitto tests will skip"
  fi
fi

# redis-server for @psession/socketio's multi-node tests: they start a private redis-server on a
# free loopback port (no persistence), so only the binary is needed. Installed like mosquitto.
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  echo "ensure-services: $(redis-server --version 2>/dev/null | head -n 1)"
elif [ "$(id -u)" != "0" ]; then
  echo "ensure-services: redis-server is missing and this is not root; install it with: sudo apt-get install -y redis-server (the Socket.IO cluster tests will skip)"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-services: redis-server is missing and apt-get is not available; the Socket.IO cluster tests will skip"
else
  echo "ensure-services: installing Debian redis-server with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y --no-install-recommends redis-server || { apt-get update && apt-get install -y --no-install-recommends redis-server; }; then
    echo "ensure-services: installed $(redis-server --version 2>/dev/null | head -n 1)"
  else
    echo "ensure-services: apt-get could not install redis-server; the Socket.IO cluster tests will skip"
  fi
fi

# MQTT_URL points the mosquitto tests (except broker restarts, which need a private broker) at a
# broker of your own. Say whether it answers; start nothing.
if [ -n "$MQTT_URL" ]; then
  if command -v node >/dev/null 2>&1 && node -e '
    const u = new URL(process.env.MQTT_URL);
    const s = require("net").connect(Number(u.port || 1883), u.hostname);
    s.setTimeout(2000, () => process.exit(1));
    s.on("connect", () => { s.destroy(); process.exit(0); });
    s.on("error", () => process.exit(1));
  ' 2>/dev/null; then
    echo "ensure-services: MQTT_URL=$MQTT_URL accepts connections"
  else
    echo "ensure-services: MQTT_URL=$MQTT_URL does not accept connections; the mosquitto tests will fail"
  fi
fi
exit 0
