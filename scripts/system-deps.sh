#!/usr/bin/env bash
# Debian packages the project needs, installed only when missing (make calls this).
#   run:  node + npm (the front-end build)
#   test: also Chromium (browser tests), CJK fonts (so pages render Chinese as people see it),
#         and the servers the scale-out tests start on loopback: Redis, PostgreSQL, nginx, coturn
set -euo pipefail
want=()
command -v node >/dev/null || want+=(nodejs)
command -v npm >/dev/null || want+=(npm)
if [ "${1:-}" = "test" ]; then
  [ -x /usr/bin/chromium ] || want+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || want+=(fonts-noto-cjk)
  command -v redis-server >/dev/null || want+=(redis-server)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || want+=(nginx-light)
  command -v turnserver >/dev/null || want+=(coturn)
fi
[ ${#want[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${want[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
