#!/usr/bin/env bash
# Makes sure the system packages the tests and the demo need are installed:
# the ZooKeeper server and HAProxy, from Debian. Installs them when it can (root on Debian),
# otherwise says in one sentence what to install and fails.
set -euo pipefail

missing=()
[ -f /usr/share/java/zookeeper.jar ] || missing+=(zookeeper)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prestoha needs these system packages and cannot install them here (needs root on Debian): ${missing[*]} - install them (e.g. 'sudo apt-get install -y ${missing[*]}') and run again." >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
