# shellcheck shell=bash
# Helpers shared by the huinong scripts.  Source it, don't run it:
#
#     . "$(dirname "$0")/lib.sh"
#
# It defines HUINONG_ROOT (the repository), HUINONG_VENV / HUINONG_PY (the
# virtualenv and its python) and these functions:
#
#   huinong_log MSG...        print "[huinong] MSG" on stderr
#   huinong_die MSG...        huinong_log then exit 1
#   huinong_venv              make .venv if missing, (re)install the project
#                             when setup.cfg / pyproject.toml changed
#   huinong_sao               fetch the sao web client into var/sao/www
#   huinong_apt_deps          apt-get install the Debian packages the tests
#                             need (no-op when all are there)
#   huinong_free_port         print a free TCP port on 127.0.0.1
#   huinong_pg_bindir         print the folder holding initdb / pg_ctl
#   huinong_pg_answers URI    true when a PostgreSQL server accepts URI
#   huinong_pg_private_start  initdb + start a throw-away cluster, export
#                             TRYTOND_DATABASE_URI; huinong_pg_private_stop
#                             stops and removes it (call it from a trap)

HUINONG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HUINONG_VENV=${HUINONG_VENV:-$HUINONG_ROOT/.venv}
HUINONG_PY=$HUINONG_VENV/bin/python
# The sao web client, served by trytond through `[web] root`.
HUINONG_SAO_DIR=$HUINONG_ROOT/var/sao/www
# Debian packages the tests need: "package:command" (the command, when
# there is one, is also accepted as proof that the package is there).
HUINONG_APT_PACKAGES=(
    chromium:chromium                   # headless browser for the sao tests
    fonts-noto-cjk:                     # Chinese glyphs in the browser / PDF
    libreoffice-writer-nogui:soffice    # .fodt -> PDF reports
    xvfb:Xvfb                           # X server for the desktop client
    xdotool:xdotool                     # types the desktop client's password
    python3-gi:                         # the desktop client: GTK 3 for
    python3-gi-cairo:                   #   Debian's python3 (the client's
    gir1.2-gtk-3.0:                     #   venv uses its site-packages)
    librsvg2-common:                    #   its SVG icons
    adwaita-icon-theme:                 #   and GTK's own icons
    locales:                            # zh_CN.UTF-8 for the client (localedef)
    dbus:dbus-run-session               # a session bus for Gtk.Application
    postgresql:                         # server, initdb, pg_dump/pg_restore
    poppler-utils:pdftotext             # the tests read the text of PDFs
    zbar-tools:zbarimg                  # the tests scan printed barcodes
)

huinong_log() { printf '[huinong] %s\n' "$*" >&2; }
huinong_die() { huinong_log "ERROR: $*"; exit 1; }

# The interpreter used to create the venv: python3.11 when available.
huinong_python() {
    command -v python3.11 || command -v python3 \
        || huinong_die "no python3.11 / python3 found"
}

# Create .venv when missing and install the project (editable, with the
# postgresql and test extras).  pip only runs again when setup.cfg or
# pyproject.toml is newer than the stamp file, so a re-run costs nothing.
huinong_venv() {
    local stamp=$HUINONG_VENV/.huinong-installed py
    if [[ ! -x $HUINONG_PY ]]; then
        py=$(huinong_python)
        huinong_log "creating $HUINONG_VENV with $py"
        "$py" -m venv "$HUINONG_VENV"
        rm -f "$stamp"
    fi
    if [[ ! -e $stamp || $HUINONG_ROOT/setup.cfg -nt $stamp
            || $HUINONG_ROOT/pyproject.toml -nt $stamp ]]; then
        huinong_log "installing the project into $HUINONG_VENV"
        (cd "$HUINONG_ROOT" \
            && "$HUINONG_PY" -m pip install --disable-pip-version-check -q \
                -e ".[postgresql,test]")
        touch "$stamp"
    fi
}

# Fetch the sao web client (npm package tryton-sao, newest 8.0.x: sao
# refuses a server of another major.minor) into var/sao/www.  The npm
# package is prebuilt, but its index.html loads node_modules/… relative to
# itself, so its dependencies are installed INSIDE the unpacked folder (a
# plain `npm install tryton-sao` hoists them one level up and sao says "not
# fully installed").  The version is written to var/sao/VERSION.
huinong_sao() {
    local base=$HUINONG_ROOT/var/sao tmp version
    if [[ -f $HUINONG_SAO_DIR/index.html && -f $HUINONG_SAO_DIR/.complete ]]
    then
        return 0
    fi
    command -v npm >/dev/null || huinong_die "npm is needed to fetch sao"
    mkdir -p "$base"
    tmp=$(mktemp -d "$base/.fetch.XXXXXX")
    huinong_log "fetching tryton-sao@8.0 into $HUINONG_SAO_DIR"
    (
        cd "$tmp"
        npm pack --silent "tryton-sao@${HUINONG_SAO_RANGE:-8.0}" >/dev/null
        tar -xzf tryton-sao-*.tgz
        cd package
        npm install --omit=dev --legacy-peer-deps --no-audit --no-fund \
            --loglevel=error >/dev/null
        # Empty files: sao asks for them and logs a 404/405 otherwise.
        touch custom.js custom.css
    ) || { rm -rf "$tmp"; huinong_die "fetching sao failed"; }
    version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
        "$tmp/package/package.json" | head -n1)
    rm -rf "$HUINONG_SAO_DIR"
    mv "$tmp/package" "$HUINONG_SAO_DIR"
    rm -rf "$tmp"
    echo "$version" >"$base/VERSION"
    touch "$HUINONG_SAO_DIR/.complete"
    huinong_log "sao $version is in $HUINONG_SAO_DIR"
}

# True when Debian package $1 is installed.
_huinong_dpkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null \
        | grep -q 'install ok installed'
}

# Install the Debian packages the tests need.  Checks first (dpkg, or the
# command on PATH) and runs `apt-get update` + `apt-get install` only when
# something is missing; as a non-root user it only says what is missing.
huinong_apt_deps() {
    local entry pkg cmd missing=() py
    for entry in "${HUINONG_APT_PACKAGES[@]}"; do
        pkg=${entry%%:*} cmd=${entry#*:}
        if [[ -n $cmd ]] && command -v "$cmd" >/dev/null; then continue; fi
        _huinong_dpkg_installed "$pkg" || missing+=("$pkg")
    done
    # Debian's own python3 needs python3-venv for `python3 -m venv`.
    py=$(huinong_python)
    if [[ $(readlink -f "$py") == /usr/bin/* ]] \
            && ! "$py" -c 'import ensurepip' 2>/dev/null; then
        missing+=("python3-venv")
    fi
    if (( ${#missing[@]} == 0 )); then
        return 0
    fi
    if (( EUID != 0 )); then
        huinong_log "missing Debian packages: ${missing[*]}"
        huinong_log "run as root: apt-get install ${missing[*]}"
        return 1
    fi
    command -v apt-get >/dev/null || huinong_die "no apt-get to install ${missing[*]}"
    huinong_log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
}

# A TCP port nobody listens on right now (the kernel picks it).
huinong_free_port() {
    local py=$HUINONG_PY
    [[ -x $py ]] || py=$(huinong_python)
    "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Folder holding initdb and pg_ctl: Debian keeps them out of PATH, in
# /usr/lib/postgresql/<major>/bin (the newest major wins).
huinong_pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
    if [[ -n $dir && -x $dir/initdb ]]; then
        echo "$dir"
    elif command -v initdb >/dev/null; then
        dirname "$(readlink -f "$(command -v initdb)")"
    else
        return 1
    fi
}

# True when a PostgreSQL server answers URI and lets us in (a psycopg
# connection to its `postgres` database, so authentication is checked too,
# not only the port as pg_isready does).
huinong_pg_answers() {
    "$HUINONG_PY" - "$1" <<'EOF' 2>/dev/null
import sys
import urllib.parse

import psycopg

uri = urllib.parse.urlsplit(sys.argv[1])
# Connect to the maintenance database, whatever path the URI carries.
dsn = urllib.parse.urlunsplit(uri._replace(path='/postgres', query=''))
psycopg.connect(dsn, connect_timeout=3).close()
EOF
}

# Start a private, throw-away PostgreSQL cluster in a temporary folder, in
# memory (/dev/shm) when there is one.  initdb refuses to run as root, so
# as root the cluster belongs to the `postgres` user (runuser).  It listens
# on 127.0.0.1 on a free port and on a unix socket inside the folder only,
# with durability switched off (it is deleted afterwards anyway): on these
# machines' disks a module update took 506 s on the system server (fsync
# on) and 67 s on such a cluster.  Sets HUINONG_PG_PRIVATE_DIR and exports
# TRYTOND_DATABASE_URI.  Always pair with huinong_pg_private_stop (trap).
huinong_pg_private_start() {
    local bindir dir port opts as=() tmp=${TMPDIR:-/tmp}
    bindir=$(huinong_pg_bindir) \
        || huinong_die "no PostgreSQL server binaries (apt-get install postgresql)"
    [[ -d /dev/shm && -w /dev/shm ]] && tmp=/dev/shm
    dir=$(mktemp -d "$tmp/huinong-pg.XXXXXX")
    HUINONG_PG_PRIVATE_DIR=$dir
    if (( EUID == 0 )); then
        chown postgres: "$dir"
        as=(runuser -u postgres --)
    fi
    port=$(huinong_free_port)
    huinong_log "starting a private PostgreSQL cluster in $dir on 127.0.0.1:$port"
    "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; huinong_die "initdb failed"; }
    # pg_ctl hands -o to a shell: keep it on one line.
    opts="-c listen_addresses=127.0.0.1 -p $port -k $dir"
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "$opts" start >/dev/null \
        || { cat "$dir/server.log" >&2; huinong_die "pg_ctl start failed"; }
    export TRYTOND_DATABASE_URI="postgresql://postgres@127.0.0.1:$port/"
}

huinong_pg_private_stop() {
    local dir=${HUINONG_PG_PRIVATE_DIR:-} bindir as=()
    [[ -n $dir && -d $dir ]] || return 0
    (( EUID == 0 )) && as=(runuser -u postgres --)
    if bindir=$(huinong_pg_bindir) && [[ -f $dir/data/postmaster.pid ]]; then
        "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    HUINONG_PG_PRIVATE_DIR=
    huinong_log "private PostgreSQL cluster stopped and removed"
}
