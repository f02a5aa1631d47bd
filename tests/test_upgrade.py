# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""scripts/upgrade on PostgreSQL, for real.

A plain unittest module run by scripts/test (PostgreSQL only: skipped when
HUINONG_TEST_BACKEND is 'sqlite' or TRYTOND_DATABASE_URI is not set).  It
copies the demo database of the top-level tests (tests/demo_db.py,
scripts/setup_db.py --demo), then makes it look like the database of an older
release, the way a release changes a database:

- a model the new release adds: its table is dropped
  (huinong_entitlement_use);
- a record the new release adds: the 全部 tab of the household list and its
  ir.model.data row are deleted;
- a record the new release changes: the household action's domain is
  emptied;
- a translation the new release changes: 农户 becomes 旧农户;

runs scripts/upgrade, and checks that it backed up, that all four are as
the code says again, that every module is still activated, that the data
is intact (households, members, cards, users, one household and its cards
row by row, the passwords of admin and of a demo user) and that the
database carries the set-up stamp of docker/entrypoint.sh.  It also checks
the refusals: a database that does not exist, one that is not a Tryton
database.  It uses its own database names and drops them at the end.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_db  # noqa: E402

ROOT = os.environ.get('HUINONG_ROOT') or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))
URI = (os.environ.get('TRYTOND_DATABASE_URI')
    or os.environ.get('TRYTOND_DATABASE__URI') or '')
BACKEND = os.environ.get('HUINONG_TEST_BACKEND', '')
UPGRADE = os.path.join(ROOT, 'scripts', 'upgrade')

# The stamp docker/entrypoint.sh computes (its current_stamp)
STAMP = r'''
import sys
sys.path.insert(0, sys.argv[1])
import setup_db
print('huinong-setup ' + setup_db.modules_hash(
        setup_db.installed_huinong_modules()))
'''

# What makes the demo database look like one of an older release
OLD_RELEASE = [
    "DROP TABLE huinong_entitlement_use",
    "DELETE FROM ir_action_act_window_domain WHERE id = (SELECT db_id "
        "FROM ir_model_data WHERE module = 'huinong_household' "
        "AND fs_id = 'act_household_form_domain_all')",
    "DELETE FROM ir_model_data WHERE module = 'huinong_household' "
        "AND fs_id = 'act_household_form_domain_all'",
    "UPDATE ir_action_act_window SET domain = '[]' WHERE id = (SELECT db_id "
        "FROM ir_model_data WHERE module = 'huinong_household' "
        "AND fs_id = 'act_household_form')",
    "UPDATE ir_translation SET value = '旧农户' WHERE lang = 'zh_CN' "
        "AND module = 'huinong_household' AND src = 'Households'",
    ]


def dsn(database):
    parts = urllib.parse.urlsplit(URI)
    return urllib.parse.urlunsplit(
        parts._replace(path='/' + database, query=''))


@unittest.skipIf(BACKEND == 'sqlite', "PostgreSQL only")
@unittest.skipUnless(URI.startswith('postgresql'),
    "needs TRYTOND_DATABASE_URI=postgresql://… (scripts/test sets it)")
@unittest.skipUnless(shutil.which('pg_dump') and shutil.which('pg_restore'),
    "needs pg_dump and pg_restore (the backup before the upgrade)")
class UpgradeTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.db = 'hn_upgrade_%d' % os.getpid()
        cls.other_dbs = ['hn_upgrade_missing_%d' % os.getpid(),
            'hn_upgrade_empty_%d' % os.getpid()]
        cls.tmp = tempfile.mkdtemp(prefix='huinong-upgrade-test.')
        cls.conf = os.path.join(cls.tmp, 'trytond.conf')
        with open(cls.conf, 'w') as fp:
            # The server comes from TRYTOND_DATABASE_URI (the environment)
            fp.write('[database]\npath = %s\n'
                % os.path.join(cls.tmp, 'filestore'))
        cls.env = dict(os.environ, HUINONG_PYTHON=sys.executable)
        for name in ['TRYTOND_CONFIG', 'TRYTOND_DATABASE__URI', 'DB_NAME',
                'TRYTONPASSFILE', 'HUINONG_ADMIN_PASSWORD']:
            cls.env.pop(name, None)
        cls.env['TRYTOND_DATABASE_URI'] = URI
        cls._drop()
        try:
            demo_db.create(URI, cls.db, os.path.join(cls.tmp, 'filestore'))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._drop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def _drop(cls):
        import psycopg
        with psycopg.connect(dsn('postgres'), autocommit=True) as conn:
            for name in [cls.db] + cls.other_dbs:
                conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                    % name)

    @classmethod
    def run_(cls, *args, check=True):
        result = subprocess.run(args, cwd=ROOT, env=cls.env,
            capture_output=True, text=True)
        if check and result.returncode:
            raise AssertionError('%s failed (%s):\n%s\n%s' % (
                    ' '.join(args[:2]), result.returncode,
                    result.stdout[-3000:], result.stderr[-3000:]))
        return result

    def rows(self, query, *params, database=None):
        import psycopg
        with psycopg.connect(dsn(database or self.db)) as conn:
            cursor = conn.execute(query, params)
            names = [c.name for c in cursor.description]
            return [dict(zip(names, r)) for r in cursor.fetchall()]

    def one(self, query, *params, database=None):
        rows = self.rows(query, *params, database=database)
        return next(iter(rows[0].values())) if rows else None

    def database_exists(self, name):
        return bool(self.one('SELECT count(*) FROM pg_database '
                'WHERE datname = %s', name, database='postgres'))

    def snapshot(self):
        "What an upgrade must not change"
        snapshot = {}
        for name, query in [
                ('households', 'SELECT count(*) FROM party_party '
                    'WHERE huinong_household'),
                ('members', 'SELECT count(*) FROM huinong_household_member'),
                ('cards', 'SELECT count(*) FROM huinong_card'),
                ('users', 'SELECT count(*) FROM res_user'),
                ('areas', 'SELECT count(*) FROM huinong_area'),
                ]:
            snapshot[name] = self.one(query)
        snapshot['cards by state'] = self.rows('SELECT state, count(*) '
            'FROM huinong_card GROUP BY state ORDER BY state')
        household = self.one('SELECT id FROM party_party '
            'WHERE huinong_household ORDER BY id LIMIT 1')
        snapshot['household'] = self.rows(
            'SELECT * FROM party_party WHERE id = %s', household)
        snapshot['household cards'] = self.rows('SELECT * FROM huinong_card '
            'WHERE household = %s ORDER BY id', household)
        snapshot['passwords'] = self.rows('SELECT login, password_hash '
            "FROM res_user WHERE login IN ('admin', 'county') ORDER BY login")
        return snapshot

    def model_data_id(self, fs_id):
        return self.one("SELECT db_id FROM ir_model_data "
            "WHERE module = 'huinong_household' AND fs_id = %s", fs_id)

    def test_refuses_missing_database(self):
        "A database that does not exist: refused, nothing created"
        missing = self.other_dbs[0]
        backups = os.path.join(self.tmp, 'backups-missing')
        result = self.run_(UPGRADE, '-c', self.conf, '-d', missing,
            '-o', backups, check=False)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("database '%s' does not exist" % missing,
            result.stderr)
        self.assertFalse(self.database_exists(missing))
        self.assertFalse(os.path.exists(backups))

    def test_refuses_non_tryton_database(self):
        "An empty PostgreSQL database: refused, left as it is"
        import psycopg
        empty = self.other_dbs[1]
        with psycopg.connect(dsn('postgres'), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "%s"' % empty)
        result = self.run_(UPGRADE, '-c', self.conf, '-d', empty,
            '--no-backup', check=False)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn('not a Tryton database', result.stderr)
        self.assertFalse(self.one("SELECT to_regclass('public.ir_module') "
                "IS NOT NULL", database=empty))

    def test_bad_arguments(self):
        "No database, a bad name, an unknown option: usage errors"
        for args in [[], ['-d', 'a;b'], ['-d', self.db, '--nope']]:
            result = self.run_(UPGRADE, '-c', self.conf, *args, check=False)
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertIn('upgrade:', result.stderr)

    def test_upgrade_older_release(self):
        "An older release's database: upgraded, backed up, data intact"
        import psycopg
        before = self.snapshot()
        self.assertEqual(before['households'], demo_db.HOUSEHOLDS)
        self.assertGreater(before['cards'], 0)
        self.assertEqual(len(before['passwords']), 2)
        domain = self.one('SELECT domain FROM ir_action_act_window '
            'WHERE id = %s', self.model_data_id('act_household_form'))
        self.assertIn('huinong_household', domain)
        self.assertIsNotNone(self.model_data_id(
                'act_household_form_domain_all'))

        with psycopg.connect(dsn(self.db)) as conn:
            for statement in OLD_RELEASE:
                conn.execute(statement)
        self.assertIsNone(
            self.one("SELECT to_regclass('public.huinong_entitlement_use')"))

        backups = os.path.join(self.tmp, 'backups')
        result = self.run_(UPGRADE, '-c', self.conf, '-d', self.db,
            '-o', backups)
        self.assertIn('upgraded', result.stderr)

        # The backup was made first
        folders = os.listdir(backups)
        self.assertEqual(len(folders), 1, folders)
        self.assertEqual(
            sorted(os.listdir(os.path.join(backups, folders[0]))),
            ['MANIFEST', 'database.dump', 'filestore.tar.gz'])
        self.assertIn('backup: ' + os.path.join(backups, folders[0]),
            result.stderr)

        # The new release's schema, records and translations
        self.assertIsNotNone(
            self.one("SELECT to_regclass('public.huinong_entitlement_use')"))
        self.assertEqual(self.one('SELECT domain FROM ir_action_act_window '
                'WHERE id = %s', self.model_data_id('act_household_form')),
            domain)
        tab = self.model_data_id('act_household_form_domain_all')
        self.assertIsNotNone(tab)
        self.assertEqual(self.one('SELECT count(*) FROM '
                'ir_action_act_window_domain WHERE id = %s', tab), 1)
        self.assertEqual({r['value'] for r in self.rows(
                    "SELECT value FROM ir_translation WHERE lang = 'zh_CN' "
                    "AND module = 'huinong_household' "
                    "AND src = 'Households'")}, {'农户'})
        states = {r['name']: r['state'] for r in self.rows(
                "SELECT name, state FROM ir_module "
                "WHERE state != 'not activated'")}
        self.assertEqual(set(states.values()), {'activated'}, states)
        for module in ['huinong', 'huinong_household', 'huinong_card']:
            self.assertEqual(states.get(module), 'activated')

        # The data is intact, admin kept his password
        self.assertEqual(self.snapshot(), before)

        # The entrypoint's stamp: its `setup` has nothing left to do
        stamp = self.run_(sys.executable, '-c', STAMP,
            os.path.join(ROOT, 'scripts')).stdout.strip()
        self.assertTrue(stamp.startswith('huinong-setup '), stamp)
        self.assertEqual(self.one("SELECT shobj_description(oid, "
                "'pg_database') FROM pg_database WHERE datname = %s",
                self.db, database='postgres'), stamp)


if __name__ == '__main__':
    unittest.main()
