# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers shared by the tests of the huinong modules: reading printed PDFs"
import os
import re
import shutil
import subprocess
import tempfile
import unittest

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


from trytond.tests.test_tryton import with_transaction  # noqa: E402


class ClientViewsMixin:
    """For a ModuleTestCase: every view of the module, as the server sends
    it (inherited views applied), uses only widgets both clients can draw.
    New views are checked as soon as they exist."""

    @with_transaction()
    def test_views_drawable_by_clients(self):
        "Every field of every view has a widget sao and the GTK client draw"
        check_views_drawable(self)


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
