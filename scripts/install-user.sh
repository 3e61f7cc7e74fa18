#!/usr/bin/env bash
# Creates the system account the daemons run as after dropping root (Security { user } in the
# shipped conf): user and group "ecuser", no login shell, no home directory. Idempotent: an
# existing user or group is left as it is. Run as root.
#
#   bash scripts/install-user.sh [NAME]     (default ecuser)
set -euo pipefail
name=${1:-ecuser}
if [ "$(id -u)" != 0 ]; then
  echo "install-user: must run as root to create the '$name' account" >&2
  exit 1
fi
if ! getent group "$name" >/dev/null; then
  groupadd --system "$name"
  echo "install-user: created group $name"
fi
if ! getent passwd "$name" >/dev/null; then
  useradd --system --gid "$name" --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "ecmta daemons" "$name"
  echo "install-user: created user $name"
else
  echo "install-user: user $name present ($(id "$name"))"
fi
