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
