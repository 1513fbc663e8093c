#!/usr/bin/env bash
# Debian packages the project needs, installed only when missing (make calls this).
#   run:  node + npm (the front-end build)
#   test: also Chromium (browser tests) and CJK fonts (so pages render Chinese as people see it)
set -euo pipefail
want=()
command -v node >/dev/null || want+=(nodejs)
command -v npm >/dev/null || want+=(npm)
if [ "${1:-}" = "test" ]; then
  [ -x /usr/bin/chromium ] || want+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || want+=(fonts-noto-cjk)
fi
[ ${#want[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${want[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
