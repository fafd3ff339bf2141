#!/bin/sh
# Install hookd as a systemd service.
#
# Usage: sudo sh systemd/install.sh [BINARY]
#
# BINARY defaults to dist/hookd (`deno task compile`). The script creates the
# system user and group `hookd`, installs the binary as /usr/local/bin/hookd,
# the unit as /etc/systemd/system/hookd.service and the example env file as
# /etc/hookd/hookd.env, which it never overwrites. The installed env file
# sets HOOKD_STATE_DIR and HOOKD_LOG_FILE (commented in the example, which
# a checkout uses as is), so that `hookd deliveries --env-file
# /etc/hookd/hookd.env` from an admin's shell, where systemd's
# STATE_DIRECTORY is not set, reads the daemon's store. Safe to run again to
# upgrade the binary and the unit.
#
# The installed env file holds no secret: the example's throwaway secrets
# are commented out, and the admin gives each endpoint its own, in the env
# file or (better) as a systemd credential (README, "Secrets"). The env file
# is root:hookd, mode 0640, so the daemon
# (user hookd) can read it but not change it, and no one else can read it.
# hookd refuses to start when the file is readable by other users or
# writable by its group.
#
# DESTDIR=/some/dir installs into that directory instead of / and skips the
# steps that need root and a running system (user, ownership, systemctl):
# for packaging and tests.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-"$here/../dist/hookd"}
destdir=${DESTDIR:-}

die() {
  echo "install.sh: $*" >&2
  exit 1
}

[ -f "$binary" ] || die "$binary not found: build it with 'deno task compile', or pass the binary's path"
[ -x "$binary" ] || die "$binary is not executable: chmod +x it, or pass the compiled binary"
if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo sh $0), or set DESTDIR to install into a directory"
fi

if [ -z "$destdir" ]; then
  if ! getent group hookd >/dev/null; then
    groupadd --system hookd
    echo "created group hookd"
  fi
  if ! getent passwd hookd >/dev/null; then
    # Its home is the state directory systemd creates, so a deploy hook's
    # ~/.ssh lives there, private to hookd.
    useradd --system --gid hookd --no-create-home --home-dir /var/lib/hookd \
      --shell /usr/sbin/nologin --comment "hookd webhook receiver" hookd
    echo "created user hookd"
  fi
fi

mkdir -p "$destdir/usr/local/bin" "$destdir/etc/systemd/system" "$destdir/etc/hookd"

# install(1) replaces the file instead of writing into it, so upgrading the
# binary of a running daemon does not fail with "Text file busy".
install -m 0755 "$binary" "$destdir/usr/local/bin/hookd"
echo "installed $destdir/usr/local/bin/hookd"
install -m 0644 "$here/hookd.service" "$destdir/etc/systemd/system/hookd.service"
echo "installed $destdir/etc/systemd/system/hookd.service"

env_file="$destdir/etc/hookd/hookd.env"
chmod 0750 "$destdir/etc/hookd"
if [ -z "$destdir" ]; then
  chown root:hookd "$destdir/etc/hookd"
fi
if [ -e "$env_file" ]; then
  echo "kept $env_file (never overwritten)"
else
  installed_env=$(mktemp)
  trap 'rm -f "$installed_env"' EXIT
  sed -e 's|^#HOOKD_LOG_FILE=.*$|HOOKD_LOG_FILE=/var/log/hookd/hookd.log|' \
    -e 's|^#HOOKD_STATE_DIR=.*$|HOOKD_STATE_DIR=/var/lib/hookd|' \
    -e 's|^\(HOOKD_[A-Z0-9_]*_SECRET\(_PREVIOUS\)\{0,1\}\)=.*$|#\1=|' \
    -e 's|^\(HOOKD_ADMIN_TOKEN\)=.*$|#\1=|' "$here/hookd.env" >"$installed_env"
  grep -q '^HOOKD_STATE_DIR=/var/lib/hookd$' "$installed_env" &&
    grep -q '^HOOKD_LOG_FILE=/var/log/hookd/hookd.log$' "$installed_env" ||
    die "$here/hookd.env lacks the #HOOKD_STATE_DIR= and #HOOKD_LOG_FILE= lines to set"
  ! grep -Eq '^(HOOKD_[A-Z0-9_]*_SECRET(_PREVIOUS)?|HOOKD_ADMIN_TOKEN)=' "$installed_env" ||
    die "$here/hookd.env sets a secret the installed file would keep"
  if [ -z "$destdir" ]; then
    install -m 0640 -o root -g hookd "$installed_env" "$env_file"
  else
    install -m 0640 "$installed_env" "$env_file"
  fi
  echo "installed $env_file (mode 0640)"
fi

active=no
if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl is-active --quiet hookd && active=yes
fi

cat <<EOF

Next steps:
  1. Edit /etc/hookd/hookd.env: endpoints and hooks. Give each endpoint its
     secret as a credential (HOOKD_GITHUB_SECRET_FILE=github and
     LoadCredentialEncrypted= in systemctl edit hookd; see README) or as
     HOOKD_GITHUB_SECRET= in the env file (openssl rand -hex 32).
  2. Check it:  hookd check --env-file /etc/hookd/hookd.env
  3. Start it:  systemctl enable --now hookd
  4. Watch it:  systemctl status hookd; tail -f /var/log/hookd/hookd.log
After editing the env file later: systemctl reload hookd
A hook that writes outside /var/lib/hookd needs ReadWritePaths= in a drop-in
(systemctl edit hookd); see the comments in the unit.
EOF
if [ "$active" = yes ]; then
  echo "hookd is running the old binary: systemctl restart hookd"
fi
