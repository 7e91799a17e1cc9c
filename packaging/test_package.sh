#!/usr/bin/env bash
# test_package.sh BUILD_DIR: installs BUILD_DIR's garcon_*.deb into this
# machine with apt-get (root), checks what it put in place (the garcon
# command, the service's user, state directory and unit, the unit's command
# serving as that user), builds tests/consumer/project and a `garcon new`
# project against it (find_package, pkg-config) and runs their flows, then
# purges the package. For a CI machine: it changes the system.
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
started=$(date +%s)

debs=("$build"/garcon_*.deb)
deb=${debs[0]}
[ -f "$deb" ] || { echo "no garcon_*.deb in $build (make package)" >&2; exit 1; }
dpkg-deb --info "$deb"
version=$(dpkg-deb --field "$deb" Version)
version=${version%-*}

user_existed=0
getent passwd garcon >/dev/null && user_existed=1
cleanup() {
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -q garcon >/dev/null || true
  if [ $user_existed -eq 0 ] && getent passwd garcon >/dev/null; then userdel garcon || true; fi
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
}
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb"

fail() { echo "FAIL: $*" >&2; exit 1; }
# The command, the headers, the CMake package and the pkg-config file.
[ -x /usr/bin/garcon ] || fail "no /usr/bin/garcon"
garcon --help | grep -q "new" || fail "garcon --help does not list new"
[ -f /usr/include/garcon/garcon.h ] || fail "no /usr/include/garcon/garcon.h"
[ -f /usr/include/garcon/version.h ] || fail "no /usr/include/garcon/version.h"
compgen -G "/usr/lib/*/cmake/garcon/garconConfig.cmake" >/dev/null || fail "no garconConfig.cmake"
[ "$(pkg-config --modversion garcon)" = "$version" ] || fail "pkg-config garcon is not $version"

# The service: its user, state directory, defaults file and unit.
getent passwd garcon >/dev/null || fail "no garcon user"
[ "$(stat -c '%U %a' /var/lib/garcon)" = "garcon 750" ] || fail "/var/lib/garcon: $(stat -c '%U %a' /var/lib/garcon)"
[ -f /etc/default/garcon ] || fail "no /etc/default/garcon"
unit=/lib/systemd/system/garcon.service
[ -f $unit ] || unit=/usr/lib/systemd/system/garcon.service
[ -f $unit ] || fail "no garcon.service"
grep -q '^User=garcon$' $unit || fail "the unit does not run as garcon"
grep -q '^StateDirectory=garcon$' $unit || fail "the unit has no state directory"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify $unit 2>&1 | tee "$build/unit-verify.log"
  if grep -q "garcon.service" "$build/unit-verify.log"; then fail "systemd-analyze verify"; fi
fi
# The unit's command, as the garcon user, with the options of the defaults
# file (on a free port): it serves, and keeps its state in /var/lib/garcon.
exec_start=$(sed -n 's/^ExecStart=//p' $unit)
# shellcheck disable=SC1091
GARCON_SERVER_OPTS="--bind 127.0.0.1 --port 0"
command=${exec_start//\$GARCON_SERVER_OPTS/$GARCON_SERVER_OPTS}
log=$build/service.log
# shellcheck disable=SC2086  # the command line is words
(cd /var/lib/garcon && exec setpriv --reuid=garcon --regid=garcon --clear-groups $command) > "$log" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log")
[ -n "$port" ] || { cat "$log"; fail "the service's command did not start"; }
python3 - "$port" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
health = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).read()
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/", data=json.dumps({"registrationStatus": "REGISTERED"}).encode(),
    headers={"X-Amz-Target": "SimpleWorkflowService.ListDomains",
             "Content-Type": "application/x-amz-json-1.0"})
domains = json.load(urllib.request.urlopen(request, timeout=10))
print("health:", health.decode().strip(), "| ListDomains:", domains)
PY
kill -TERM $server
wait $server || fail "the service's command did not stop cleanly on SIGTERM"
server=
[ "$(stat -c '%U' /var/lib/garcon/garcon.db)" = garcon ] || fail "garcon.db is not the garcon user's"
if [ -d /run/systemd/system ]; then
  systemctl start garcon.service
  sleep 1
  systemctl is-active garcon.service || fail "garcon.service is not active"
  systemctl stop garcon.service
fi

# Programs built against the installed package.
"$here/tests/consumer/run_consumer.sh" system - "$build/package-consumer" "$version"
echo "package test: OK in $(( $(date +%s) - started )) s"
