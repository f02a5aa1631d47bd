# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers shared by the tests of the huinong modules: reading printed PDFs"
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from trytond.transaction import Transaction

CI = os.environ.get('CI', '').lower() == 'true'
HAS_PDF_TOOLS = bool(shutil.which('soffice') and shutil.which('pdftotext'))
ARTIFACTS = os.environ.get('HUINONG_REPORT_ARTIFACTS')


def needs_pdf_tools(func):
    "Skip without soffice or pdftotext, but never in CI"
    if HAS_PDF_TOOLS or CI:
        return func
    return unittest.skip("soffice or pdftotext is missing")(func)


def pdf_text(content, name=None):
    "Return the text of the PDF bytes by pdftotext"
    with tempfile.TemporaryDirectory(prefix='huinong_report_') as directory:
        path = os.path.join(directory, 'report.pdf')
        with open(path, 'wb') as fp:
            fp.write(content)
        if ARTIFACTS and name:
            os.makedirs(ARTIFACTS, exist_ok=True)
            shutil.copy(path, os.path.join(ARTIFACTS, name + '.pdf'))
        result = subprocess.run(
            ['pdftotext', '-layout', '-enc', 'UTF-8', path, '-'],
            check=True, capture_output=True)
    return result.stdout.decode('utf-8')


def compact(text):
    "The text without any white space (pdftotext spaces CJK freely)"
    return re.sub(r'\s+', '', text)


class DatabaseTestCase(unittest.TestCase):
    """A test class with a database of its own, as ModuleTestCase has:
    dropped before (a test class or scenario before may have left one) and
    after (a scenario after restores its own from the cache and would find
    this one), with `module` activated in `language`."""
    module = None
    language = 'en'

    @classmethod
    def setUpClass(cls):
        from trytond.tests.test_tryton import activate_module, drop_db
        super().setUpClass()
        drop_db()
        activate_module(cls.module, lang=cls.language)

    @classmethod
    def tearDownClass(cls):
        from trytond.tests.test_tryton import drop_db
        super().tearDownClass()
        drop_db()


class SharedFixtureMixin:
    """For a test class with a database of its own (ModuleTestCase,
    DatabaseTestCase): `fixture`, a function building the data most of its
    tests start from, runs ONCE, in setUpClass, and is committed; each test
    (one transaction, rolled back) then takes it with self.shared(), the
    records read again in the test's transaction.  A county's set-up is
    seconds of work (a company and its chart, a fiscal year, users, stores,
    goods, households and cards): built once instead of once per test.

    The class's database is dropped when the class ends, so nothing
    committed here reaches another class.  A test that needs the database
    without it (or with other data of the same codes) belongs to another
    class."""
    fixture = None  # staticmethod(builder): returns a dict, list or record

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from trytond.tests.test_tryton import DB_NAME, USER
        with Transaction().start(DB_NAME, USER, context={}) as transaction:
            transaction._locked_tables = _EveryTable()
            cls._shared = _as_ids(cls.fixture())
            transaction.commit()

    def shared(self):
        "The fixture's data, read in the current transaction"
        return _from_ids(self._shared)


def _as_ids(value):
    from trytond.model import Model
    if isinstance(value, Model):
        return ('__record__', value.__name__, value.id)
    if isinstance(value, dict):
        return {k: _as_ids(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_as_ids(v) for v in value)
    return value


def _from_ids(value):
    from trytond.pool import Pool
    if isinstance(value, tuple) and len(value) == 3 \
            and value[0] == '__record__':
        return Pool().get(value[1])(value[2])
    if isinstance(value, dict):
        return {k: _from_ids(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_from_ids(v) for v in value)
    return value


# The widgets the two clients can draw, by view type: the keys of
# Sao.View.TreeXMLViewParser.WIDGETS / Sao.View.FormXMLViewParser.WIDGETS
# of sao 8.0 (src/view/tree.js, form.js) and of the WIDGETS of the GTK
# client 8.0 (tryton/gui/window/view_form/view/list.py, form.py), which are
# the same.  A list has no column for a date-time ('datetime',
# 'timestamp'): the client throws ("ColumnFactory is not a constructor")
# and the whole screen holding the list never opens.  Tryton's own lists
# show one as two columns, widget="date" and widget="time"
# (ir/view/cron_list.xml).
CLIENT_WIDGETS = {
    'tree': {
        'binary', 'boolean', 'callto', 'char', 'date', 'dict', 'email',
        'float', 'image', 'integer', 'many2many', 'many2one', 'numeric',
        'one2many', 'one2one', 'progressbar', 'reference', 'selection',
        'multiselection', 'sip', 'text', 'time', 'timedelta', 'url',
        },
    'form': {
        'binary', 'boolean', 'callto', 'char', 'color', 'date', 'datetime',
        'dict', 'document', 'email', 'float', 'html', 'image', 'integer',
        'many2many', 'many2one', 'multiselection', 'numeric', 'one2many',
        'one2one', 'password', 'progressbar', 'pyson', 'reference',
        'richtext', 'selection', 'sip', 'text', 'time', 'timedelta',
        'timestamp', 'url',
        },
    }


# The icons both clients carry themselves (sao 8.0 images/, the GTK
# client's data/pixmaps/tryton/, the same names); others must be an
# ir.ui.icon the server serves.
CLIENT_ICONS = {'tryton-' + name for name in (
    'add archive arrow-down arrow-left arrow-right arrow-up attach back '
    'barcode-scanner bookmark-border bookmark bookmarks cancel chat clear '
    'close copy create date delete download drag email error exit export '
    'filter format-align-center format-align-justify format-align-left '
    'format-align-right format-bold format-color-text format-italic '
    'format-underline forward history icon import info launch link log '
    'menu note notification-off notification-on notification ok open '
    'print public question refresh remove save search send sound-off '
    'sound-on star-border star switch translate unarchive undo '
    'warning').split()}

import functools  # noqa: E402

from trytond.tests import test_tryton  # noqa: E402


class _EveryTable(frozenset):
    "Stands for the set of every table of the database"

    def __contains__(self, table):
        return True


def every_table():
    "What a transaction alone on its database holds: the lock of every table"
    return _EveryTable()


def with_transaction(user=1, context=None):
    """trytond's with_transaction for a test alone on its database: its
    transaction counts as holding the lock of every table from its start.

    trytond takes a table's or a record's lock (lock(), lock_table,
    lock_records) only at a transaction's start: a transaction that asks
    for one later raises, is rolled back and started again with that lock,
    and trytond's with_transaction then runs the WHOLE test again, once
    per new lock (six times for the counter's set-up, two thirds of its
    time).  A unit test has no one to compete with, so no lock is needed;
    what the locks do between real transactions is tested with real
    parallel transactions (test_concurrency, DatabaseTestCase), which start
    their own.  A transaction the code starts itself (new_transaction) is
    a real one, with trytond's rules."""
    def decorator(func):
        @functools.wraps(func)
        def alone(*args, **kwargs):
            Transaction()._locked_tables = _EveryTable()
            return func(*args, **kwargs)
        return test_tryton.with_transaction(user=user, context=context)(alone)
    return decorator


class ClientViewsMixin:
    """For a ModuleTestCase: every view of the module, as the server sends
    it (inherited views applied), uses only widgets both clients can draw.
    New views are checked as soon as they exist."""

    @with_transaction()
    def test_views_drawable_by_clients(self):
        "Every field of every view has a widget sao and the GTK client draw"
        check_views_drawable(self)

    @with_transaction()
    def test_icons_exist(self):
        "Every icon of the views and wizards is one the clients show"
        check_icons(self)


def check_views_drawable(test):
    "The check of ClientViewsMixin (in a transaction)"
    from lxml import etree

    from trytond.pool import Pool
    pool = Pool()
    View = pool.get('ir.ui.view')
    for view in View.search([('module', '=', test.module)]):
        root = view
        while root.inherit and root.inherit.model == root.model:
            root = root.inherit
        if not root.model or root.type not in CLIENT_WIDGETS:
            continue
        Model = pool.get(root.model)
        fields_view = Model.fields_view_get(root.id)
        kind = fields_view['type']
        arch = etree.fromstring(fields_view['arch'])
        for node in arch.iter('field'):
            name = node.get('name')
            field = fields_view['fields'].get(name)
            if not field:
                continue
            widget = node.get('widget') or field['type']
            with test.subTest(view=view.name or root.model, field=name):
                test.assertIn(widget, CLIENT_WIDGETS[kind],
                    "%s view of %s: field %s is drawn as %r, which neither "
                    "client can draw in a %s (a date-time in a list: "
                    "widget=\"date\" and widget=\"time\")"
                    % (kind, root.model, name, widget, kind))


def check_icons(test):
    "The check of ClientViewsMixin.test_icons_exist (in a transaction)"
    from lxml import etree

    from trytond.pool import Pool
    from trytond.wizard import StateView
    pool = Pool()
    View = pool.get('ir.ui.view')
    Icon = pool.get('ir.ui.icon')
    known = CLIENT_ICONS | {i.name for i in Icon.search([])}
    for view in View.search([('module', '=', test.module)]):
        if not view.arch:
            continue
        for node in etree.fromstring(view.arch).iter():
            icon = node.get('icon')
            # (an icon may also be the name of a field that gives it)
            if icon and icon.startswith(('tryton-', 'huinong')):
                with test.subTest(view=view.name, icon=icon):
                    test.assertIn(icon, known,
                        "view %s uses the icon %r that no client has"
                        % (view.name, icon))
    for name, wizard in pool.iterobject(type='wizard'):
        if not name.startswith('huinong'):
            continue
        for state_name in dir(wizard):
            state = getattr(wizard, state_name, None)
            if isinstance(state, StateView):
                for button in state.buttons:
                    if button.icon:
                        with test.subTest(wizard=name, icon=button.icon):
                            test.assertIn(button.icon, known,
                                "wizard %s uses the icon %r that no "
                                "client has" % (name, button.icon))
