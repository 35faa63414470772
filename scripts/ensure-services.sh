#!/bin/sh
# Makes what the test suite needs available on this machine, or says why it cannot.
# Always exits 0: a test whose service is missing skips with a printed reason; CI (CI=true)
# then fails in scripts/test.mjs if anything skipped for a missing service.
here=$(dirname "$0")
sh "$here/ensure-chromium.sh"

# mosquitto for the MQTT 5 / shared-subscription tests (the embedded aedes broker covers the rest).
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
  if (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    echo "ensure-services: mosquitto is listening on 127.0.0.1:1883"
  else
    echo "ensure-services: starting mosquitto on 127.0.0.1:1883"
    conf=/etc/mosquitto/mosquitto.conf
    if [ -f "$conf" ]; then mosquitto -d -c "$conf"; else mosquitto -d -p 1883; fi
  fi
else
  echo "ensure-services: mosquitto is not installed (apt-get install -y mosquitto); tests that need it will skip"
fi
exit 0
