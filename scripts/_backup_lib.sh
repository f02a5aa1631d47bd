# shellcheck shell=bash
# Shared by scripts/backup and scripts/restore (sourced; needs $PY).

# The filestore folder of database $2 for configuration $1:
# <[database] path>/<database>, as trytond's filestore stores it.
filestore_of() {
    "$PY" - "$1" "$2" <<'PY'
import configparser, os, sys
conf, db = sys.argv[1:3]
path = os.environ.get('TRYTOND_DATABASE__PATH')
if conf:
    parser = configparser.RawConfigParser()
    if not parser.read(conf):
        sys.exit('no configuration file %s' % conf)
    path = parser.get('database', 'path', fallback=path)
if not path:
    path = os.path.join(os.path.expanduser('~'), 'db')   # trytond's default
print(os.path.join(os.path.abspath(path), db))
PY
}

# A libpq URI of database $1 (from TRYTOND_DATABASE__URI / _URI, else the
# PG* environment variables libpq reads itself).
database_uri() {
    "$PY" - "$1" <<'PY'
import os, sys, urllib.parse
db = sys.argv[1]
uri = (os.environ.get('TRYTOND_DATABASE__URI')
    or os.environ.get('TRYTOND_DATABASE_URI') or 'postgresql://')
parts = urllib.parse.urlsplit(uri)
if not parts.scheme.startswith('postgresql'):
    sys.exit('not a PostgreSQL URI: %s' % parts.scheme)
print(urllib.parse.urlunsplit(
        parts._replace(scheme='postgresql', path='/' + db)))
PY
}
