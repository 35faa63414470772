#!/bin/sh
# Makes Debian's chromium available at /usr/bin/chromium for the browser tests (driven by
# playwright-core). Installs it with apt-get when it is missing and we are root; otherwise says
# why not. Always exits 0: without chromium the browser tests skip with a printed reason.
CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) at $CHROMIUM"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "ensure-chromium: $CHROMIUM is missing and this is not root; install it with: sudo apt-get install -y chromium"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available (not Debian/Ubuntu); browser tests will skip"
  exit 0
fi

echo "ensure-chromium: installing Debian chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
if apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }; then
  if [ -x "$CHROMIUM" ]; then
    echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
  else
    echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing; browser tests will skip"
  fi
else
  echo "ensure-chromium: apt-get could not install chromium; browser tests will skip"
fi
exit 0
