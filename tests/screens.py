# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Walk every screen a user can reach in sao, as that user.

Used by tests/test_screens.py; also runs on its own against any server,
which is how a developer checks a change quickly::

    .venv/bin/python tests/screens.py --url http://127.0.0.1:8000/ \\
        --db demo --login county --password huinong2024

For the user, the walker takes the menu entries the server gives that user
(``ir.ui.menu`` read over JSON-RPC with the user's session, so a new menu
is walked as soon as it exists) and, in the browser, activates each one as
sao's menu does (``Sao.Action.exec_keyword('tree_open', …)``):

- a window action opens a tab: its list (and each of its domain tabs),
  then the form of its first record (the list's first row, switched to
  the form), then every notebook page of that form, then every entry of
  the form's "launch action", "open related records" and "print" menus
  up to their first step (a wizard's first dialog, a related list, the
  report's download);
- a wizard opens its first dialog (or tab);
- a report downloads its file.

Each step waits for its condition: no request of sao in flight (sao.rpc
is counted) and the thing itself there (the tab, the dialog, the
download), within one bound.  A step fails on a page error or a console
error, an "Application Error" dialog (the server's traceback), a user
error nobody allowed (see ``allowed``), a step that never ends, or an
English word on screen that is not in ENGLISH_ALLOWED.

Only the standard library and playwright are needed.
"""
import argparse
import base64
import json
import os
import re
import sys
import time
import urllib.request

# Bound of one step, in milliseconds (a first page load compiles a lot of
# JavaScript on a loaded machine)
STEP_TIMEOUT = 90_000

# ASCII words that may appear on a Chinese screen: units, codes and
# technical names a user of this system knows as they are.
ENGLISH_ALLOWED = {
    'PDF', 'ODT', 'CSV', 'XLSX', 'UTF', 'GBK', 'SMS', 'PIN', 'ID', 'QR',
    'EAN', 'CNY', 'PTS', 'URL', 'OK', 'Tryton', 'sao', 'ERP', 'EAN13',
    'ISBN', 'UPC', 'JSON', 'XML', 'HTML', 'PNG', 'JPG', 'JPEG',
    }

# Counting sao's requests: every Sao.rpc that returns a promise; a step
# is over when none is in flight for QUIET consecutive polls.
INSTRUMENT = """() => {
    if (window.__hn) {
        return;
    }
    const hn = window.__hn = {pending: 0, downloads: 0};
    const rpc = Sao.rpc;
    Sao.rpc = function(args, session, async) {
        if (async === false) {
            return rpc.apply(this, arguments);
        }
        hn.pending += 1;
        const prm = rpc.apply(this, arguments);
        prm.always(() => { hn.pending -= 1; });
        return prm;
    };
    Object.assign(Sao.rpc, rpc);
    const download = Sao.common.download_file;
    Sao.common.download_file = function() {
        hn.downloads += 1;
        return download.apply(this, arguments);
    };
}"""

STATE = """() => {
    const visible = el => el.offsetParent !== null
        || getComputedStyle(el).position === 'fixed'
            && getComputedStyle(el).display !== 'none';
    const tab = Sao.Tab.tabs.get_current();
    const modals = Array.from(document.querySelectorAll('.modal'))
        .filter(m => m.classList.contains('in') && visible(m));
    let current = null;
    if (tab) {
        const screen = tab.screen;
        const view = screen ? screen.current_view : null;
        current = {
            id: tab.id,
            name: tab.name_long || tab.name || '',
            model: screen ? screen.model_name : null,
            view_type: view ? view.view_type : null,
            records: screen && screen.group ? screen.group.length : 0,
            record_id: screen && screen.current_record
                ? screen.current_record.id : null,
        };
    }
    return {
        pending: window.__hn ? window.__hn.pending : 0,
        downloads: window.__hn ? window.__hn.downloads : 0,
        tabs: Sao.Tab.tabs.length,
        backdrops: document.querySelectorAll('.modal-backdrop').length,
        current: current,
        modals: modals.map(m => ({
            cls: m.className,
            title: (m.querySelector('.modal-title') || {}).textContent || '',
            text: m.innerText.slice(0, 2000),
        })),
    };
}"""


class ScreenError(AssertionError):
    pass


class RPC:
    "A JSON-RPC session of one user (the same calls as sao makes)"

    def __init__(self, url, database, login, password, language='zh_CN'):
        self.url = url.rstrip('/') + '/' + database + '/rpc/'
        self.login = login
        self._id = 0
        self.session = None
        self.user, self.session = self.call(
            'common.db.login', login, {'password': password}, language)[:2]
        self.context = self.call('model.res.user.get_preferences', True, {})

    def call(self, method, *params):
        self._id += 1
        request = urllib.request.Request(self.url, json.dumps({
                    'id': self._id, 'method': method,
                    'params': list(params)}).encode('utf-8'),
            {'Content-Type': 'application/json'})
        if self.session:
            token = base64.b64encode(('%s:%s:%s' % (
                        self.login, self.user, self.session)).encode('utf-8'))
            request.add_header('Authorization', 'Session ' + token.decode())
        with urllib.request.urlopen(request, timeout=120) as response:
            result = json.loads(response.read())
        if result.get('error'):
            raise RuntimeError('%s: %s' % (method, result['error']))
        return result['result']

    def model(self, model, method, *args):
        return self.call('model.%s.%s' % (model, method), *args,
            self.context)

    def menus(self):
        "The menu entries with an action this user sees, in menu order"
        menus = self.model('ir.ui.menu', 'search_read', [], 0, None, None,
            ['complete_name', 'action', 'name'])
        return sorted((m for m in menus if m['action']),
            key=lambda m: m['complete_name'])


def english_words(text):
    "The ASCII words of text that a Chinese user would not understand"
    words = set()
    for word in re.findall(r'[A-Za-z][A-Za-z]+', text):
        if word in ENGLISH_ALLOWED:
            continue
        words.add(word)
    return words


class Walker:
    """Walks the screens of one logged-in sao page; collects problems
    (one string each) in self.problems instead of stopping at the first."""

    def __init__(self, page, rpc, allowed=None, log=None, screenshots=None,
            seen=None):
        self.page = page
        # (model, menu, entry) of the toolbar entries walked already (by
        # another user: a wizard or report opens the same way for all)
        self.seen = seen if seen is not None else set()
        self.rpc = rpc
        # {(menu complete name or action name, kind): reason}: user
        # errors that are the right answer there
        self.allowed = allowed or {}
        self.log = log or (lambda *a: None)
        self.screenshots = screenshots
        self.problems = []
        self.visited = []
        self.errors = []
        page.on('pageerror', lambda e: self.errors.append(
                'page error: %s' % e))
        page.on('console', self._console)
        page.on('download', self._download)
        self.downloads = []

    def _console(self, message):
        if message.type == 'error':
            self.errors.append('console error: %s' % message.text)

    def _download(self, download):
        self.downloads.append(download.suggested_filename)

    # --- conditions -------------------------------------------------------

    def state(self):
        return self.page.evaluate(STATE)

    def settle(self, condition='true', arg=None, what='the step'):
        """Wait until no request is in flight for three polls running
        and condition (a JS expression over `s`, the state, and `arg`)
        holds"""
        script = """([condition, arg]) => {
            const s = (%s)();
            window.__hn.quiet = s.pending ? 0 : (window.__hn.quiet || 0) + 1;
            return window.__hn.quiet >= 3
                && s.backdrops <= s.modals.length && eval(condition);
        }""" % STATE
        try:
            self.page.wait_for_function(script, arg=[condition, arg],
                polling=100, timeout=STEP_TIMEOUT)
        except Exception as exception:
            raise ScreenError("%s did not end within %ds (%s): %s" % (
                    what, STEP_TIMEOUT // 1000, condition,
                    json.dumps(self.state(), ensure_ascii=False)[:1500])
                ) from exception

    # --- checks -----------------------------------------------------------

    def check(self, where, allow_key=None):
        """Record the problems of the screen as it is now: errors of the
        page, error dialogs, English words"""
        state = self.state()
        problems = ['%s: %s' % (where, e) for e in self.errors]
        self.errors.clear()
        for modal in state['modals']:
            if 'error-dialog' in modal['cls']:
                problems.append('%s: application error: %s' % (
                        where, modal['text'][:600]))
            elif 'warning-dialog' in modal['cls']:
                if allow_key not in self.allowed:
                    problems.append('%s: user error: %s' % (
                            where, modal['text'][:300]))
        text = self.page.evaluate("""() => {
            const parts = [];
            const tab = document.querySelector(
                '#tabcontent .tab-pane.active');
            if (tab) parts.push(tab.innerText);
            for (const m of document.querySelectorAll('.modal.in')) {
                parts.push(m.innerText);
            }
            const nav = document.querySelector('#tablist');
            if (nav) parts.push(nav.innerText);
            return parts.join('\\n');
        }""")
        words = english_words(text)
        if words:
            problems.append('%s: English on screen: %s' % (
                    where, ', '.join(sorted(words))))
        for problem in problems:
            self.log('PROBLEM ' + problem)
        self.problems.extend(problems)
        return state

    def screenshot(self, name):
        if self.screenshots:
            os.makedirs(self.screenshots, exist_ok=True)
            self.page.screenshot(path=os.path.join(
                    self.screenshots, name + '.png'), full_page=True)

    # --- closing ------------------------------------------------------------

    def close_modals(self, where):
        "Close every dialog: a wizard by its end state, others by Escape"
        for _ in range(10):
            state = self.state()
            if not state['modals']:
                return
            closed = self.page.evaluate("""() => {
                const modals = Array.from(
                    document.querySelectorAll('.modal.in'));
                const modal = modals[modals.length - 1];
                if (!modal) return false;
                // the last button of the footer that cancels / closes
                const buttons = Array.from(modal.querySelectorAll(
                    '.modal-footer button')).filter(
                        b => b.offsetParent !== null);
                const cancel = buttons.find(
                    b => /取消|关闭|不保存|否|Cancel|Close/.test(
                        b.textContent + (b.title || '')))
                    || buttons.find(b => b.classList.contains('btn-link'));
                if (cancel) {
                    cancel.click();
                    return 'button';
                }
                jQuery(modal).trigger(jQuery.Event(
                    'keydown', {which: 27, keyCode: 27}));
                jQuery(modal).modal('hide');
                return 'escape';
            }""")
            if not closed:
                return
            self.settle(what='closing a dialog at %s' % where)
        raise ScreenError("%s: dialogs do not close: %s" % (
                where, self.state()['modals']))

    def close_tabs(self, where):
        "Close every tab, answering 'do not save' when asked"
        for _ in range(20):
            state = self.state()
            if state['modals']:
                self.close_modals(where)
                continue
            if not state['tabs']:
                return
            self.page.evaluate("""() => {
                const tab = Sao.Tab.tabs.get_current()
                    || Sao.Tab.tabs[Sao.Tab.tabs.length - 1];
                const screen = tab.screen;
                if (screen && screen.current_record
                        && screen.current_record.modified) {
                    screen.current_record.cancel();
                }
                tab.close();
            }""")
            self.settle(what='closing the tab at %s' % where)
        raise ScreenError("%s: tabs do not close" % where)

    # --- the walk -----------------------------------------------------------

    def walk(self, menus=None):
        self.page.evaluate(INSTRUMENT)
        for menu in (menus if menus is not None else self.rpc.menus()):
            start = time.monotonic()
            try:
                self.walk_menu(menu)
            except ScreenError as error:
                self.problems.append(str(error))
                self.log('PROBLEM %s' % error)
            except Exception as error:
                self.problems.append('%s: %s: %s' % (
                        menu['complete_name'], type(error).__name__, error))
                self.log('PROBLEM %s' % self.problems[-1])
            finally:
                try:
                    self.close_tabs(menu['complete_name'])
                except Exception as error:
                    self.problems.append(str(error))
                    self.log('PROBLEM %s' % error)
                    self.page.reload()
                    self.page.locator('#menu .column-char').first.wait_for()
                    self.page.evaluate(INSTRUMENT)
                    # what the page said while it was unloaded
                    self.errors.clear()
            self.log('%5.1fs %s' % (
                    time.monotonic() - start, menu['complete_name']))
        return self.problems

    def walk_menu(self, menu):
        name = menu['complete_name']
        kind = menu['action'].split(',')[0]
        before = self.state()
        self.page.evaluate("""id => Sao.Action.exec_keyword('tree_open',
            {model: 'ir.ui.menu', id: id}, null, false)""", menu['id'])
        self.settle("s.tabs > arg[0] || s.modals.length || "
            "s.downloads > arg[1]", [before['tabs'], before['downloads']],
            what=name)
        self.visited.append(name)
        state = self.check(name, (name, kind))
        if state['modals']:
            # a wizard's first step, or an error shown above
            self.close_modals(name)
            return
        if state['tabs'] > before['tabs'] and state['current']['model']:
            self.walk_tab(name)

    def walk_tab(self, name):
        page = self.page
        tab = page.locator('#tabcontent .tab-pane.active')
        state = self.state()
        # The domain tabs of the list
        domains = tab.locator('.tab-domain > .nav-tabs > li > a')
        for i in range(domains.count()):
            domain = domains.nth(i)
            label = domain.inner_text().strip()
            domain.click()
            self.settle("s.pending == 0", what='%s [%s]' % (name, label))
            self.check('%s [%s]' % (name, label))
        if domains.count():
            domains.first.click()
            self.settle(what='%s [first tab]' % name)
        state = self.state()
        current = state['current']
        if not current:
            return
        if current['view_type'] == 'tree' and current['records']:
            # The first record in its form, as a double click does
            page.evaluate("""() => {
                const screen = Sao.Tab.tabs.get_current().screen;
                screen.current_record = screen.group[0];
                return screen.switch_view('form');
            }""")
            self.settle("s.current.view_type == 'form'",
                what='%s: the form' % name)
            self.check('%s: form' % name)
        current = self.state()['current']
        if (not current or current['view_type'] != 'form'
                or current['record_id'] is None):
            return
        where = '%s: form #%s' % (name, current['record_id'])
        self.walk_notebook(where)
        for menu_id in ['action', 'relate', 'print']:
            self.walk_toolbar(where, menu_id)

    def walk_notebook(self, where):
        pages = self.page.locator(
            '#tabcontent .tab-pane.active .form .nav-tabs > li > a')
        for i in range(pages.count()):
            link = pages.nth(i)
            if not link.is_visible():
                continue
            label = link.inner_text().strip()
            link.click()
            self.settle(what='%s, page %s' % (where, label))
            self.check('%s, page %s' % (where, label))

    def toolbar_entries(self, menu_id):
        toggle = self.page.locator(
            '#tabcontent .tab-pane.active button#%s' % menu_id)
        if not toggle.count() or not toggle.first.is_visible() \
                or toggle.first.is_disabled():
            return toggle, []
        toggle.first.click()
        entries = self.page.locator(
            '#tabcontent .tab-pane.active '
            'ul[aria-labelledby=%s] > li > a' % menu_id)
        names = [entries.nth(i).inner_text().strip()
            for i in range(entries.count())]
        toggle.first.click()  # closes the menu again
        return toggle, names

    def walk_toolbar(self, where, menu_id):
        toggle, names = self.toolbar_entries(menu_id)
        model = (self.state()['current'] or {}).get('model')
        for index, entry in enumerate(names):
            if (model, menu_id, entry) in self.seen:
                continue
            self.seen.add((model, menu_id, entry))
            label = '%s, %s %s' % (where, menu_id, entry)
            before = self.state()
            toggle.first.click()
            self.page.locator('#tabcontent .tab-pane.active '
                'ul[aria-labelledby=%s] > li > a' % menu_id).nth(
                    index).click()
            self.settle("s.tabs > arg[0] || s.modals.length || "
                "s.downloads > arg[1]",
                [before['tabs'], before['downloads']], what=label)
            self.check(label, (entry, menu_id))
            state = self.state()
            self.close_modals(label)
            while self.state()['tabs'] > before['tabs']:
                self.page.evaluate(
                    "() => Sao.Tab.tabs.get_current().close()")
                self.settle(what='closing %s' % label)
                self.close_modals(label)


def login(page, url, database, user, password):
    "Log in through sao's login dialog"
    page.goto(url + '#' + database)
    page.wait_for_function("""db => Array.from(
            document.querySelectorAll('.login-dialog [name=database]'))
        .some(e => e.offsetParent !== null && e.value === db)""",
        arg=database)
    page.locator('.login-dialog #login').fill(user)
    page.locator('.login-dialog #login').press('Enter')
    page.locator('#ask-dialog-entry').fill(password)
    page.locator('#ask-dialog-entry').press('Enter')
    page.locator('#menu .column-char').first.wait_for(timeout=STEP_TIMEOUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', default='http://127.0.0.1:8000/')
    parser.add_argument('--db', default='demo')
    parser.add_argument('--login', required=True)
    parser.add_argument('--password', default='huinong2024')
    parser.add_argument('--menu', help="only menus containing this text")
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    rpc = RPC(args.url, args.db, args.login, args.password)
    menus = rpc.menus()
    if args.menu:
        menus = [m for m in menus if args.menu in m['complete_name']]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium,
            headless=True, args=['--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage'])
        page = browser.new_page(locale='zh-CN', accept_downloads=True,
            viewport={'width': 1400, 'height': 900})
        page.set_default_timeout(STEP_TIMEOUT)
        login(page, args.url, args.db, args.login, args.password)
        walker = Walker(page, rpc, log=lambda *a: print(*a, flush=True))
        problems = walker.walk(menus)
        browser.close()
    print('%d menus, %d problems' % (len(walker.visited), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
