# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Every user-facing string of every module has its zh_CN translation"
import os
import subprocess
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class TranslationsTestCase(unittest.TestCase):

    # update_po.py always works on SQLite in memory: once per run is enough
    @unittest.skipIf(
        os.environ.get('HUINONG_TEST_BACKEND') == 'postgresql'
        and os.environ.get('HUINONG_TEST_BACKENDS', '') != 'postgresql',
        "the same on both backends: checked in the SQLite pass")
    def test_zh_cn_complete(self):
        "locale/zh_CN.po is up to date and complete in every module"
        env = dict(os.environ)
        env.pop('TRYTOND_DATABASE_URI', None)
        result = subprocess.run(
            [sys.executable, str(ROOT / 'scripts' / 'update_po.py'),
                '--check'],
            env=env, capture_output=True, text=True, timeout=600)
        self.assertEqual(result.returncode, 0,
            result.stdout + result.stderr)


if __name__ == '__main__':
    unittest.main()
