# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The sao web client in a real browser (headless Debian chromium).

Copies the demo database of the top-level tests (tests/demo_db.py: built
once with scripts/setup_db.py, 40 households), starts trytond serving sao
on a free loopback port, logs in as the
七坊镇 office user and checks that the interface is Chinese and that the
household list holds exactly the households of 七坊镇 (compared with the
database); the 七坊镇 clerk redeems at the counter; the finance bureau
opens the points-per-month graph and runs the reconciliation check (OK on
the demo's books).  Screenshots go to $HUINONG_ARTIFACTS (default artifacts/).

The database is SQLite in a temporary folder, or PostgreSQL when
scripts/test runs only its PostgreSQL pass (HUINONG_TEST_BACKEND=postgresql
and TRYTOND_DATABASE_URI set): then a database of its own, dropped at the
end.  When scripts/test runs both backends, the client tests (this one,
the desktop client's and the screens') run in the SQLite pass only: a
client does not know which database its server uses.

Skipped only when chromium, the sao folder or the playwright package is
missing AND the environment is not CI; with CI=true a missing piece fails.
Paths: HUINONG_CHROMIUM (default /usr/bin/chromium), HUINONG_SAO_DIR
(default var/sao/www, fetched by `. scripts/lib.sh; huinong_sao`).
"""
import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_db  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP_DB = os.path.join(ROOT, 'scripts', 'setup_db.py')
CHROMIUM = os.environ.get('HUINONG_CHROMIUM', '/usr/bin/chromium')
SAO_DIR = os.environ.get('HUINONG_SAO_DIR') or os.path.join(
    ROOT, 'var', 'sao', 'www')
IN_CI = os.environ.get('CI', '').lower() in {'true', '1', 'yes'}
CHROMIUM_ARGS = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-dev-shm-usage',
    ]
HOUSEHOLDS = demo_db.HOUSEHOLDS
LOGIN = 'qifang_office'
TOWNSHIP = '七坊镇'
ADMIN_PASSWORD = demo_db.ADMIN_PASSWORD
DEMO_PASSWORD = demo_db.DEMO_PASSWORD
# Milliseconds Playwright waits for an element (the first page load
# compiles a lot of JavaScript on a slow machine)
TIMEOUT = 60_000
EXPECT_TIMEOUT = 30_000


def artifacts_dir():
    path = os.environ.get('HUINONG_ARTIFACTS') or os.path.join(
        ROOT, 'artifacts')
    os.makedirs(path, exist_ok=True)
    return path


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def missing_pieces():
    "What the test needs and this machine lacks, as sentences"
    missing = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append("no chromium at %s (apt-get install chromium "
            "fonts-noto-cjk, or set HUINONG_CHROMIUM)" % CHROMIUM)
    if not os.path.isfile(os.path.join(SAO_DIR, 'index.html')):
        missing.append("no sao web client in %s (. scripts/lib.sh; "
            "huinong_sao)" % SAO_DIR)
    if importlib.util.find_spec('playwright') is None:
        missing.append("the playwright package is not installed "
            "(pip install -e '.[test]')")
    return missing


clean_env = demo_db.clean_env


def skip_client_pass():
    """Skip the client tests in the PostgreSQL pass of a run that also has
    a SQLite pass: they check the client, which is the same either way"""
    backends = os.environ.get('HUINONG_TEST_BACKENDS', '').split()
    if (os.environ.get('HUINONG_TEST_BACKEND') == 'postgresql'
            and 'sqlite' in backends):
        raise unittest.SkipTest("the clients do not depend on the "
            "database backend: run in the SQLite pass")


class DemoServerTestCase(unittest.TestCase):
    """A copy of the demo database served with sao by trytond, and a
    headless chromium for each test (no test of its own)"""
    # screenshots of an earlier run this class makes again (a failure's
    # would mislead)
    screenshots = []
    viewport = {'width': 1400, 'height': 900}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        skip_client_pass()
        missing = missing_pieces()
        if missing:
            reason = "; ".join(missing)
            if IN_CI:
                raise RuntimeError(
                    "CI=true and the browser test cannot run: " + reason)
            raise unittest.SkipTest(reason)

        # A failure screenshot of an earlier run would mislead
        for name in cls.screenshots + ['failure']:
            path = os.path.join(artifacts_dir(), 'browser-%s.png' % name)
            if os.path.exists(path):
                os.remove(path)

        cls.tmp = tempfile.mkdtemp(prefix='huinong-browser-')
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.port = free_port()
        cls.url = 'http://127.0.0.1:%d/' % cls.port
        cls.setup_backend()
        cls.config = os.path.join(cls.tmp, 'trytond.conf')
        with open(cls.config, 'w') as fp:
            fp.write(cls.config_text())

        # The demo database: a copy of the one built once per run
        cls.setup_seconds = demo_db.create(
            cls.db_uri, cls.db_name, os.path.join(cls.tmp, 'db'))

        # The server; -d loads the pool at start (trytond 8.0.12 does not
        # load it on a first request, see scripts/demo)
        cls.server_log = open(os.path.join(cls.tmp, 'trytond.log'), 'w+')
        cls.addClassCleanup(cls.server_log.close)
        cls.server = subprocess.Popen([sys.executable, '-m', 'trytond.cli',
                '-c', cls.config, '-d', cls.db_name],
            cwd=ROOT, env=clean_env(), stdout=cls.server_log,
            stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop_server)
        cls.wait_for_server()

    @classmethod
    def setup_backend(cls):
        uri = os.environ.get('TRYTOND_DATABASE_URI') or os.environ.get(
            'TRYTOND_DATABASE__URI')
        if (os.environ.get('HUINONG_TEST_BACKEND') == 'postgresql'
                and uri and uri.startswith('postgresql')):
            cls.backend = 'postgresql'
            cls.db_uri = uri
            cls.db_name = 'hn_browser_%d_%d' % (int(time.time()), os.getpid())
            cls.addClassCleanup(cls.drop_postgresql)
        else:
            cls.backend = 'sqlite'
            cls.db_uri = 'sqlite://'
            cls.db_name = 'browser'

    @classmethod
    def config_text(cls):
        lines = [
            '[database]',
            'uri = %s' % cls.db_uri,
            'path = %s' % os.path.join(cls.tmp, 'db'),
            '[web]',
            'listen = 127.0.0.1:%d' % cls.port,
            'root = %s' % SAO_DIR,
            '[session]',
            # Every run logs in again from the same address
            'max_attempt = 100',
            ]
        return '\n'.join(lines) + '\n'

    @classmethod
    def postgresql_dsn(cls, database):
        uri = urllib.parse.urlsplit(cls.db_uri)
        return urllib.parse.urlunsplit(
            uri._replace(path='/' + database, query=''))

    @classmethod
    def drop_postgresql(cls):
        import psycopg
        with psycopg.connect(cls.postgresql_dsn('postgres'),
                autocommit=True, connect_timeout=10) as conn:
            conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                % cls.db_name)

    @classmethod
    def wait_for_server(cls, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            if cls.server.poll() is not None:
                raise RuntimeError("trytond exited with %s:\n%s" % (
                        cls.server.returncode, cls.read_server_log()))
            try:
                with urllib.request.urlopen(cls.url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("trytond does not answer on %s after "
                    "%ds:\n%s" % (cls.url, timeout, cls.read_server_log()))
            time.sleep(0.2)

    @classmethod
    def read_server_log(cls):
        cls.server_log.flush()
        cls.server_log.seek(0)
        return cls.server_log.read()[-5000:]

    @classmethod
    def stop_server(cls):
        if cls.server.poll() is None:
            cls.server.terminate()
            try:
                cls.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.server.kill()
                cls.server.wait(timeout=15)

    # --- the database, as the test's oracle ---------------------------------

    def query(self, sql):
        if self.backend == 'sqlite':
            import sqlite3
            path = os.path.join(self.tmp, 'db', self.db_name + '.sqlite')
            with contextlib.closing(sqlite3.connect(path)) as conn:
                return conn.execute(sql).fetchall()
        import psycopg
        with psycopg.connect(self.postgresql_dsn(self.db_name)) as conn:
            return conn.execute(sql).fetchall()

    def households(self):
        "(resident ID, head, township) of every active household"
        return self.query(
            "SELECT i.code, p.name, t.name "
            "FROM party_party AS p "
            "JOIN party_identifier AS i "
                "ON i.party = p.id AND i.type = 'cn_ric' "
            "JOIN huinong_area AS v ON v.id = p.huinong_village "
            "JOIN huinong_area AS t ON t.id = v.parent "
            "WHERE p.huinong_household AND p.active")

    # --- the browser --------------------------------------------------------

    def setUp(self):
        from playwright.sync_api import expect, sync_playwright
        # expect() waits 5 s by default: too short on a loaded machine
        # (the tests run beside others; CI machines are shared)
        expect.set_options(timeout=EXPECT_TIMEOUT)
        self.playwright = sync_playwright().start()
        self.addCleanup(self.playwright.stop)
        profile = os.path.join(
            self.tmp, 'chromium-profile-%s' % self._testMethodName)
        self.context = self.playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, locale='zh-CN', accept_downloads=True,
            viewport=self.viewport)
        self.addCleanup(self.context.close)
        self.context.set_default_timeout(TIMEOUT)
        self.page = (self.context.pages[0] if self.context.pages
            else self.context.new_page())
        self.console = []
        self.page.on('console', lambda m: self.console.append(
                '%s: %s' % (m.type, m.text)))
        self.page.on('pageerror', lambda e: self.console.append(
                'pageerror: %s' % e))

    def screenshot(self, name):
        path = os.path.join(artifacts_dir(), 'browser-%s.png' % name)
        self.page.screenshot(path=path, full_page=True)
        return path

    def run(self, result=None):
        # A screenshot of the page as it was when the test failed
        failures = len(result.failures) + len(result.errors) if result else 0
        outcome = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            print("server log:\n%s\nbrowser console:\n%s" % (
                    self.read_server_log(),
                    '\n'.join(getattr(self, 'console', [])[-50:])),
                file=sys.stderr)
        return outcome

    def login(self, login, password):
        page = self.page
        # The database comes from the URL: the login dialog asks the login,
        # then the password in a second dialog
        page.goto(self.url + '#' + self.db_name)
        # Submitting before sao has filled the database field (from
        # common.db.list: a read-only input for one database, a select for
        # several) does nothing: wait until it shows ours
        page.wait_for_function("""db => Array.from(
                document.querySelectorAll('.login-dialog [name=database]'))
            .some(e => e.offsetParent !== null && e.value === db)""",
            arg=self.db_name)
        page.locator('.login-dialog #login').fill(login)
        page.locator('.login-dialog #login').press('Enter')
        page.locator('#ask-dialog-entry').fill(password)
        page.locator('#ask-dialog-entry').press('Enter')

    def menu_rows(self, title):
        return self.page.locator('#menu tr').filter(
            has=self.page.locator('.column-char[title="%s"]' % title))



class BrowserTestCase(DemoServerTestCase):
    "sao in headless chromium against a demo database"
    screenshots = ['menu', 'households', 'counter', 'counter-done',
        'counter-wrong-pin', 'graph', 'reconcile']

    def test_township_office_sees_its_households_in_chinese(self):
        "七坊镇 office: Chinese menu, only the households of 七坊镇"
        from playwright.sync_api import expect
        page = self.page
        households = self.households()
        self.assertEqual(len(households), HOUSEHOLDS)
        mine = {code for code, _, township in households
            if township == TOWNSHIP}
        others = {code for code, _, township in households
            if township != TOWNSHIP}
        self.assertTrue(mine and others,
            "the demo data must have households in and out of %s" % TOWNSHIP)

        try:
            self.login(LOGIN, DEMO_PASSWORD)
            # The menu is Chinese: module strings (modules/*/locale/zh_CN.po)
            expect(self.menu_rows('惠农超市')).to_have_count(1)
            # and a core Tryton one (party's zh_CN translation)
            expect(self.menu_rows('参与者')).to_have_count(1)
            # The user shown in the header is the township office's
            expect(page.locator('body')).to_contain_text('七坊镇惠农超市办')
            self.screenshot('menu')

            # 惠农超市 > 农户 > 农户: a submenu and its list, same name
            self.menu_rows('惠农超市').locator('.expander').click()
            expect(self.menu_rows('农户')).to_have_count(1)
            self.menu_rows('农户').locator('.expander').click()
            expect(self.menu_rows('农户')).to_have_count(2)
            self.menu_rows('农户').nth(1).locator('.column-char').click()

            tab = page.locator('#tabcontent .tab-pane.active')
            expect(tab.locator('.title')).to_contain_text('农户')
            # The first domain tab is 贫困户; 全部 lists every household
            tab.locator('.nav-tabs a', has_text='全部').click()
            expect(tab.locator('.nav-tabs li.active')).to_contain_text('全部')
            # The record counter says "_/N" once the list is loaded
            expect(tab.locator('.badge').first).to_have_text(
                '_/%d' % len(mine))
            header = tab.locator('table.tree thead')
            for label in ['户主', '身份证号', '乡镇']:
                expect(header).to_contain_text(label)
            rows = tab.locator('table.tree > tbody > tr')
            expect(rows).to_have_count(len(mine))
            # sao draws the rows, then fills their cells: wait until each
            # row shows a resident ID before reading them
            an_id = re.compile('|'.join(map(re.escape, sorted(mine | others))))
            for index in range(len(mine)):
                expect(rows.nth(index)).to_contain_text(an_id)
            texts = rows.all_inner_texts()
            self.screenshot('households')
        except Exception:
            self.screenshot('failure')
            raise

        shown = set()
        for text in texts:
            codes = [c for c in mine | others if c in text]
            self.assertEqual(len(codes), 1,
                "row %r should show one resident ID of the database" % text)
            shown.add(codes[0])
            self.assertIn(TOWNSHIP, text)
        self.assertEqual(shown, mine,
            "the list must show every household of %s" % TOWNSHIP)
        self.assertFalse(shown & others,
            "households of other townships are shown")

    def counter_data(self):
        """A card of 七坊镇 with its balance, and the two cheapest goods in
        stock at the 七坊镇 store: [(barcode, points)]"""
        cards = self.query(
            # Numeric columns are text on SQLite: compare them as numbers
            "SELECT c.number, c.household, CAST(COALESCE(("
                "SELECT SUM(l.credit - l.debit) FROM account_move_line AS l "
                "JOIN account_account AS a ON a.id = l.account "
                "WHERE l.party = c.household AND a.code = '2201'), 0) "
                "AS REAL) "
            "FROM huinong_card AS c "
            "JOIN party_party AS p ON p.id = c.household "
            "JOIN huinong_area AS v ON v.id = p.huinong_village "
            "JOIN huinong_area AS t ON t.id = v.parent "
            "WHERE c.state = 'issued' AND t.name = '%s' "
            "ORDER BY 3 DESC, c.number" % TOWNSHIP)
        goods = self.query(
            # one approved price per store review: one row per product
            "SELECT i.code, MAX(CAST(pp.points_price AS REAL)) "
            "FROM huinong_product_points_price AS pp "
            "JOIN product_identifier AS i "
                "ON i.product = pp.product AND i.type = 'ean' "
            "GROUP BY i.code ORDER BY 2, i.code")
        return cards[0], goods[:2]

    def test_clerk_redeems_at_the_counter(self):
        "七坊镇 clerk: card, two barcodes, PIN, new balance; a wrong PIN"
        from playwright.sync_api import expect
        page = self.page
        (number, household, balance), goods = self.counter_data()
        balance = int(balance)
        points = sum(int(p) for _, p in goods)
        self.assertGreaterEqual(balance, points)
        done_query = ("SELECT COUNT(*) FROM huinong_redemption "
            "WHERE state = 'done' AND household = %d" % household)
        done_before, = self.query(done_query)

        def amount(value):
            "sao shows 1234 as 1,234"
            return re.compile(r'^%s$' % r',?'.join(
                    re.escape(c) for c in str(value)))

        def counter(again=False):
            "A new redemption at the counter, with the card"
            tab = page.locator('#tabcontent .tab-pane.active')
            if again:
                # The counter's tab is open: a new record in it
                tab.locator('button#new_').click()
            else:
                self.menu_rows('兑换柜台').locator('.column-char').click()
            expect(tab.locator('.title')).to_contain_text('兑换柜台')
            # The clerk's store comes with the new record's defaults:
            # typing the card before they arrive loses them
            expect(tab.locator('input[name=store]')).not_to_have_value('')
            # The exact number selects the card: no search dialog
            card = tab.locator('input[name=card_number]')
            card.fill(number)
            card.press('Tab')
            expect(tab.locator('input[name=head]')).not_to_have_value('')
            expect(page.locator('.modal-dialog:visible')).to_have_count(0)
            return tab

        try:
            self.login('qifang_clerk', DEMO_PASSWORD)
            self.menu_rows('惠农超市').locator('.expander').click()
            self.menu_rows('积分兑换').locator('.expander').click()
            tab = counter()
            expect(tab.locator('input[name=balance]').first).to_have_value(
                amount(balance))
            for code, _ in goods:
                scan = tab.locator('input[name=scan]')
                scan.fill(code)
                scan.press('Enter')
                # The field is emptied once the line is added
                expect(scan).to_have_value('')
            expect(tab.locator('input[name=total_points]').first).to_have_value(
                amount(points))
            self.screenshot('counter')
            tab.locator('button', has_text='确认').first.click()
            dialog = page.locator('.modal-dialog').last
            dialog.locator('input[name=pin]').fill('135790')
            # The wizard prints the receipt: sao downloads the PDF through
            # its Download dialog, then reloads the form.  Wait for both:
            # on a loaded machine the receipt takes seconds, and a new
            # record started before the reload is asked to be saved.
            with page.expect_download(timeout=TIMEOUT) as receipt:
                dialog.locator('.modal-footer button', has_text='确认').click()
            self.assertTrue(
                receipt.value.suggested_filename.endswith('.pdf'))
            expect(page.locator('.modal-backdrop')).to_have_count(0)
            # sao's option values are JSON: "done"
            expect(tab.locator('select[name=state]')).to_have_value(
                re.compile('done'))
            expect(tab.locator('input[name=balance]').first).to_have_value(
                amount(balance - points))
            self.screenshot('counter-done')

            # Again, with a wrong PIN: refused
            tab = counter(again=True)
            scan = tab.locator('input[name=scan]')
            scan.fill(goods[0][0])
            scan.press('Enter')
            expect(tab.locator('input[name=total_points]').first).to_have_value(
                amount(int(goods[0][1])))
            tab.locator('button', has_text='确认').first.click()
            dialog = page.locator('.modal-dialog').last
            dialog.locator('input[name=pin]').fill('000000')
            dialog.locator('.modal-footer button', has_text='确认').click()
            # The error of the card's PIN check, in Chinese
            expect(page.locator('.modal-dialog', has_text='密码错误')
                ).to_be_visible()
            self.screenshot('counter-wrong-pin')
        except Exception:
            self.screenshot('failure')
            raise

        # One more redemption done: the refused one is not
        done_after, = self.query(done_query)
        self.assertEqual(done_after[0], done_before[0] + 1)


    def test_finance_graph_and_reconciliation(self):
        "Finance bureau: the points per month graph, the check says OK"
        from playwright.sync_api import expect
        page = self.page
        try:
            self.login('finance', DEMO_PASSWORD)
            self.menu_rows('惠农超市').locator('.expander').click()
            self.menu_rows('积分兑现结算').locator('.expander').click()

            # A graph view (sao draws it with c3 as SVG), the series named
            # in Chinese
            self.menu_rows('各乡镇每月积分统计').locator(
                '.column-char').click()
            tab = page.locator('#tabcontent .tab-pane.active')
            expect(tab.locator('.title')).to_contain_text('各乡镇每月积分统计')
            graph = tab.locator('svg').first
            expect(graph).to_be_visible()
            expect(graph).to_contain_text('发放积分')
            expect(graph).to_contain_text('兑换积分')
            # the demo's months (accounting periods) on the axis
            expect(graph).to_contain_text(re.compile(r'\d{4}-\d{2}'))
            self.screenshot('graph')

            # The reconciliation check on the demo's books
            self.menu_rows('对账检查').locator('.column-char').click()
            form = page.locator('#tabcontent .tab-pane.active, '
                '.modal-dialog').last
            form.locator('button', has_text='检查').click()
            expect(page.locator('textarea').last).to_have_value(
                re.compile('^OK'))
            self.screenshot('reconcile')
        except Exception:
            self.screenshot('failure')
            raise


class PhoneCounterTestCase(DemoServerTestCase):
    "The counter on a phone (390×844)"
    viewport = {'width': 390, 'height': 844}
    screenshots = ['phone-counter']

    def test_counter_on_a_phone(self):
        "Card, balance, scan, lines, total and confirm on the first screen"
        from playwright.sync_api import expect

        import screens
        page = self.page
        (number, _, balance), goods = self.counter_data()
        try:
            screens.login(page, self.url, self.db_name, 'qifang_clerk',
                DEMO_PASSWORD)
            page.evaluate(screens.INSTRUMENT)
            rpc = screens.RPC(self.url, self.db_name, 'qifang_clerk',
                DEMO_PASSWORD)
            counter, = [m for m in rpc.menus()
                if m['complete_name'].endswith('兑换柜台')]
            page.evaluate("""id => Sao.Action.exec_keyword('tree_open',
                {model: 'ir.ui.menu', id: id}, null, false)""",
                counter['id'])
            tab = page.locator('#tabcontent .tab-pane.active')
            card = tab.locator('input[name=card_number]')
            expect(card).to_be_visible()
            card.fill(number)
            card.press('Tab')
            expect(tab.locator('input[name=head]')).not_to_have_value('')
            scan = tab.locator('input[name=scan]')
            scan.fill(goods[0][0])
            scan.press('Enter')
            expect(scan).to_have_value('')
            rows = tab.locator('.form table.tree > tbody > tr')
            expect(rows.first).to_be_visible()
            # a phone shows a line's columns one under the other: its goods
            # (the first column) must be on the first screen
            # (the goods' name: the row's first link with a text)
            first_goods = rows.first.locator('a').filter(
                has_text=re.compile(r'\S')).first
            self.screenshot('phone-counter')
            for name, locator in [
                    ('card', card),
                    ('balance', tab.locator('input[name=balance]').first),
                    ('scan', scan),
                    ('lines', first_goods),
                    ('total', tab.locator(
                            'input[name=total_points]').first),
                    ('confirm', tab.locator(
                            'button', has_text='确认').first),
                    ]:
                box = locator.bounding_box()
                self.assertIsNotNone(box, name)
                self.assertLessEqual(box['x'] + box['width'], 390 + 1,
                    "%s is wider than the phone" % name)
                self.assertLess(box['y'] + box['height'], 844,
                    "%s is below the first screen (y=%d)" % (
                        name, box['y']))
        except Exception:
            self.screenshot('failure')
            raise

    counter_data = BrowserTestCase.counter_data


if __name__ == '__main__':
    unittest.main()
