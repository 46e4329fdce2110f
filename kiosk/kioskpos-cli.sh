#!/bin/sh
# /usr/local/bin/kioskpos: `sudo kioskpos COMMAND` runs `pos COMMAND` as the service user with the kiosk's
# configuration. Running pos as root would leave root-owned files in /var/lib/kioskpos that the service then
# cannot open. Installed by kiosk/install.sh.
set -eu
POS=/opt/kioskpos/venv/bin/pos
CONFIG=/etc/kioskpos/kioskpos.toml
case $(id -un) in
    root) exec runuser -u kioskpos -- "$POS" --config "$CONFIG" "$@" ;;
    kioskpos) exec "$POS" --config "$CONFIG" "$@" ;;
    *)
        echo "kioskpos: run it with sudo (it runs pos as the kioskpos user)" >&2
        exit 1
        ;;
esac
