# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Packaging checks: setup.cfg packages every module, modules are complete.

A plain unittest module (run by scripts/test, or
``python -m unittest discover -s tests``); it needs only the standard
library and reads the files, it does not import trytond.

Each check loops over every ``modules/*/tryton.cfg`` with ``subTest`` so
that one run lists every module that is wrong.
"""
import configparser
import glob
import os
import re
import unittest
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES_DIR = os.path.join(ROOT, 'modules')
SETUP_CFG = os.path.join(ROOT, 'setup.cfg')

# Tryton core modules: they come with trytond itself.
CORE_MODULES = {'ir', 'res'}
# Package data every module must declare, whether or not it has such files
# yet, so that a file added later is not silently left out of the package:
# (package suffix, a path that must be matched by one of its patterns).
REQUIRED_DATA = [
    ('', 'tryton.cfg'),
    ('', 'module.xml'),
    ('', 'view/form.xml'),
    ('', 'locale/zh_CN.po'),
    ('', 'report.fodt'),
    ('', 'icons/icon.svg'),
    ('', 'doc/index.rst'),
    ('.tests', 'scenario.rst'),
    ]
# Files every module must have.
REQUIRED_FILES = ['locale/zh_CN.po', 'doc/index.rst', 'tests/test_module.py']


def _lines(value):
    "The non-empty lines of a multi-line configparser value"
    return [line.strip() for line in (value or '').splitlines()
        if line.strip()]


def _read_cfg(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep the case of option names
    with open(path, encoding='utf-8') as file:
        parser.read_file(file)
    return parser


def _modules():
    "Name -> tryton.cfg parser of every module of the repository"
    modules = {}
    for path in sorted(glob.glob(os.path.join(MODULES_DIR, '*', 'tryton.cfg'))):
        modules[os.path.basename(os.path.dirname(path))] = _read_cfg(path)
    return modules


def _glob_regex(pattern):
    "A regex matching relative paths the way setuptools' glob does"
    regex = ''
    i = 0
    while i < len(pattern):
        if pattern.startswith('**/', i):
            regex += '(?:.*/)?'
            i += 3
        elif pattern.startswith('**', i):
            regex += '.*'
            i += 2
        elif pattern[i] == '*':
            regex += '[^/]*'
            i += 1
        elif pattern[i] == '?':
            regex += '[^/]'
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.compile(regex + r'\Z')


def _split_requirement(requirement):
    """(normalized name, set of specifiers) of a PEP 508 requirement

    'trytond[barcode] >= 8.0, < 8.1' -> ('trytond', {'>=8.0', '<8.1'})
    """
    requirement = requirement.split(';', 1)[0]  # environment marker
    match = re.match(
        r'\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)',
        requirement)
    name, _, specifiers = match.groups()
    name = re.sub(r'[-_.]+', '_', name).lower()
    specifiers = {re.sub(r'\s+', '', s) for s in specifiers.split(',')
        if s.strip()}
    return name, specifiers


def _is_tryton(name):
    return name in {'trytond', 'proteus'} or name.startswith('trytond_')


class PackagingTestCase(unittest.TestCase):
    "setup.cfg packages every module of modules/"

    @classmethod
    def setUpClass(cls):
        cls.setup = _read_cfg(SETUP_CFG)
        cls.modules = _modules()
        options = cls.setup['options']
        cls.package_dir = dict(
            (k.strip(), v.strip()) for k, v in (
                line.split('=', 1)
                for line in _lines(options.get('package_dir'))))
        cls.packages = set(_lines(options.get('packages')))
        cls.entry_points = dict(
            (k.strip(), v.strip()) for k, v in (
                line.split('=', 1) for line in _lines(
                    cls.setup.get('options.entry_points', 'trytond.modules',
                        fallback=''))))
        cls.package_data = {
            key: [p.strip() for p in value.replace('\n', ',').split(',')
                if p.strip()]
            for key, value in cls.setup['options.package_data'].items()
            if key not in cls.setup.defaults()}

    def requirements(self):
        "(where, requirement) of install_requires and every extra"
        result = [('install_requires', r)
            for r in _lines(self.setup['options'].get('install_requires'))]
        if self.setup.has_section('options.extras_require'):
            for extra, value in self.setup['options.extras_require'].items():
                result.extend((f'extras_require {extra}', r)
                    for r in _lines(value))
        return result

    def test_modules_found(self):
        "There is at least one module"
        self.assertTrue(self.modules, msg=f"no tryton.cfg in {MODULES_DIR}")

    def test_entry_points(self):
        "Every module has its trytond.modules entry point"
        for module in self.modules:
            with self.subTest(module=module):
                self.assertEqual(
                    self.entry_points.get(module), f'trytond.modules.{module}',
                    msg=f"[options.entry_points] trytond.modules needs "
                    f"'{module} = trytond.modules.{module}'")

    def test_package_dir(self):
        "Every module and its tests are mapped in package_dir"
        for module in self.modules:
            for suffix, folder in [
                    ('', f'modules/{module}'),
                    ('.tests', f'modules/{module}/tests')]:
                package = f'trytond.modules.{module}{suffix}'
                with self.subTest(package=package):
                    self.assertEqual(
                        self.package_dir.get(package, '').rstrip('/'), folder,
                        msg=f"package_dir needs '{package} = {folder}'")

    def test_packages(self):
        "Every module and its tests are in packages"
        for module in self.modules:
            for package in [
                    f'trytond.modules.{module}',
                    f'trytond.modules.{module}.tests']:
                with self.subTest(package=package):
                    self.assertIn(package, self.packages,
                        msg=f"packages needs {package}")

    def test_package_data_patterns(self):
        "Every module declares the package data of a Tryton module"
        for module in self.modules:
            main = f'trytond.modules.{module}'
            for suffix, path in REQUIRED_DATA:
                package = main + suffix
                candidates = [(p, path)
                    for p in self.package_data.get(package, [])]
                if suffix == '.tests':
                    # tests/*.rst may also be data of the module package
                    candidates += [(p, f'tests/{path}')
                        for p in self.package_data.get(main, [])]
                with self.subTest(package=package, path=path):
                    self.assertTrue(
                        any(_glob_regex(p).match(f) for p, f in candidates),
                        msg=f"[options.package_data] {package} has no "
                        f"pattern for {path!r}")

    def test_package_data_files(self):
        "Every file of a module is in the package (a .py or package data)"
        for module in self.modules:
            folder = os.path.join(MODULES_DIR, module)
            covered = set()
            for suffix, base in [('', folder),
                    ('.tests', os.path.join(folder, 'tests'))]:
                # Python files of the packages themselves
                covered.update(glob.glob(os.path.join(base, '*.py')))
                for pattern in self.package_data.get(
                        f'trytond.modules.{module}{suffix}', []):
                    covered.update(glob.glob(
                            os.path.join(base, pattern), recursive=True))
            covered = {os.path.normpath(p) for p in covered}
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = [d for d in dirnames
                    if d != '__pycache__' and not d.startswith('.')]
                for filename in filenames:
                    if (filename.endswith(('.pyc', '.pyo', '~'))
                            or filename.startswith('.')):
                        continue
                    path = os.path.normpath(os.path.join(dirpath, filename))
                    with self.subTest(path=os.path.relpath(path, ROOT)):
                        self.assertTrue(path in covered,
                            msg="not packaged: no package_data pattern of "
                            f"trytond.modules.{module}(.tests) matches it")

    def test_version(self):
        "Every module is version 8.0.x"
        for module, cfg in self.modules.items():
            with self.subTest(module=module):
                version = cfg.get('tryton', 'version', fallback='')
                self.assertRegex(version, r'^8\.0\.\d+$',
                    msg=f"{module}/tryton.cfg version must be 8.0.x")

    def test_init_empty(self):
        "Every module's __init__.py is empty: classes register in tryton.cfg"
        for module in self.modules:
            path = os.path.join(MODULES_DIR, module, '__init__.py')
            with self.subTest(module=module):
                self.assertTrue(os.path.isfile(path), msg=f"no {path}")
                with open(path, encoding='utf-8') as file:
                    code = [line for line in file
                        if line.strip() and not line.lstrip().startswith('#')]
                self.assertEqual(code, [],
                    msg=f"{module}/__init__.py must hold no code (comments "
                    "only): register classes in tryton.cfg [register]")

    def test_tryton_requirements_pinned(self):
        "Every Tryton requirement is pinned to >= 8.0, < 8.1"
        found = False
        for where, requirement in self.requirements():
            name, specifiers = _split_requirement(requirement)
            if not _is_tryton(name):
                continue
            found = True
            with self.subTest(where=where, requirement=requirement):
                self.assertEqual(specifiers, {'>=8.0', '<8.1'},
                    msg=f"{requirement!r} must be pinned '>= 8.0, < 8.1'")
        self.assertTrue(found, msg="no trytond requirement in setup.cfg")

    def test_depends_required(self):
        "Every official module a module depends on is in install_requires"
        required = {_split_requirement(r)[0] for where, r
            in self.requirements() if where == 'install_requires'}
        for module, cfg in self.modules.items():
            depends = _lines(cfg.get('tryton', 'depends', fallback=''))
            for depend in depends:
                if depend in CORE_MODULES or depend in self.modules:
                    continue
                with self.subTest(module=module, depend=depend):
                    self.assertIn(f'trytond_{depend}', required,
                        msg=f"{module} depends on {depend}: install_requires "
                        f"needs 'trytond_{depend} >= 8.0, < 8.1'")

    def test_xml_files_exist(self):
        "Every file in a tryton.cfg xml list exists"
        for module, cfg in self.modules.items():
            for filename in _lines(cfg.get('tryton', 'xml', fallback='')):
                with self.subTest(module=module, xml=filename):
                    self.assertTrue(os.path.isfile(
                            os.path.join(MODULES_DIR, module, filename)),
                        msg=f"{module}/tryton.cfg lists missing {filename}")

    def test_views_used(self):
        "Every view/*.xml is the arch of an ir.ui.view record of the module"
        for module, cfg in self.modules.items():
            folder = os.path.join(MODULES_DIR, module)
            names = set()
            for filename in _lines(cfg.get('tryton', 'xml', fallback='')):
                path = os.path.join(folder, filename)
                if not os.path.isfile(path):
                    continue  # reported by test_xml_files_exist
                for record in ET.parse(path).iter('record'):
                    if record.get('model') != 'ir.ui.view':
                        continue
                    for field in record.iter('field'):
                        if field.get('name') == 'name' and field.text:
                            names.add(field.text.strip())
            for path in sorted(glob.glob(os.path.join(folder, 'view', '*.xml'))):
                view = os.path.splitext(os.path.basename(path))[0]
                with self.subTest(module=module, view=view):
                    self.assertIn(view, names,
                        msg=f"{module}/view/{view}.xml is not used by any "
                        "ir.ui.view record of the XML files in tryton.cfg")

    def test_required_files(self):
        "Every module has its translation, documentation and tests"
        for module in self.modules:
            for filename in REQUIRED_FILES:
                with self.subTest(module=module, file=filename):
                    self.assertTrue(os.path.isfile(
                            os.path.join(MODULES_DIR, module, filename)),
                        msg=f"{module} has no {filename}")


if __name__ == '__main__':
    unittest.main()
