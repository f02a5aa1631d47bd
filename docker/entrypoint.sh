#!/usr/bin/env bash
# Entry point of the huinong image (and of scripts/deploy-check, which runs
# this same file outside a container).
#
#   entrypoint.sh setup    wait for PostgreSQL, create the database when it
#                          is missing, activate / update the huinong modules
#                          with the zh_CN translations, then exit
#   entrypoint.sh web      gunicorn trytond.application:app on :8000
#                          (with HUINONG_SETUP=1: `setup` first)
#   entrypoint.sh cron     trytond-cron -d DB
#   entrypoint.sh worker   trytond-worker -d DB (the queue: SMS outbox, e-mails)
#   entrypoint.sh backup|restore ARGS...   scripts/backup|restore -c CONF -d DB
#   entrypoint.sh reconcile ARGS...        scripts/reconcile -c CONF -d DB (the
#                                          reconciliation check; exit 1 on a
#                                          difference)
#   entrypoint.sh OTHER... exec OTHER... (e.g. bash)
#
# `setup` is safe on every start: it keeps a stamp (a hash of the installed
# huinong modules' files and of the Tryton versions) as the COMMENT of the
# PostgreSQL database and does nothing at all when the stamp is current.
# Otherwise it runs scripts/setup_db.py (in-process trytond-admin -u
# <huinong modules> --activate-dependencies -l zh_CN; with --update on an
# existing database).  The admin password (secret file) is only used for a
# new database (or one whose admin has no password yet): afterwards admin
# changes it in the client and a restart does not reset it.
#
# Environment (defaults in brackets):
#   TRYTOND_CONFIG               [/etc/trytond.conf]
#   HUINONG_DB                   database name [huinong]
#   PGHOST PGPORT PGUSER         the PostgreSQL server [postgres 5432 tryton]
#   HUINONG_DB_PASSWORD_FILE     file holding the database password
#                                [/run/secrets/db_password, when it exists];
#                                exported as PGPASSWORD (libpq: psql,
#                                pg_dump and trytond's psycopg read it)
#   TRYTOND_DATABASE__URI        [postgresql://$PGUSER@$PGHOST:$PGPORT/]
#   HUINONG_ADMIN_PASSWORD_FILE  [/run/secrets/admin_password]
#   HUINONG_LANGUAGE             [zh_CN]
#   HUINONG_WAIT_DB              seconds to wait for PostgreSQL [60]
#   HUINONG_WEB_WORKERS          gunicorn workers [4]
#   HUINONG_WEB_BIND             [0.0.0.0:8000]
#   HUINONG_WEB_TIMEOUT          gunicorn worker timeout, seconds [120]
#   HUINONG_WEB_PRELOAD          1: gunicorn --preload [1]
#   HUINONG_GUNICORN_ARGS        more gunicorn arguments (split on spaces)
#   HUINONG_QUEUE_PROCESSES      trytond-worker processes [1]
#   HUINONG_PYTHON               [python]
#   HUINONG_HOME                 where scripts/setup_db.py is [this file's ../]
set -euo pipefail

HUINONG_HOME=${HUINONG_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PY=${HUINONG_PYTHON:-python}
export TRYTOND_CONFIG=${TRYTOND_CONFIG:-/etc/trytond.conf}
DB=${HUINONG_DB:-huinong}
export PGHOST=${PGHOST:-postgres} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-tryton}
LANGUAGE_=${HUINONG_LANGUAGE:-zh_CN}

log() { printf '[entrypoint] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $DB =~ ^[A-Za-z0-9_]+$ ]] || die "HUINONG_DB must be letters, digits and _ ('$DB')"
[[ -f $TRYTOND_CONFIG ]] || die "no trytond configuration $TRYTOND_CONFIG"

db_password_file=${HUINONG_DB_PASSWORD_FILE:-}
if [[ -z $db_password_file && -f /run/secrets/db_password ]]; then
    db_password_file=/run/secrets/db_password
fi
if [[ -n $db_password_file ]]; then
    [[ -r $db_password_file ]] || die "cannot read $db_password_file"
    PGPASSWORD=$(head -n1 "$db_password_file")
    export PGPASSWORD
fi
export TRYTOND_DATABASE__URI=${TRYTOND_DATABASE__URI:-postgresql://$PGUSER@$PGHOST:$PGPORT/}

psql_() { psql -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

wait_db() {
    local wait=${HUINONG_WAIT_DB:-60} i
    for (( i = 0; i <= wait; i++ )); do
        if psql_ -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
            return 0
        fi
        (( i == 0 )) && log "waiting for PostgreSQL on $PGHOST:$PGPORT (up to ${wait}s)"
        sleep 1
    done
    psql_ -d postgres -c 'SELECT 1' >/dev/null || die "PostgreSQL on $PGHOST:$PGPORT does not answer"
}

# The stamp the database gets once it is set up with these modules.
current_stamp() {
    "$PY" - "$HUINONG_HOME/scripts" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import setup_db  # the standard library only at import
print('huinong-setup ' + setup_db.modules_hash(
        setup_db.installed_huinong_modules()))
EOF
}

setup() {
    local exists initialised stamp want need_password update=() start=$SECONDS
    wait_db
    exists=$(psql_ -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")
    if [[ -z $exists ]]; then
        log "creating database $DB"
        # What trytond's create does: UTF-8, from template0.
        createdb -E UTF8 -T template0 "$DB"
    fi
    initialised=$(psql_ -d "$DB" -c "SELECT to_regclass('public.ir_module') IS NOT NULL")
    stamp=$(psql_ -d postgres -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '$DB'")
    want=$(current_stamp)
    if [[ $initialised == t && $stamp == "$want" ]]; then
        log "database $DB is up to date ($want): nothing to do"
        return 0
    fi
    need_password=1
    if [[ $initialised == t ]]; then
        update=(--update)
        if [[ $(psql_ -d "$DB" -c "SELECT count(*) FROM res_user WHERE login = 'admin' AND password_hash IS NOT NULL") == 1 ]]; then
            need_password=0
        fi
        log "updating database $DB (stamp '${stamp:-none}' -> '$want')"
    else
        log "initialising database $DB"
    fi
    local admin_file=${HUINONG_ADMIN_PASSWORD_FILE:-/run/secrets/admin_password}
    if (( need_password )); then
        [[ -r $admin_file ]] || die "a new database needs the admin password: no file $admin_file (HUINONG_ADMIN_PASSWORD_FILE)"
        TRYTONPASSFILE=$admin_file "$PY" "$HUINONG_HOME/scripts/setup_db.py" \
            -c "$TRYTOND_CONFIG" -d "$DB" -l "$LANGUAGE_" "${update[@]}"
    else
        # Admin keeps the password it has.  Not `setup_db.py` without a
        # password: its configure() step refuses ("admin has no password
        # yet") because res.user.read() blanks password_hash, so it can't
        # see the hash.  Until that is fixed there, run only its prepare()
        # step (modules + translations; admin's language and the wizard
        # were set when the database was created).
        env -u TRYTONPASSFILE -u HUINONG_ADMIN_PASSWORD \
            "$PY" - "$HUINONG_HOME/scripts" "$TRYTOND_CONFIG" "$DB" \
            "$LANGUAGE_" "${update[@]}" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import setup_db
args = setup_db.parse_args(
    ['-c', sys.argv[2], '-d', sys.argv[3], '-l', sys.argv[4], *sys.argv[5:]])
setup = setup_db.Setup(args, setup_db.load_config(args.config))
setup.password = None
setup.prepare()
EOF
    fi
    psql_ -d postgres -c "COMMENT ON DATABASE \"$DB\" IS '$want'"
    log "database $DB set up in $(( SECONDS - start ))s ($want)"
}

# Wait until `setup` has stamped the database (cron and worker must not
# start on a database that is being created or updated).
wait_setup() {
    local want i wait=${HUINONG_WAIT_SETUP:-600} stamp
    wait_db
    want=$(current_stamp)
    for (( i = 0; i <= wait; i += 2 )); do
        stamp=$(psql_ -d postgres -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '$DB'" 2>/dev/null || true)
        [[ $stamp == "$want" ]] && return 0
        (( i == 0 )) && log "waiting for the set-up of database $DB (entrypoint.sh setup)"
        sleep 2
    done
    die "database $DB was not set up with this image's modules ($want) within ${wait}s"
}

command=${1:-web}
(( $# )) && shift
case $command in
    setup)
        setup
        ;;
    web)
        [[ ${HUINONG_SETUP:-0} == 1 ]] && setup
        wait_setup
        # Load the database's pool at start (trytond 8.0.12 refuses every
        # login on a database whose pool was not loaded at start, KeyError
        # 'res.user'); trytond.application closes the connections afterwards,
        # so --preload forks clean workers.
        export TRYTOND_DATABASE_NAMES=$DB
        args=(-w "${HUINONG_WEB_WORKERS:-4}" -b "${HUINONG_WEB_BIND:-0.0.0.0:8000}"
            --timeout "${HUINONG_WEB_TIMEOUT:-120}" --access-logfile -)
        [[ ${HUINONG_WEB_PRELOAD:-1} == 1 ]] && args+=(--preload)
        # shellcheck disable=SC2206
        [[ -n ${HUINONG_GUNICORN_ARGS:-} ]] && args+=(${HUINONG_GUNICORN_ARGS})
        log "starting gunicorn ${args[*]} $* trytond.application:app"
        exec gunicorn "${args[@]}" "$@" trytond.application:app
        ;;
    cron)
        wait_setup
        exec trytond-cron -c "$TRYTOND_CONFIG" -d "$DB" "$@"
        ;;
    worker)
        wait_setup
        exec trytond-worker -c "$TRYTOND_CONFIG" -d "$DB" \
            -n "${HUINONG_QUEUE_PROCESSES:-1}" "$@"
        ;;
    backup|restore|reconcile)
        wait_db
        exec "$HUINONG_HOME/scripts/$command" -c "$TRYTOND_CONFIG" -d "$DB" "$@"
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
