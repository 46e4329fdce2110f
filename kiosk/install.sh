#!/bin/bash
# KioskPOS kiosk installer for Raspberry Pi OS Bookworm (64-bit): one script, safe to run again.
#
#   sudo kiosk/install.sh [options]          install or update from this checkout
#   sudo kiosk/install.sh --uninstall        remove the service, rules and venv; keep config and data
#   sudo kiosk/install.sh --uninstall --purge   ...and the configuration, the journal and the user too
#   kiosk/install.sh --dry-run --root DIR    print every action; write files only under DIR
#
# Options:
#   --training             a training terminal: the acquirer simulator on 127.0.0.1:8443 and test cards
#   --settle-at HH:MM      settle automatically every day at HH:MM (kioskpos-settle.timer); "off" stops it
#   --screen NAME          7inch (default) or touch-display-2      } written into a new configuration only;
#   --rotation DEGREES     0 (default), 90, 180 or 270             } an existing one is yours and is never
#   --touch PROVIDER       mtdev (default), hidinput or sdl        } changed
#   --dry-run              change nothing: print what would be done (with --root, write files under DIR)
#   --root DIR             with --dry-run: the filesystem root to write into instead of /
#
# Running it twice changes nothing the second time. docs/deployment.md explains every step.
set -euo pipefail

readonly SERVICE_USER=kioskpos
readonly SERVICE_GROUPS=(video render input dialout lp)
readonly PREFIX=/opt/kioskpos
readonly VENV=$PREFIX/venv
readonly CONF_DIR=/etc/kioskpos
readonly DATA_DIR=/var/lib/kioskpos
readonly SIM_DIR=/var/lib/kioskpos-sim
readonly UNIT_DIR=/etc/systemd/system
readonly UNITS=(kioskpos.service kioskpos-settle.service kioskpos-settle.timer kioskpos-acquirer-sim.service)
# Exact, as every dependency is: "install pip==X" fails when X cannot be had, where "install --upgrade pip" without
# the index keeps the old pip and still exits 0.
readonly PIP_VERSION=26.3
# What the app needs from Debian: building pyscard, PC/SC, libusb for nfcpy and USB printers, and what the
# Kivy wheel's SDL2 loads to draw on the console (Mesa GLES/EGL, GBM, DRM) and to read touches (mtdev).
readonly APT_PACKAGES=(
    python3-venv python3-dev gcc
    pcscd libccid libpcsclite-dev libusb-1.0-0
    libgl1 libegl1 libgles2 libgbm1 libdrm2 libmtdev1
    fonts-wqy-microhei fonts-dejavu-core
)

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SRC_DIR
ROOT=""
DRY_RUN=0
UNINSTALL=0
PURGE=0
TRAINING=0
SETTLE_AT=""
SCREEN=7inch
ROTATION=0
TOUCH=mtdev
CHANGED=0       # anything the running service uses: restart it
UNITS_CHANGED=0 # unit files: systemctl daemon-reload
RULES_CHANGED=0 # udev rules: reload and re-trigger

die() {
    echo "install.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift ;;
        --uninstall) UNINSTALL=1 ;;
        --purge) PURGE=1 ;;
        --training) TRAINING=1 ;;
        --settle-at) [ $# -ge 2 ] || die "--settle-at needs HH:MM or off"; SETTLE_AT=$2; shift ;;
        --screen) [ $# -ge 2 ] || die "--screen needs a name"; SCREEN=$2; shift ;;
        --rotation) [ $# -ge 2 ] || die "--rotation needs degrees"; ROTATION=$2; shift ;;
        --touch) [ $# -ge 2 ] || die "--touch needs a provider"; TOUCH=$2; shift ;;
        -h | --help) usage 0 ;;
        *) die "unknown option $1 (see: $0 --help)" ;;
    esac
    shift
done

# Bad input: one line, nothing changed.
[ -z "$ROOT" ] || [ "$DRY_RUN" = 1 ] || die "--root is only for --dry-run"
[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || die "--purge goes with --uninstall"
case $SCREEN in 7inch | touch-display-2) ;; *) die "--screen must be 7inch or touch-display-2 (got $SCREEN)" ;; esac
case $ROTATION in 0 | 90 | 180 | 270) ;; *) die "--rotation must be 0, 90, 180 or 270 (got $ROTATION)" ;; esac
case $TOUCH in mtdev | hidinput | sdl) ;; *) die "--touch must be mtdev, hidinput or sdl (got $TOUCH)" ;; esac
if [ -n "$SETTLE_AT" ] && [ "$SETTLE_AT" != off ]; then
    [[ $SETTLE_AT =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] || die "--settle-at must be HH:MM (00:00-23:59) or off (got $SETTLE_AT)"
fi
if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" && pwd)
fi
[ "$DRY_RUN" = 1 ] || [ "$(id -u)" = 0 ] || die "run it as root (sudo), or with --dry-run"

# -- doing, or saying what would be done ------------------------------------------------------------------

say() { printf '%-9s %s\n' "$1" "$2"; }

# A command on the live system; with --dry-run it is only printed.
run() {
    local shown
    printf -v shown '%q ' "$@"
    say run "${shown% }"
    [ "$DRY_RUN" = 1 ] || "$@"
}

# Files are written under $ROOT: / for real, DIR for a dry run with --root, nowhere for a bare dry run.
writes_files() { [ "$DRY_RUN" = 0 ] || [ -n "$ROOT" ]; }

# put_file SOURCE DEST MODE [OWNER:GROUP]: install SOURCE as DEST unless it is already identical.
put_file() {
    local source=$1 dest=$2 mode=$3 owner=${4:-root:root} target="$ROOT$2"
    if [ -f "$target" ] && cmp -s "$source" "$target" && [ "$(stat -c %a "$target")" = "${mode#0}" ]; then
        say same "$dest"
    else
        say write "$dest (mode $mode)"
        CHANGED=1
        case $dest in
            "$UNIT_DIR"/*) UNITS_CHANGED=1 ;;
            /etc/udev/*) RULES_CHANGED=1 ;;
        esac
        if writes_files; then
            mkdir -p "$(dirname "$target")"
            install -m "$mode" "$source" "$target.kioskpos-new"
            mv -f "$target.kioskpos-new" "$target"
        fi
    fi
    set_owner "$dest" "$owner"
}

# put_text DEST MODE [OWNER:GROUP] < text
put_text() {
    local tmp
    tmp=$(mktemp)
    cat >"$tmp"
    put_file "$tmp" "$@"
    rm -f "$tmp"
}

# make_dir DIR MODE [OWNER:GROUP]
make_dir() {
    local dir=$1 mode=$2 owner=${3:-root:root} target="$ROOT$1"
    if [ -d "$target" ] && [ "$(stat -c %a "$target")" = "${mode#0}" ]; then
        say same "$dir/"
    else
        say mkdir "$dir/ (mode $mode)"
        if writes_files; then
            mkdir -p "$target"
            chmod "$mode" "$target"
        fi
    fi
    set_owner "$dir" "$owner"
}

# Ownership by the service user only makes sense on the live system: a dry run prints it.
set_owner() {
    local path=$1 owner=$2
    if [ "$DRY_RUN" = 1 ]; then
        [ "$owner" = root:root ] || say run "chown $owner $path"
    elif [ "$(stat -c %U:%G "$ROOT$path")" != "$owner" ]; then
        run chown "$owner" "$path"
    fi
}

# remove PATH: a file or directory written by this script.
remove() {
    local path=$1 target="$ROOT$1"
    if [ -e "$target" ] || [ -L "$target" ]; then
        say remove "$path"
        if writes_files; then rm -rf "$target"; fi
    fi
}

# A secret: 32 random bytes in hex, mode 0600, made once and never overwritten.
put_secret_once() {
    local dest=$1 target="$ROOT$1"
    if [ -e "$target" ]; then
        say keep "$dest (exists: never overwritten)"
    else
        say create "$dest (32 random bytes in hex, mode 0600)"
        if writes_files; then
            mkdir -p "$(dirname "$target")"
            (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$target.kioskpos-new" && echo >>"$target.kioskpos-new")
            chmod 0600 "$target.kioskpos-new"
            mv "$target.kioskpos-new" "$target"
        fi
    fi
    set_owner "$dest" "$SERVICE_USER:$SERVICE_USER"
}

systemctl_quiet() { [ "$DRY_RUN" = 0 ] && systemctl "$@" >/dev/null 2>&1; }

# systemd and udevd run only on a booted system, not in a Pi image being prepared or a chroot. There the files are
# written and the units enabled (both work offline); reloading, starting and re-triggering wait for the first
# boot, which does each of them anyway. The tests (tests/deploy/test_install_offline.py) rely on these two checks.
systemd_running() { [ -d /run/systemd/system ]; }
udevd_running() { [ -S /run/udev/control ]; }

# run_live systemd|udevd COMMAND...: a command for the running daemon; without it, say that it waits for the boot.
run_live() {
    local daemon=$1 shown
    shift
    if "${daemon}_running"; then
        run "$@"
    else
        printf -v shown '%q ' "$@"
        say skip "${shown% } ($daemon is not running here: done at the next boot)"
    fi
}

# -- steps --------------------------------------------------------------------------------------------------

install_packages() {
    local missing=() package
    if [ "$DRY_RUN" = 1 ]; then
        run apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
        return
    fi
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say same "apt packages: all ${#APT_PACKAGES[@]} present"
        return
    fi
    run apt-get update -q
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

create_user() {
    local group
    if [ "$DRY_RUN" = 1 ] || ! getent passwd "$SERVICE_USER" >/dev/null; then
        run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin \
            --comment "KioskPOS terminal" "$SERVICE_USER"
    else
        say same "user $SERVICE_USER"
    fi
    for group in "${SERVICE_GROUPS[@]}"; do
        if [ "$DRY_RUN" = 1 ]; then
            run usermod --append --groups "$group" "$SERVICE_USER"
        elif ! getent group "$group" >/dev/null; then
            say skip "group $group does not exist here"
        elif id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx "$group"; then
            say same "user $SERVICE_USER in group $group"
        else
            run usermod --append --groups "$group" "$SERVICE_USER"
        fi
    done
}

# The app's source fingerprint: reinstall into the venv only when the checkout changed.
source_stamp() {
    (cd "$SRC_DIR" && find app pyproject.toml -type f ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
        sha256sum | cut -d' ' -f1
}

install_venv() {
    local stamp
    stamp=$(source_stamp)
    if [ "$DRY_RUN" = 0 ] && [ -x "$VENV/bin/python" ] && [ -f "$VENV/.kioskpos-source" ] &&
        [ "$(cat "$VENV/.kioskpos-source")" = "$stamp" ]; then
        say same "$VENV (the app from $SRC_DIR, source $stamp)"
        return
    fi
    CHANGED=1
    [ -x "$VENV/bin/python" ] || run python3 -m venv "$VENV"
    run "$VENV/bin/pip" install --quiet --no-cache-dir "pip==$PIP_VERSION"
    # Not editable: the service must not depend on this checkout staying where it is.
    run "$VENV/bin/pip" install --quiet --no-cache-dir "$SRC_DIR"
    [ "$DRY_RUN" = 1 ] || check_installed_app
    # Stamped last: an install that failed half-way is done again next time, not taken as done.
    say stamp "$VENV/.kioskpos-source = $stamp"
    [ "$DRY_RUN" = 1 ] || echo "$stamp" >"$VENV/.kioskpos-source"
}

# The venv's own copy of the app holds every file of the checkout's app/ besides Python (kv screens, test keys...):
# a wheel lacking one installs without a word and the service dies at start, again and again.
check_installed_app() {
    local package file missing=()
    package=$(cd / && "$VENV/bin/python" -I -c 'import app, os; print(os.path.dirname(app.__file__))') ||
        die "the app does not import from $VENV"
    while IFS= read -r -d '' file; do
        [ -f "$package/${file#app/}" ] || missing+=("$file")
    done < <(cd "$SRC_DIR" && find app -type f ! -name '*.py' ! -name '*.pyc' -print0)
    [ ${#missing[@]} -eq 0 ] || die "the installed app lacks ${#missing[@]} file(s) of $SRC_DIR, e.g. ${missing[0]}"
    "$VENV/bin/pos" --help >/dev/null || die "$VENV/bin/pos does not run"
    say checked "$VENV: the app and all its data files"
}

install_units() {
    local unit
    for unit in "${UNITS[@]}"; do
        put_file "$SRC_DIR/systemd/$unit" "$UNIT_DIR/$unit" 0644
    done
    if [ "$SETTLE_AT" = off ]; then
        if [ -e "$ROOT$UNIT_DIR/kioskpos-settle.timer.d" ]; then
            remove "$UNIT_DIR/kioskpos-settle.timer.d"
            UNITS_CHANGED=1
        fi
    elif [ -n "$SETTLE_AT" ]; then
        printf '# Written by kiosk/install.sh --settle-at %s\n[Timer]\nOnCalendar=\nOnCalendar=*-*-* %s:00\n' \
            "$SETTLE_AT" "$SETTLE_AT" | put_text "$UNIT_DIR/kioskpos-settle.timer.d/time.conf" 0644
    fi
}

install_config() {
    local template=$SRC_DIR/kiosk/kioskpos.toml.example
    [ "$TRAINING" = 0 ] || template=$SRC_DIR/kiosk/kioskpos-training.toml.example
    # root owns the configuration; the service user may read it, not change it.
    make_dir "$CONF_DIR" 0750 "root:$SERVICE_USER"
    make_dir "$CONF_DIR/secrets" 0700 "$SERVICE_USER:$SERVICE_USER"
    make_dir "$CONF_DIR/pki" 0750 "root:$SERVICE_USER"
    if [ -e "$ROOT$CONF_DIR/kioskpos.toml" ]; then
        say keep "$CONF_DIR/kioskpos.toml (exists: yours, never changed)"
    else
        sed -e "s/^screen = \"7inch\"/screen = \"$SCREEN\"/" \
            -e "s/^rotation = 0 /rotation = $ROTATION /; s/^rotation = 0\$/rotation = $ROTATION/" \
            -e "s/^touch = \"mtdev\"/touch = \"$TOUCH\"/" "$template" |
            put_text "$CONF_DIR/kioskpos.toml" 0640 "root:$SERVICE_USER"
    fi
    put_secret_once "$CONF_DIR/secrets/master.key"
    put_secret_once "$CONF_DIR/secrets/token.key"
    make_dir "$DATA_DIR" 0700 "$SERVICE_USER:$SERVICE_USER"
}

install_device_rules() {
    put_file "$SRC_DIR/kiosk/udev/70-kioskpos.rules" /etc/udev/rules.d/70-kioskpos.rules 0644
    # DeviceAllow=char-ttyUSB/char-ttyACM/char-drm only match majors the kernel knows when the service starts.
    printf '# KioskPOS: register these device majors before kioskpos.service starts (its DeviceAllow= list).\n%s\n' \
        "drm" "usbserial" "cdc_acm" | put_text /etc/modules-load.d/kioskpos.conf 0644
    printf '# KioskPOS: nfcpy drives USB contactless readers itself; the kernel NFC drivers would take them.\n%s\n' \
        "blacklist pn533_usb" "blacklist pn533" "blacklist port100" "blacklist nfc" |
        put_text /etc/modprobe.d/kioskpos-nfc.conf 0644
    put_file "$SRC_DIR/kiosk/kioskpos-cli.sh" /usr/local/bin/kioskpos 0755
}

# consoleblank=0 on the kernel command line: the console never blanks the kiosk's screen.
console_never_blanks() {
    local cmdline="" candidate current updated tmp
    for candidate in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
        if [ -f "$ROOT$candidate" ]; then
            cmdline=$candidate
            break
        fi
    done
    if [ -z "$cmdline" ]; then
        say skip "no /boot/firmware/cmdline.txt (not a Raspberry Pi?): console blanking left as it is"
        return
    fi
    current=$(head -n1 "$ROOT$cmdline")
    if [[ " $current " == *" consoleblank=0 "* ]]; then
        say same "$cmdline (consoleblank=0)"
        return
    fi
    updated=$(printf '%s\n' "$current" | sed -E 's/(^| )consoleblank=[^ ]*//g; s/[[:space:]]+$//')" consoleblank=0"
    tmp=$(mktemp)
    printf '%s\n' "$updated" >"$tmp"
    tail -n +2 "$ROOT$cmdline" >>"$tmp"
    put_file "$tmp" "$cmdline" "$(stat -c %a "$ROOT$cmdline")"
    rm -f "$tmp"
    say note "the console blanking setting takes effect at the next reboot"
}

enable_units() {
    [ "$UNITS_CHANGED" = 0 ] || run_live systemd systemctl daemon-reload
    if [ "$DRY_RUN" = 1 ] || systemctl_quiet is-enabled getty@tty1.service; then
        run systemctl disable getty@tty1.service
    else
        say same "getty@tty1.service disabled (the app owns tty1)"
    fi
    enable_unit kioskpos.service
    [ "$TRAINING" = 0 ] || enable_unit kioskpos-acquirer-sim.service
    if [ "$SETTLE_AT" = off ]; then
        if [ "$DRY_RUN" = 1 ] || systemctl_quiet is-enabled kioskpos-settle.timer; then
            run systemctl disable kioskpos-settle.timer
            run_live systemd systemctl stop kioskpos-settle.timer
        fi
    elif [ -n "$SETTLE_AT" ]; then
        enable_unit kioskpos-settle.timer
    fi
    if [ "$RULES_CHANGED" = 1 ]; then
        run_live udevd udevadm control --reload
        run_live udevd udevadm trigger --subsystem-match=usb --subsystem-match=usbmisc --subsystem-match=backlight
    fi
}

enable_unit() {
    if [ "$DRY_RUN" = 0 ] && systemctl_quiet is-enabled "$1"; then
        say same "$1 enabled"
    else
        run systemctl enable "$1"
    fi
}

# Start (or restart after a change) once the configuration is complete; until then, say what is missing.
start_service() {
    local check
    if ! systemd_running; then
        say skip "starting the services (systemd is not running here: they are enabled and start at boot)"
        return
    fi
    [ "$TRAINING" = 0 ] || run systemctl start kioskpos-acquirer-sim.service
    if [ -n "$SETTLE_AT" ] && [ "$SETTLE_AT" != off ] && [ "$UNITS_CHANGED" = 1 ]; then
        run systemctl restart kioskpos-settle.timer # the new time
    fi
    if [ "$DRY_RUN" = 1 ]; then
        run runuser -u "$SERVICE_USER" -- "$VENV/bin/pos" --config "$CONF_DIR/kioskpos.toml" status
        run systemctl restart kioskpos.service
        return
    fi
    if systemctl_quiet is-active kioskpos.service && [ "$CHANGED" = 0 ]; then
        say same "kioskpos.service running"
        return
    fi
    if [ "$TRAINING" = 1 ]; then
        # The simulator writes its test PKI on its first start; the configuration names those files.
        for _ in $(seq 1 30); do
            [ -f "$SIM_DIR/secrets/master.key" ] && [ -f "$SIM_DIR/pki/ca.pem" ] && break
            sleep 1
        done
    fi
    if check=$(runuser -u "$SERVICE_USER" -- "$VENV/bin/pos" --config "$CONF_DIR/kioskpos.toml" status 2>&1); then
        run systemctl restart kioskpos.service
    else
        say wait "kioskpos.service not started: ${check##*$'\n'}"
        say wait "complete $CONF_DIR/kioskpos.toml, then: sudo systemctl start kioskpos"
    fi
}

uninstall() {
    local unit
    for unit in kioskpos-settle.timer kioskpos.service kioskpos-acquirer-sim.service; do
        if [ "$DRY_RUN" = 1 ] || systemctl_quiet cat "$unit"; then
            run systemctl disable "$unit"
            run_live systemd systemctl stop "$unit"
        fi
    done
    for unit in "${UNITS[@]}"; do
        remove "$UNIT_DIR/$unit"
        remove "$UNIT_DIR/$unit.d"
    done
    remove /etc/udev/rules.d/70-kioskpos.rules
    remove /etc/modules-load.d/kioskpos.conf
    remove /etc/modprobe.d/kioskpos-nfc.conf
    remove /usr/local/bin/kioskpos
    remove "$PREFIX"
    run_live systemd systemctl daemon-reload
    run systemctl enable getty@tty1.service
    run_live udevd udevadm control --reload
    if [ "$PURGE" = 1 ]; then
        # The journal is the shop's money records: only an explicit --purge deletes it.
        remove "$CONF_DIR"
        remove "$DATA_DIR"
        remove "$SIM_DIR"
        if [ "$DRY_RUN" = 1 ] || getent passwd "$SERVICE_USER" >/dev/null; then
            run userdel "$SERVICE_USER"
        fi
    else
        say keep "$CONF_DIR and $DATA_DIR (the configuration and the journal; --purge deletes them)"
    fi
    say note "consoleblank=0 stays on the kernel command line"
}

main() {
    [ "$DRY_RUN" = 0 ] || say note "dry run: nothing is run${ROOT:+, files are written under $ROOT}"
    if [ "$UNINSTALL" = 1 ]; then
        uninstall
        return
    fi
    install_packages
    create_user
    install_venv
    install_config
    install_units
    install_device_rules
    console_never_blanks
    enable_units
    start_service
}

main
