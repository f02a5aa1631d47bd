# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo database of the top-level tests, built once per backend.

The browser, desktop client, screens, upgrade and backup tests each need a
demo database (scripts/setup_db.py --demo).  Building one activates every
module with its translations and runs the demo's months (about 140 s on
SQLite, more on PostgreSQL); this module builds it once per backend and
content (the modules' files, scripts/setup_db.py, the Tryton versions and
the date: the demo is dated from today), keeps it, and gives each test a
copy of its own under the name the test chooses:

- SQLite: the file and the filestore are kept in var/demo-cache/sqlite/KEY/
  and copied to the test's [database] path;
- PostgreSQL: the database is kept on the server as the template
  ``hn_demo_KEY`` (its filestore in var/demo-cache/postgresql/KEY/) and a
  test's database is ``CREATE DATABASE … TEMPLATE`` of it; templates of
  other keys are dropped.

Building holds a lock (var/demo-cache/BACKEND.lock): the workers of a run
that need one at the same time wait for the first to build it.

Every copy has the same logins: ``admin`` / ADMIN_PASSWORD and the demo
users (setup_db.DEMO_USERS) / DEMO_PASSWORD.
"""
import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP_DB = os.path.join(ROOT, 'scripts', 'setup_db.py')
CACHE = os.environ.get('HUINONG_DEMO_CACHE') or os.path.join(
    ROOT, 'var', 'demo-cache')
HOUSEHOLDS = 40
ADMIN_PASSWORD = 'admin-demo-test'
DEMO_PASSWORD = 'demo-test-2024'


def clean_env():
    """The environment for setup_db and trytond: only the configuration
    file given decides the database (no TRYTOND_* / DB_* of the runner)"""
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {
            'DB_NAME', 'DB_CACHE', 'TRYTONPASSFILE',
            'HUINONG_ADMIN_PASSWORD'}}
    env['PYTHONUNBUFFERED'] = '1'
    return env


def content_key():
    "What the demo database depends on, hashed"
    digest = hashlib.sha256()
    digest.update(dt.date.today().isoformat().encode())
    digest.update(('%s %s %s' % (
                HOUSEHOLDS, ADMIN_PASSWORD, DEMO_PASSWORD)).encode())
    paths = [SETUP_DB]
    modules = os.path.join(ROOT, 'modules')
    for dirpath, dirnames, filenames in os.walk(modules):
        dirnames[:] = sorted(d for d in dirnames
            if d not in {'__pycache__', 'doc', 'tests'})
        paths.extend(os.path.join(dirpath, f) for f in sorted(filenames)
            if not f.endswith(('.pyc', '.pyo')))
    for path in paths:
        digest.update(os.path.relpath(path, ROOT).encode() + b'\0')
        with open(path, 'rb') as file:
            digest.update(file.read() + b'\0')
    for dist in sorted(importlib.metadata.distributions(),
            key=lambda d: d.metadata['Name'].lower()):
        name = dist.metadata['Name'].lower()
        if name.startswith(('trytond', 'proteus')):
            digest.update(f'{name}=={dist.version}\n'.encode())
    return digest.hexdigest()[:16]


def dsn(uri, database):
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit(
        parts._replace(path='/' + database, query=''))


def _setup_db(config, name):
    started = time.monotonic()
    result = subprocess.run([sys.executable, SETUP_DB, '-c', config,
            '-d', name, '--password', ADMIN_PASSWORD,
            '--demo-password', DEMO_PASSWORD, '--demo',
            '--households', str(HOUSEHOLDS), '--quiet'],
        cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=1800)
    if result.returncode:
        raise RuntimeError("setup_db.py failed (exit %d):\n%s" % (
                result.returncode, result.stdout[-5000:]))
    return time.monotonic() - started


def _lock(backend):
    os.makedirs(CACHE, exist_ok=True)
    lock = open(os.path.join(CACHE, backend + '.lock'), 'w')
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def _prune(folder, keep):
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name != keep:
                shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def create(db_uri, db_name, path):
    """Create the demo database db_name on db_uri ('sqlite://' or a
    postgresql:// server), its filestore under path (the [database] path
    of the test's configuration); return the seconds a build took (0 when
    the kept one was copied)"""
    key = content_key()
    if db_uri.startswith('postgresql'):
        return _create_postgresql(db_uri, db_name, path, key)
    return _create_sqlite(db_name, path, key)


def _write_config(folder, uri):
    config = os.path.join(folder, 'trytond.conf')
    with open(config, 'w') as fp:
        fp.write('[database]\nuri = %s\npath = %s\n' % (
                uri, os.path.join(folder, 'db')))
    os.makedirs(os.path.join(folder, 'db'), exist_ok=True)
    return config


def _create_sqlite(db_name, path, key):
    root = os.path.join(CACHE, 'sqlite')
    folder = os.path.join(root, key)
    done = os.path.join(folder, 'done')
    seconds = 0
    with _lock('sqlite'):
        if not os.path.exists(done):
            _prune(root, key)
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)
            config = _write_config(folder, 'sqlite://')
            seconds = _setup_db(config, 'demo')
            open(done, 'w').close()
        source = os.path.join(folder, 'db')
        os.makedirs(path, exist_ok=True)
        shutil.copyfile(os.path.join(source, 'demo.sqlite'),
            os.path.join(path, db_name + '.sqlite'))
        stamp = os.path.join(source, 'demo.huinong-stamp')
        if os.path.exists(stamp):
            shutil.copyfile(stamp,
                os.path.join(path, db_name + '.huinong-stamp'))
        filestore = os.path.join(source, 'demo')
        if os.path.isdir(filestore):
            shutil.copytree(filestore, os.path.join(path, db_name),
                dirs_exist_ok=True)
    return seconds


def _create_postgresql(db_uri, db_name, path, key):
    import psycopg
    root = os.path.join(CACHE, 'postgresql')
    folder = os.path.join(root, key)
    template = 'hn_demo_%s' % key
    seconds = 0
    with _lock('postgresql'), psycopg.connect(
            dsn(db_uri, 'postgres'), autocommit=True) as conn:
        templates = [name for name, in conn.execute(
                "SELECT datname FROM pg_database "
                "WHERE datname LIKE 'hn\\_demo\\_%%'")]
        for name in templates:
            if name != template:
                conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                    % name)
        if template not in templates or not os.path.exists(
                os.path.join(folder, 'done')):
            _prune(root, key)
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)
            conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                % template)
            config = _write_config(folder, db_uri)
            seconds = _setup_db(config, template)
            open(os.path.join(folder, 'done'), 'w').close()
        conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db_name)
        # No one may be connected to the template while it is copied
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s", (template,))
        conn.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (
                db_name, template))
    filestore = os.path.join(folder, 'db', template)
    if os.path.isdir(filestore):
        shutil.copytree(filestore, os.path.join(path, db_name),
            dirs_exist_ok=True)
    return seconds


def drop(db_uri, db_name, path=None):
    "Drop a copy made by create()"
    if db_uri.startswith('postgresql'):
        import psycopg
        with psycopg.connect(dsn(db_uri, 'postgres'), autocommit=True,
                connect_timeout=10) as conn:
            conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                % db_name)
    elif path:
        for suffix in ['.sqlite', '.huinong-stamp']:
            try:
                os.remove(os.path.join(path, db_name + suffix))
            except FileNotFoundError:
                pass
    if path:
        shutil.rmtree(os.path.join(path, db_name), ignore_errors=True)
