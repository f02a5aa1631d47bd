# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""scripts/backup and scripts/restore on PostgreSQL, for real, and
scripts/reconcile on the database they keep.

A plain unittest module run by scripts/test (PostgreSQL only: skipped when
HUINONG_TEST_BACKEND is 'sqlite' or TRYTOND_DATABASE_URI is not set).  It
copies the demo database of the top-level tests (tests/demo_db.py,
scripts/setup_db.py --demo) and adds a filestore file (an ir.attachment), reads a snapshot (counts, one
household with its members, identifiers, contact mechanisms and cards, the
attachment's bytes from the filestore), backs up, drops the database and
its filestore, restores, and compares.  It uses its own database name (not
DB_NAME) and drops it at the end.
"""
import hashlib
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

# Creates an attachment (stored in the filestore) on the first household.
ATTACH = r'''
import sys
sys.path.insert(0, sys.argv[1])
import setup_db
setup_db.load_config([sys.argv[2]])
from trytond.pool import Pool
db = sys.argv[3]
Pool(db).init()

def func():
    pool = Pool()
    Party = pool.get('party.party')
    Attachment = pool.get('ir.attachment')
    household, = Party.search(
        [('huinong_household', '=', True)], order=[('id', 'ASC')], limit=1)
    Attachment.create([{
        'name': 'contract.txt',
        'resource': str(household),
        'data': sys.argv[4].encode('utf-8'),
        }])

setup_db.in_transaction(db, func)
'''


def dsn(database):
    parts = urllib.parse.urlsplit(URI)
    return urllib.parse.urlunsplit(
        parts._replace(path='/' + database, query=''))


@unittest.skipIf(BACKEND == 'sqlite', "PostgreSQL only (backups are pg_dump)")
@unittest.skipUnless(URI.startswith('postgresql'),
    "needs TRYTOND_DATABASE_URI=postgresql://… (scripts/test sets it)")
@unittest.skipUnless(shutil.which('pg_dump') and shutil.which('pg_restore'),
    "needs pg_dump and pg_restore")
class BackupRestoreTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.db = 'hn_backup_%d' % os.getpid()
        cls.tmp = tempfile.mkdtemp(prefix='huinong-backup-test.')
        cls.filestore_root = os.path.join(cls.tmp, 'filestore')
        cls.conf = os.path.join(cls.tmp, 'trytond.conf')
        with open(cls.conf, 'w') as fp:
            # The server comes from TRYTOND_DATABASE_URI (the environment)
            fp.write('[database]\npath = %s\n' % cls.filestore_root)
        cls.env = dict(os.environ, HUINONG_PYTHON=sys.executable)
        cls.env.pop('TRYTOND_CONFIG', None)
        cls.env.pop('TRYTOND_DATABASE__URI', None)
        cls.env['TRYTOND_DATABASE_URI'] = URI
        cls._drop()
        try:
            demo_db.create(URI, cls.db, cls.filestore_root)
            cls.attachment_text = '惠农超市 contract of the first household'
            cls.run_(sys.executable, '-c', ATTACH,
                os.path.join(ROOT, 'scripts'), cls.conf, cls.db,
                cls.attachment_text)
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
            conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % cls.db)

    @classmethod
    def run_(cls, *args, check=True):
        result = subprocess.run(args, cwd=ROOT, env=cls.env,
            capture_output=True, text=True)
        if check and result.returncode:
            raise AssertionError('%s failed (%s):\n%s\n%s' % (
                    ' '.join(args[:2]), result.returncode,
                    result.stdout[-3000:], result.stderr[-3000:]))
        return result

    def snapshot(self):
        "What must survive a backup and restore"
        import psycopg
        snapshot = {}
        with psycopg.connect(dsn(self.db)) as conn:
            def rows(query, *params):
                cursor = conn.execute(query, params)
                names = [c.name for c in cursor.description]
                return [dict(zip(names, r)) for r in cursor.fetchall()]

            def one(query, *params):
                return conn.execute(query, params).fetchone()[0]

            snapshot['households'] = one('SELECT count(*) FROM party_party '
                'WHERE huinong_household')
            snapshot['members'] = one(
                'SELECT count(*) FROM huinong_household_member')
            snapshot['cards'] = one('SELECT count(*) FROM huinong_card')
            snapshot['cards by state'] = rows('SELECT state, count(*) '
                'FROM huinong_card GROUP BY state ORDER BY state')
            snapshot['users'] = one('SELECT count(*) FROM res_user')
            household = one('SELECT id FROM party_party '
                'WHERE huinong_household ORDER BY id LIMIT 1')
            snapshot['household'] = rows(
                'SELECT * FROM party_party WHERE id = %s', household)
            for table, column in [
                    ('huinong_household_member', 'household'),
                    ('party_identifier', 'party'),
                    ('party_contact_mechanism', 'party'),
                    ('huinong_card', 'household'),
                    ]:
                snapshot[table] = rows('SELECT * FROM "%s" WHERE "%s" = %%s '
                    'ORDER BY id' % (table, column), household)
            # The household's points (2201, draft and posted moves, as
            # party.huinong_points_balance counts them) and the sheets
            snapshot['balance'] = one(
                'SELECT COALESCE(SUM(l.credit - l.debit), 0) '
                'FROM account_move_line l '
                'JOIN account_account a ON a.id = l.account '
                "WHERE a.code = '2201' AND l.party = %s", household)
            snapshot['evaluations posted'] = one(
                "SELECT count(*) FROM huinong_evaluation "
                "WHERE state = 'posted'")
            snapshot['attachments'] = rows('SELECT name, resource, type, '
                'file_id FROM ir_attachment WHERE resource = %s ORDER BY id',
                'party.party,%s' % household)
        files = {}
        for attachment in snapshot['attachments']:
            file_id = attachment['file_id']
            path = os.path.join(self.filestore_root, self.db,
                file_id[0:2], file_id[2:4], file_id)
            with open(path, 'rb') as fp:
                files[file_id] = hashlib.sha256(fp.read()).hexdigest()
        snapshot['files'] = files
        return snapshot

    def test_backup_drop_restore(self):
        "Back up, drop, restore: the same households, cards and files"
        before = self.snapshot()
        self.assertEqual(before['households'], demo_db.HOUSEHOLDS)
        self.assertGreater(before['cards'], 0)
        self.assertGreater(before['members'], 0)
        self.assertEqual(len(before['household']), 1)
        self.assertEqual(len(before['attachments']), 1)
        self.assertEqual(len(before['files']), 1)
        # The demo credited three months of evaluations: a balance to keep
        self.assertGreater(before['evaluations posted'], 0)
        self.assertGreater(before['balance'], 0)

        backups = os.path.join(self.tmp, 'backups')
        result = self.run_(os.path.join(ROOT, 'scripts', 'backup'),
            '-c', self.conf, '-d', self.db, '-o', backups)
        folder = result.stdout.strip().splitlines()[-1]
        self.assertTrue(os.path.isdir(folder), folder)
        self.assertEqual(sorted(os.listdir(folder)),
            ['MANIFEST', 'database.dump', 'filestore.tar.gz'])

        self._drop()
        shutil.rmtree(os.path.join(self.filestore_root, self.db))

        self.run_(os.path.join(ROOT, 'scripts', 'restore'),
            '-c', self.conf, '-d', self.db, folder)
        after = self.snapshot()
        self.assertEqual(after, before)
        # and its books still agree with its documents
        result = self.run_(os.path.join(ROOT, 'scripts', 'reconcile'),
            '-c', self.conf, '-d', self.db)
        self.assertEqual(result.stdout.splitlines()[0], 'OK')

        # A second restore over the existing database needs --force
        result = self.run_(os.path.join(ROOT, 'scripts', 'restore'),
            '-c', self.conf, '-d', self.db, folder, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('--force', result.stderr)
        self.run_(os.path.join(ROOT, 'scripts', 'restore'),
            '-c', self.conf, '-d', self.db, '--force', folder)
        self.assertEqual(self.snapshot(), before)

    def test_damaged_backup_refused(self):
        "A backup whose dump does not match its MANIFEST is not restored"
        backups = os.path.join(self.tmp, 'backups-damaged')
        result = self.run_(os.path.join(ROOT, 'scripts', 'backup'),
            '-c', self.conf, '-d', self.db, '-o', backups)
        folder = result.stdout.strip().splitlines()[-1]
        with open(os.path.join(folder, 'database.dump'), 'ab') as fp:
            fp.write(b'garbage')
        result = self.run_(os.path.join(ROOT, 'scripts', 'restore'),
            '-c', self.conf, '-d', self.db, '--force', folder, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('damaged', result.stderr)
        # and the database is still there, untouched
        self.assertEqual(self.snapshot()['households'], demo_db.HOUSEHOLDS)

    def test_reconcile_command(self):
        """scripts/reconcile: OK on the demo's books, the difference and
        exit status 1 once a redemption line is edited behind the books"""
        import psycopg
        reconcile = os.path.join(ROOT, 'scripts', 'reconcile')
        result = self.run_(reconcile, '-c', self.conf, '-d', self.db)
        self.assertEqual(result.stdout.splitlines()[0], 'OK')
        self.assertRegex(result.stdout.splitlines()[-1],
            r'^reconcile checks=evaluation,redemption,stock,settlement,'
            r'household differences=0 seconds=\d+\.\d$')
        with psycopg.connect(dsn(self.db)) as conn:
            line, number = conn.execute(
                'SELECT l.id, r.number FROM huinong_redemption_line l '
                'JOIN huinong_redemption r ON r.id = l.redemption '
                "WHERE r.state = 'done' ORDER BY l.id LIMIT 1").fetchone()
            conn.execute('UPDATE huinong_redemption_line '
                'SET points = points + 7 WHERE id = %s', (line,))
        try:
            result = self.run_(reconcile, '-c', self.conf, '-d', self.db,
                '--check', 'redemption', 'household', check=False)
            self.assertEqual(result.returncode, 1, result.stderr)
            lines = result.stdout.splitlines()
            self.assertEqual(len(lines), 3, result.stdout)
            self.assertIn('兑换单“%s”' % number, lines[0])
            self.assertTrue(lines[1].startswith('农户“'), lines[1])
            self.assertIn('differences=2', lines[2])
        finally:
            with psycopg.connect(dsn(self.db)) as conn:
                conn.execute('UPDATE huinong_redemption_line '
                    'SET points = points - 7 WHERE id = %s', (line,))
        result = self.run_(reconcile, '-c', self.conf, '-d', self.db)
        self.assertEqual(result.stdout.splitlines()[0], 'OK')


if __name__ == '__main__':
    unittest.main()
