#!/bin/sh
# Check the unit with `systemd-analyze verify` and fail on any complaint,
# warnings included (verify prints them but still exits 0).
#
# Usage: sh systemd/verify.sh [UNIT] [--security]
#
# The unit's ExecStart binary (/usr/local/bin/hookd) is not installed on a
# build machine, and verify refuses a unit whose command is missing, so the
# check runs on a copy whose ExecStart points at a stand-in executable of the
# same name; everything else is verified as written. --security also prints
# `systemd-analyze security --offline=yes` for the same copy.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
unit="$here/hookd.service"
security=no
for arg in "$@"; do
  case "$arg" in
    --security) security=yes ;;
    -*) echo "verify.sh: unknown option $arg" >&2; exit 2 ;;
    *) unit=$arg ;;
  esac
done

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "verify.sh: systemd-analyze not found: apt-get install systemd" >&2
  exit 127
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexit 0\n' >"$work/hookd"
chmod 0755 "$work/hookd"
name=$(basename "$unit")
sed "s#^ExecStart=/usr/local/bin/hookd #ExecStart=$work/hookd #" "$unit" >"$work/$name"
if ! grep -q "^ExecStart=$work/hookd " "$work/$name"; then
  echo "verify.sh: $unit has no 'ExecStart=/usr/local/bin/hookd ...' line" >&2
  exit 1
fi

status=0
output=$(systemd-analyze verify "$work/$name" 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$output" ]; then
  # Name the real file, not the copy.
  printf '%s\n' "$output" | sed "s#$work/$name#$unit#g" >&2
  echo "verify.sh: systemd-analyze verify failed for $unit (exit $status)" >&2
  exit 1
fi
echo "systemd-analyze verify: $unit OK"

if [ "$security" = yes ]; then
  systemd-analyze security --offline=yes "$work/$name" 2>&1 | sed "s#$work/$name#$unit#g"
fi
