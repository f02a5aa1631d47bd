# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The Tryton 8.0 desktop client (GTK) against a running server.

Smoke test of what the county office does on its PCs: it installs
``tryton>=8.0,<8.1`` into a virtualenv made from Debian's python3 with
``--system-site-packages`` (Debian's python3-gi and GTK 3; kept in
var/tryton-client-venv and reused), copies the demo database of the
top-level tests (tests/demo_db.py), starts trytond on a free port, starts
Xvfb and opens the client on the household list::

    tryton -u county "tryton://127.0.0.1:PORT/DB/model/party.party;views=…"

(the URL of 惠农超市 > 农户 > 农户: its views, domain, context and name).
The client asks the password in a dialog; xdotool types a wrong one first
(the server must refuse it and the client ask again), then the right one.
The client runs in Chinese: LANG=zh_CN.UTF-8 (compiled with localedef into
the cache when the system lacks it), ``client.lang = zh_CN`` and the
user's language zh_CN.

It fails unless, after the right password, the server's log shows the
county office user's RPC calls that fill the list (``party.party.search``
with the household domain, then ``party.party.read`` whose result holds
every household of the database), the main window's title shows the
user's name, and the screenshot (artifacts/desktop-client-households.png,
taken with Pillow from the Xvfb display) is not blank.  On failure it saves
artifacts/desktop-client-failure.png and prints the logs.

The database is SQLite, or PostgreSQL when scripts/test runs only its
PostgreSQL pass (the server set-up is the browser test's,
tests/test_browser.py; with both backends it runs in the SQLite pass).

Skipped when Xvfb, xdotool, localedef or Debian's python3 with GTK 3 is
missing, or when pip cannot install the client, unless CI=true: then each
of those fails the test.  Debian packages: xvfb xdotool python3-gi
python3-gi-cairo gir1.2-gtk-3.0 librsvg2-common adwaita-icon-theme locales
(scripts/lib.sh huinong_apt_deps installs them).
Environment: HUINONG_TRYTON_CLIENT_VENV (default var/tryton-client-venv),
HUINONG_SYSTEM_PYTHON (default /usr/bin/python3).
"""
import ast
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_browser  # noqa: E402  (its server helpers)

ROOT = test_browser.ROOT
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
import setup_db  # noqa: E402  (standard library only at import)

IN_CI = test_browser.IN_CI
SYSTEM_PYTHON = os.environ.get('HUINONG_SYSTEM_PYTHON', '/usr/bin/python3')
CLIENT_VENV = os.environ.get('HUINONG_TRYTON_CLIENT_VENV') or os.path.join(
    ROOT, 'var', 'tryton-client-venv')
CLIENT_REQUIREMENT = 'tryton>=8.0,<8.1'
HOUSEHOLDS = test_browser.HOUSEHOLDS
LOGIN = 'county'
USER_NAME = dict((u[0], u[1]) for u in setup_db.DEMO_USERS)[LOGIN]
ADMIN_PASSWORD = test_browser.ADMIN_PASSWORD
DEMO_PASSWORD = test_browser.DEMO_PASSWORD
SCREEN = (1400, 1000)
# Seconds to wait for the client at each step (first start compiles .pyc)
TIMEOUT = 90
LOG_CONF = '''\
[formatters]
keys=simple
[handlers]
keys=file
[loggers]
keys=root,dispatcher,security
[formatter_simple]
format=%%(asctime)s %%(levelname)s %%(name)s %%(message)s
[handler_file]
class=FileHandler
formatter=simple
args=(%(path)r, 'w', 'utf-8')
[logger_root]
level=WARNING
handlers=file
[logger_dispatcher]
level=DEBUG
handlers=
qualname=trytond.protocols.dispatcher
[logger_security]
level=INFO
handlers=
qualname=trytond.security
'''


def missing_pieces():
    "What the test needs and this machine lacks, as sentences"
    missing = []
    for command, package in [
            ('Xvfb', 'xvfb'), ('xdotool', 'xdotool'),
            ('localedef', 'locales')]:
        if not shutil.which(command):
            missing.append("no %s (apt-get install %s)" % (command, package))
    if not os.path.exists('/usr/share/i18n/locales/zh_CN'):
        missing.append("no zh_CN locale source for localedef "
            "(apt-get install locales)")
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        missing.append("no %s (python3)" % SYSTEM_PYTHON)
    else:
        result = subprocess.run([SYSTEM_PYTHON, '-c',
                "import gi; gi.require_version('Gtk', '3.0'); "
                "gi.require_version('GdkPixbuf', '2.0'); "
                "import cairo; from gi.repository import GdkPixbuf"],
            capture_output=True, text=True)
        if result.returncode:
            missing.append("%s lacks GTK 3 (apt-get install python3-gi "
                "python3-gi-cairo gir1.2-gtk-3.0 librsvg2-common "
                "adwaita-icon-theme): %s" % (
                    SYSTEM_PYTHON, result.stderr.strip()[-200:]))
    return missing


def skip_or_fail(reason):
    if IN_CI:
        raise RuntimeError(
            "CI=true and the desktop client test cannot run: " + reason)
    raise unittest.SkipTest(reason)


@contextlib.contextmanager
def client_lock():
    """Held while the client's virtualenv and locale are made: the two
    backends' runs of scripts/test may get there at once; the first makes
    them, the other waits and reuses them."""
    os.makedirs(os.path.dirname(CLIENT_VENV), exist_ok=True)
    with open(CLIENT_VENV + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def client_venv():
    """The virtualenv holding the Tryton client (made once, then reused);
    return the path of its `tryton` script"""
    tryton = os.path.join(CLIENT_VENV, 'bin', 'tryton')
    python = os.path.join(CLIENT_VENV, 'bin', 'python')
    check = [python, '-c', 'import sys, tryton; '
        'sys.exit(not tryton.__version__.startswith("8.0."))']
    if (os.path.exists(tryton)
            and subprocess.run(check, capture_output=True).returncode == 0):
        return tryton
    shutil.rmtree(CLIENT_VENV, ignore_errors=True)
    steps = [
        [SYSTEM_PYTHON, '-m', 'venv', '--system-site-packages', CLIENT_VENV],
        [python, '-m', 'pip', 'install', '--disable-pip-version-check',
            '-q', CLIENT_REQUIREMENT],
        check,
        ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True,
            timeout=600)
        if result.returncode:
            shutil.rmtree(CLIENT_VENV, ignore_errors=True)
            skip_or_fail("installing %s failed (%s): %s" % (
                    CLIENT_REQUIREMENT, ' '.join(step[:3]),
                    (result.stdout + result.stderr).strip()[-500:]))
    return tryton


def chinese_locale_env():
    """LANG=zh_CN.UTF-8, with LOCPATH pointing at a locale compiled into
    the cache when the system has no zh_CN.UTF-8"""
    env = {'LANG': 'zh_CN.UTF-8', 'LANGUAGE': 'zh_CN', 'LC_ALL': ''}
    available = subprocess.run(['locale', '-a'], capture_output=True,
        text=True).stdout.lower().split()
    if 'zh_cn.utf8' in available:
        return env
    locpath = os.path.join(CLIENT_VENV, 'locale')
    target = os.path.join(locpath, 'zh_CN.UTF-8')
    if not os.path.exists(os.path.join(target, 'LC_CTYPE')):
        os.makedirs(locpath, exist_ok=True)
        result = subprocess.run(
            ['localedef', '-i', 'zh_CN', '-f', 'UTF-8', target],
            capture_output=True, text=True)
        if result.returncode:
            skip_or_fail("localedef zh_CN.UTF-8 failed: %s"
                % (result.stdout + result.stderr).strip()[-300:])
    env['LOCPATH'] = locpath
    return env


class DesktopClientTestCase(unittest.TestCase):
    "The Tryton desktop client, in Chinese, on the household list"

    # The browser test's server and database helpers
    setup_backend = vars(test_browser.DemoServerTestCase)['setup_backend']
    postgresql_dsn = vars(test_browser.DemoServerTestCase)['postgresql_dsn']
    drop_postgresql = vars(test_browser.DemoServerTestCase)['drop_postgresql']
    wait_for_server = vars(test_browser.DemoServerTestCase)['wait_for_server']
    read_server_log = vars(test_browser.DemoServerTestCase)['read_server_log']
    stop_server = vars(test_browser.DemoServerTestCase)['stop_server']
    query = vars(test_browser.DemoServerTestCase)['query']

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        test_browser.skip_client_pass()
        missing = missing_pieces()
        if missing:
            skip_or_fail("; ".join(missing))
        with client_lock():
            cls.tryton = client_venv()
            cls.locale_env = chinese_locale_env()

        for name in ['households', 'failure']:
            path = os.path.join(
                test_browser.artifacts_dir(), 'desktop-client-%s.png' % name)
            if os.path.exists(path):
                os.remove(path)

        cls.tmp = tempfile.mkdtemp(prefix='huinong-desktop-')
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.port = test_browser.free_port()
        cls.url = 'http://127.0.0.1:%d/' % cls.port
        cls.setup_backend()
        # wait_for_server() GETs / : serve a page there
        www = os.path.join(cls.tmp, 'www')
        os.makedirs(www)
        with open(os.path.join(www, 'index.html'), 'w') as fp:
            fp.write('<html><body>huinong</body></html>\n')
        cls.rpc_log = os.path.join(cls.tmp, 'rpc.log')
        cls.log_conf = os.path.join(cls.tmp, 'logging.conf')
        with open(cls.log_conf, 'w') as fp:
            fp.write(LOG_CONF % {'path': cls.rpc_log})
        cls.config = os.path.join(cls.tmp, 'trytond.conf')
        with open(cls.config, 'w') as fp:
            fp.write('\n'.join([
                        '[database]',
                        'uri = %s' % cls.db_uri,
                        'path = %s' % os.path.join(cls.tmp, 'db'),
                        '[web]',
                        'listen = 127.0.0.1:%d' % cls.port,
                        'root = %s' % www,
                        '[session]',
                        'max_attempt = 100',
                        '']))

        # The demo database: a copy of the one built once per run
        test_browser.demo_db.create(
            cls.db_uri, cls.db_name, os.path.join(cls.tmp, 'db'))

        cls.server_log = open(os.path.join(cls.tmp, 'trytond.log'), 'w+')
        cls.addClassCleanup(cls.server_log.close)
        cls.server = subprocess.Popen([sys.executable, '-m', 'trytond.cli',
                '-c', cls.config, '-d', cls.db_name,
                '--logconf', cls.log_conf],
            cwd=ROOT, env=test_browser.clean_env(), stdout=cls.server_log,
            stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop_server)
        cls.wait_for_server()

    # --- processes ------------------------------------------------------------

    def start_xvfb(self):
        "Start Xvfb on a display it picks itself; return ':N'"
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(['Xvfb', '-displayfd', str(write),
                '-screen', '0', '%dx%dx24' % SCREEN, '-nolisten', 'tcp'],
            pass_fds=[write], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(self.stop, self.xvfb)
        os.close(write)
        with os.fdopen(read) as fp:
            number = fp.readline().strip()
        if not number.isdigit():
            raise RuntimeError("Xvfb did not start (%s)" % self.xvfb.poll())
        return ':' + number

    def stop(self, process):
        "Stop a process started by this test (and its own children)"
        if process.poll() is None:
            try:
                os.killpg(process.pid, 15)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)

    def household_url(self):
        "The URL the clients give for 惠农超市 > 农户 > 农户"
        (list_view,), (form_view,) = [self.query(
                "SELECT db_id FROM ir_model_data "
                "WHERE module = 'huinong_household' AND fs_id = '%s'" % fs_id)[0]
            for fs_id in ['household_view_list', 'household_view_form']]
        params = urllib.parse.urlencode([
                ('views', json.dumps([list_view, form_view])),
                ('domain', json.dumps([['huinong_household', '=', True]])),
                ('context', json.dumps({'huinong_household': True})),
                ('name', json.dumps('农户')),
                ])
        return 'tryton://127.0.0.1:%d/%s/model/party.party;%s' % (
            self.port, urllib.parse.quote(self.db_name), params)

    def start_client(self, display):
        home = os.path.join(self.tmp, 'home')
        config_dir = os.path.join(home, '.config', 'tryton', '8.0')
        os.makedirs(config_dir, exist_ok=True)
        with open(os.path.join(config_dir, 'tryton.conf'), 'w') as fp:
            fp.write('[client]\nlang = zh_CN\ncheck_version = False\n'
                '[login]\nprofile = \n')
        env = {k: v for k, v in os.environ.items()
            if not k.startswith(('TRYTOND_', 'LC_', 'XDG_', 'DBUS_'))}
        env.update(self.locale_env)
        env.update({
                'HOME': home,
                'XDG_CONFIG_HOME': os.path.join(home, '.config'),
                'DISPLAY': display,
                'NO_AT_BRIDGE': '1',
                'GSETTINGS_BACKEND': 'memory',
                })
        command = [self.tryton, '-v', '-u', LOGIN, self.household_url()]
        if shutil.which('dbus-run-session'):
            # Gtk.Application registers itself on a session bus
            command = ['dbus-run-session', '--'] + command
        self.client_log_path = os.path.join(self.tmp, 'client.log')
        self.client_log = open(self.client_log_path, 'w')
        self.addCleanup(self.client_log.close)
        self.client = subprocess.Popen(command, env=env,
            stdout=self.client_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.addCleanup(self.stop, self.client)

    # --- X ----------------------------------------------------------------------

    def xdotool(self, *args, check=True):
        result = subprocess.run(['xdotool', *args], env=self.x_env,
            capture_output=True, text=True, timeout=30)
        if check and result.returncode:
            raise AssertionError("xdotool %s failed: %s" % (
                    ' '.join(args), result.stderr))
        return result.stdout

    def windows(self):
        "(id, title, width, height) of every visible window"
        windows = []
        ids = self.xdotool('search', '--onlyvisible', '--name', '',
            check=False).split()
        for wid in ids:
            geometry = dict(line.split('=', 1) for line in self.xdotool(
                    'getwindowgeometry', '--shell', wid,
                    check=False).split())
            if not geometry:
                continue
            name = self.xdotool('getwindowname', wid, check=False).strip()
            windows.append((wid, name,
                    int(geometry['WIDTH']), int(geometry['HEIGHT'])))
        return windows

    def main_window(self):
        for window in self.windows():
            if 'Tryton' in window[1] and window[2] > 400:
                return window

    def password_dialog(self, exclude=()):
        "The password dialog: a small untitled window over the main one"
        for window in self.windows():
            wid, name, width, height = window
            if (wid not in exclude and 'Tryton' not in name
                    and 100 <= width < 800 and 50 <= height < 600):
                return window

    def wait_for(self, what, func, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            if self.client.poll() is not None:
                raise AssertionError("the client exited (%s) while waiting "
                    "for %s" % (self.client.returncode, what))
            value = func()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("no %s after %ds" % (what, timeout))
            time.sleep(0.3)

    def type_password(self, dialog, password):
        self.xdotool('windowfocus', '--sync', dialog[0])
        self.xdotool('type', '--delay', '20', '--window', dialog[0],
            password)
        self.xdotool('key', '--window', dialog[0], 'Return')

    def settled_screen(self, name='households'):
        """(image, path) of the screen when it is drawn (many colours) and
        the same as at the last call, else None"""
        image, path = self.screenshot(name)
        previous, self._last_grab = getattr(self, '_last_grab', None), image
        if (previous is not None and previous.tobytes() == image.tobytes()
                and len(image.getcolors(maxcolors=1 << 20) or []) > 50):
            return image, path

    def screenshot(self, name):
        from PIL import ImageGrab
        image = ImageGrab.grab(xdisplay=self.x_env['DISPLAY'])
        path = os.path.join(
            test_browser.artifacts_dir(), 'desktop-client-%s.png' % name)
        image.save(path)
        return image, path

    # --- the server log -----------------------------------------------------------

    def rpc_lines(self):
        with open(self.rpc_log, encoding='utf-8') as fp:
            return fp.read().splitlines()

    def calls(self, method, user=LOGIN):
        """(line, result line) of each logged call of method by user: the
        dispatcher logs 'METHOD(ARGS) from USER@ADDRESS/DB/rpc/ in N ms'
        then 'Result: …' (DEBUG)"""
        lines = self.rpc_lines()
        found = []
        marker = ' from %s@' % user
        for i, line in enumerate(lines):
            if (' trytond.protocols.dispatcher %s(' % method in line
                    and marker in line):
                result = next((r for r in lines[i + 1:i + 3]
                        if ' Result: ' in r), None)
                found.append((line, result))
        return found

    # --- the test -----------------------------------------------------------------

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        outcome = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            logs = []
            for path in [getattr(self, 'client_log_path', None),
                    getattr(self, 'rpc_log', None)]:
                if path and os.path.exists(path):
                    with open(path, encoding='utf-8', errors='replace') as fp:
                        logs.append('--- %s\n%s' % (path, fp.read()[-4000:]))
            print("server log:\n%s\n%s" % (
                    self.read_server_log(), '\n'.join(logs)), file=sys.stderr)
        return outcome

    def test_county_office_opens_household_list(self):
        "County office: wrong password refused, then the household list"
        households = self.query("SELECT i.code, p.name "
            "FROM party_party AS p JOIN party_identifier AS i "
            "ON i.party = p.id AND i.type = 'cn_ric' "
            "WHERE p.huinong_household AND p.active")
        self.assertEqual(len(households), HOUSEHOLDS)

        display = self.start_xvfb()
        self.x_env = dict(os.environ, DISPLAY=display)
        self.start_client(display)
        try:
            main = self.wait_for("client window", self.main_window)
            # No window manager: put the window on the screen
            self.xdotool('windowmove', '--sync', main[0], '0', '0',
                check=False)
            self.xdotool('windowsize', '--sync', main[0], *map(str, SCREEN),
                check=False)

            # A wrong password: refused, asked again, nothing loaded
            dialog = self.wait_for("password dialog", self.password_dialog)
            self.type_password(dialog, 'not-the-password')
            self.wait_for("refused login in the server log", lambda: any(
                    "login failed for '%s'" % LOGIN in line
                    for line in self.rpc_lines()))
            dialog = self.wait_for("password dialog asked again",
                lambda: self.password_dialog(exclude={dialog[0]}))
            self.assertFalse(self.calls('party.party.search'))
            self.assertEqual(self.main_window()[1], 'Tryton',
                "nobody is logged in yet")

            # The right one
            self.type_password(dialog, DEMO_PASSWORD)
            self.wait_for("accepted login in the server log", lambda: any(
                    "login succeeded for '%s'" % LOGIN in line
                    for line in self.rpc_lines()))
            reads = self.wait_for("party.party.read of the list",
                lambda: [c for c in self.calls('party.party.read') if c[1]])
            main = self.wait_for("the user's name in the title",
                lambda: (lambda w: w if w and USER_NAME in w[1] else None)(
                    self.main_window()))
            # GTK has drawn the rows when the screen is a drawn window
            # that stopped changing (two grabs in a row the same)
            image, path = self.wait_for("the list drawn", self.settled_screen)
        except Exception:
            try:
                self.screenshot('failure')
            except Exception:
                pass
            raise

        # The list was asked with the household action's domain...
        searches = self.calls('party.party.search')
        self.assertTrue(searches)
        self.assertIn("[['huinong_household', '=', True]]", searches[0][0])
        # ...and read with the columns of the household list view...
        reads = [(line, result) for line, result in reads
            if "'huinong_resident_id'" in line]
        self.assertTrue(reads)
        for field in ['huinong_village', 'huinong_township']:
            self.assertIn("'%s'" % field, reads[0][0])
        # ...and the client received every household of the database
        rows = {}
        for line, result in reads:
            for row in ast.literal_eval(result.split(' Result: ', 1)[1]
                    .replace("Decimal('", "('")):
                rows[row['id']] = (row['huinong_resident_id'], row['name'])
        self.assertEqual(sorted(rows.values()), sorted(households))
        # in Chinese: the server answered in the user's language
        self.assertTrue(any("'language': 'zh_CN'" in c[0] for c in reads))
        self.assertIn(USER_NAME, main[1])
        # The screenshot is a drawn window, not an empty screen
        colors = image.getcolors(maxcolors=1 << 20)
        self.assertGreater(len(colors or []), 50, path)
        self.assertTrue(os.path.getsize(path) > 10_000, path)


if __name__ == '__main__':
    unittest.main()
