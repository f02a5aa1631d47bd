#!/usr/bin/env python3
"""Run unittest tests and print one machine-readable count line.

    python scripts/run_tests.py TEST...

Each TEST is one of:

- a dotted name given to unittest (a module, class or method), e.g.
  ``trytond.modules.huinong.tests.test_module``; a module's ``load_tests``
  is honoured, so ``test_scenario`` runs its ``scenario_*.rst`` doctests;
- a directory: unittest discovers its ``test_*.py`` files, with the
  directory itself as top level (the repository's ``tests/`` folder holds
  plain unittest modules, not a package);
- a ``.py`` file: imported as a top-level module from its directory.

The backend is whatever the environment says (``DB_NAME``,
``TRYTOND_DATABASE_URI``, ``DB_CACHE``), read by trytond when it is first
imported: set the environment before starting this script (``scripts/test``
does); the script itself touches trytond only to run the tests.

Output: the tests run with verbosity 2 on stderr, then on stdout the line

    HUINONG-COUNTS passed=N failed=N skipped=N

(also written to the file named by ``HUINONG_COUNTS_FILE`` when set),
where a test counts once (a test with failing subtests is one failure; an
error in setUpClass / setUpModule or an import error is one failure).
The exit status is 0 only when nothing failed and at least one test ran.

Database cache: with ``HUINONG_DB_CACHE_ROOT`` set, trytond's ``DB_CACHE``
is pointed, for the tests of each module X (names ``trytond.modules.X.…``),
at ``ROOT/X/<hash>``, the hash covering the files (but ``doc/``) of X and
of every module of this repository X depends on (``depends`` and
``extras_depend`` of ``tryton.cfg``, recursively) plus the versions of the
installed Tryton distributions; other tests (the top-level ``tests/``) use
``ROOT/_all/<hash>`` over every module.  trytond names a cache entry after
the activated module NAMES only, so without the hash a changed module would
be tested against its old cached database; keying per module means editing
one module rebuilds only the databases that contain it.  Older hashes of a
group are deleted but for the two last used (a run started before a file
changed may still use them).  Without ``HUINONG_DB_CACHE_ROOT``,
``DB_CACHE`` is used as trytond does.  Restoring and saving a cache entry
hold a lock on its folder, so that concurrent runs don't read half-written
dumps.
"""
import configparser
import fcntl
import functools
import hashlib
import importlib
import importlib.metadata
import os
import shutil
import sys
import time
import traceback
import unittest

COUNT_PREFIX = 'HUINONG-COUNTS'
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = os.path.join(ROOT, 'modules')
KEEP_KEYS = 2  # older database cache hashes kept per group


class CountingResult(unittest.TextTestResult):
    "A TextTestResult that also remembers one outcome per test"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}  # test id -> 'pass' | 'fail' | 'skip'
        self.durations = {}  # test id -> seconds

    @staticmethod
    def _id(test):
        # A subtest reports under its parent test; an _ErrorHolder (failed
        # setUpClass, import error…) has an id of its own.
        return getattr(test, 'test_case', test).id()

    def _fail(self, test):
        self.outcomes[self._id(test)] = 'fail'

    def startTest(self, test):
        super().startTest(test)
        self.outcomes.setdefault(self._id(test), 'pass')
        self._started = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        self.durations[self._id(test)] = time.monotonic() - self._started

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None and not issubclass(err[0], unittest.SkipTest):
            self._fail(test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._fail(test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        # A skipped subtest leaves its test passed.
        if test is getattr(test, 'test_case', test):
            if self.outcomes.get(self._id(test)) != 'fail':
                self.outcomes[self._id(test)] = 'skip'

    def counts(self):
        values = list(self.outcomes.values())
        return {k: values.count(v) for k, v in [
                ('passed', 'pass'), ('failed', 'fail'), ('skipped', 'skip')]}


class LoadError(unittest.TestCase):
    "Stands for a test that could not be loaded: it fails with the reason"

    def __init__(self, name, message):
        super().__init__('runTest')
        self._name, self._message = name, message

    def id(self):
        return f'load:{self._name}'

    def __str__(self):
        return f'load ({self._name})'

    def runTest(self):
        self.fail(self._message)


def load(loader, spec):
    "Return the suite for one command-line TEST"
    try:
        if os.path.isdir(spec):
            top = os.path.abspath(spec)
            return loader.discover(top, pattern='test_*.py', top_level_dir=top)
        if spec.endswith('.py'):
            if not os.path.isfile(spec):
                return LoadError(spec, f"no such file: {spec}")
            folder, filename = os.path.split(os.path.abspath(spec))
            if folder not in sys.path:
                sys.path.insert(0, folder)
            module = importlib.import_module(filename[:-len('.py')])
            return loader.loadTestsFromModule(module)
        return loader.loadTestsFromName(spec)
    except Exception:
        return LoadError(spec, traceback.format_exc())


def module_depends(module):
    "The modules of this repository that module needs, module included"
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        cfg_path = os.path.join(MODULES, name, 'tryton.cfg')
        if name in seen or not os.path.isfile(cfg_path):
            continue
        seen.add(name)
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read(cfg_path, encoding='utf-8')
        for option in ['depends', 'extras_depend']:
            todo.extend(cfg.get('tryton', option, fallback='').split())
    return seen


def cache_key(modules):
    "Hash of the modules' files and of the installed Tryton versions"
    digest = hashlib.sha256()
    for module in sorted(modules):
        folder = os.path.join(MODULES, module)
        for dirpath, dirnames, filenames in os.walk(folder):
            # doc/ never reaches the database; the rest may (tests/ too:
            # scenario set-up functions live there)
            dirnames[:] = sorted(d for d in dirnames if d != '__pycache__'
                and not (dirpath == folder and d == 'doc'))
            for filename in sorted(filenames):
                if filename.endswith(('.pyc', '.pyo')):
                    continue
                path = os.path.join(dirpath, filename)
                digest.update(os.path.relpath(path, MODULES).encode() + b'\0')
                with open(path, 'rb') as file:
                    digest.update(file.read() + b'\0')
    for dist in sorted(importlib.metadata.distributions(),
            key=lambda d: d.metadata['Name'].lower()):
        name = dist.metadata['Name'].lower()
        if name.startswith(('trytond', 'proteus')):
            digest.update(f'{name}=={dist.version}\n'.encode())
    return digest.hexdigest()[:16]


def cache_group(spec):
    "The cache group of a TEST: its module, or '_all'"
    parts = spec.split('.')
    if (len(parts) > 2 and parts[:2] == ['trytond', 'modules']
            and os.path.isfile(os.path.join(MODULES, parts[2], 'tryton.cfg'))):
        return parts[2]
    return '_all'


def prune(group_root, key, keep=KEEP_KEYS):
    """Delete the older hashes of a group but the `keep` last used ones:
    another run (an older checkout of a module, a run started just before a
    file changed) may still be reading or writing them."""
    if not os.path.isdir(group_root):
        return
    others = [os.path.join(group_root, k) for k in os.listdir(group_root)
        if k != key]
    others.sort(key=os.path.getmtime, reverse=True)
    for path in others[keep:]:
        shutil.rmtree(path, ignore_errors=True)


def _locked(func):
    "func holding an exclusive lock on the current DB_CACHE folder"
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from trytond.tests import test_tryton
        cache = test_tryton.DB_CACHE
        if not cache or cache.startswith('postgresql://'):
            return func(*args, **kwargs)
        os.makedirs(cache, exist_ok=True)
        with open(os.path.join(cache, '.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return func(*args, **kwargs)
    wrapper.huinong_locked = True
    return wrapper


def lock_db_cache():
    """Make trytond's cache backup and restore exclusive between processes.

    Two runs at once (two people or agents in one checkout) would otherwise
    race: one restores while the other's pg_dump is half written, and fails
    on "database already exists".  Building a database is not locked; the
    first backup wins and the other sees the entry and skips."""
    from trytond.tests import test_tryton
    modules = [test_tryton]
    try:
        # activate_modules of proteus scenarios holds its own references
        from trytond.tests import tools
        modules.append(tools)
    except ImportError:
        pass
    for module in modules:
        for name in ['restore_db_cache', 'backup_db_cache']:
            func = getattr(module, name, None)
            if func and not getattr(func, 'huinong_locked', False):
                setattr(module, name, _locked(func))
    # drop_db() and create_db() ask db_exist(), which reads the backend's
    # cached list of databases: a database restored from the cache by an
    # earlier test class may be missing from it (it is listed while still
    # empty), and a scenario's drop then skips it and the restore fails
    # with "database already exists". Always ask the server.
    db_exist = test_tryton.db_exist
    if not getattr(db_exist, 'huinong_fresh', False):
        def fresh_db_exist(*args, **kwargs):
            from trytond import backend
            for name in ['_list_cache', '_list_cache_timestamp']:
                cache = getattr(backend.Database, name, None)
                if isinstance(cache, dict):
                    cache.clear()
            return db_exist(*args, **kwargs)
        fresh_db_exist.huinong_fresh = True
        test_tryton.db_exist = fresh_db_exist


class CachedSuite(unittest.TestSuite):
    "A suite that points trytond's DB_CACHE at its own folder while it runs"

    def __init__(self, tests, cache_dir):
        super().__init__(tests)
        self.cache_dir = cache_dir

    def run(self, result, debug=False):
        # test_tryton reads the module global DB_CACHE at every backup and
        # restore, so setting it here switches the cache for what follows.
        from trytond.tests import test_tryton
        lock_db_cache()
        os.makedirs(self.cache_dir, exist_ok=True)
        os.utime(self.cache_dir)  # last used: see prune()
        os.environ['DB_CACHE'] = test_tryton.DB_CACHE = self.cache_dir
        return super().run(result, debug=debug)


def cached_suites(loader, specs, cache_root):
    "One CachedSuite per cache group, in the order of specs"
    groups = {}
    for spec in specs:
        groups.setdefault(cache_group(spec), []).append(spec)
    for group, group_specs in groups.items():
        if group == '_all':
            modules = {m for m in os.listdir(MODULES)
                if os.path.isfile(os.path.join(MODULES, m, 'tryton.cfg'))}
        else:
            modules = module_depends(group)
        key = cache_key(modules)
        group_root = os.path.join(cache_root, group)
        prune(group_root, key)
        yield CachedSuite(
            [load(loader, spec) for spec in group_specs],
            os.path.join(group_root, key))


def main(argv):
    if not argv or argv[0] in {'-h', '--help'}:
        print(__doc__.strip())
        return 0 if argv else 2
    # Where tests put screenshots and PDFs (scripts/test sets it too).
    artifacts = os.environ.setdefault(
        'HUINONG_ARTIFACTS', os.path.join(ROOT, 'artifacts'))
    os.makedirs(artifacts, exist_ok=True)

    loader = unittest.TestLoader()
    if cache_root := os.environ.get('HUINONG_DB_CACHE_ROOT'):
        suite = unittest.TestSuite(cached_suites(loader, argv, cache_root))
    else:
        suite = unittest.TestSuite(load(loader, spec) for spec in argv)
    # Errors the loader swallowed itself (e.g. an unimportable module in a
    # discovered folder) already sit in the suite as failing tests.
    runner = unittest.TextTestRunner(
        verbosity=2, resultclass=CountingResult, stream=sys.stderr)
    result = runner.run(suite)
    counts = result.counts()
    # Where the time goes (setUpClass, where databases are built or
    # restored, is not in these numbers).
    slowest = sorted(result.durations.items(), key=lambda i: -i[1])[:5]
    if slowest:
        print("Slowest tests:", file=sys.stderr)
        for test_id, seconds in slowest:
            print(f"  {seconds:6.1f}s {test_id}", file=sys.stderr)
    sys.stderr.flush()
    line = f"{COUNT_PREFIX} " + ' '.join(
        f'{k}={v}' for k, v in counts.items())
    print(line, flush=True)
    if counts_file := os.environ.get('HUINONG_COUNTS_FILE'):
        with open(counts_file, 'w') as file:
            print(line, file=file)
    ok = counts['failed'] == 0 and sum(counts.values()) > 0
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
