#!/usr/bin/env python3
"""Run unittest tests and print one machine-readable count line.

    python scripts/run_tests.py [--jobs N] TEST...

With --jobs N (N > 1) the tests run in N worker processes that take test
classes from a queue (see run_workers below); each worker's lines are
prefixed with its number ("2| ").  Without it they run here, in order.

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

Output: the tests run with verbosity 2 on stderr, then where the time
went (the slowest tests, the time per test class), then on stdout the line

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
import doctest
import fcntl
import functools
import hashlib
import importlib
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
import unittest
import urllib.request

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
        # test class -> seconds, the set-up between tests (setUpClass,
        # where databases are built or restored) counted with the next test
        self.class_durations = {}
        self._last_stop = time.monotonic()

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
        self._add_class_time(test, self._started - self._last_stop)

    def stopTest(self, test):
        super().stopTest(test)
        self._last_stop = time.monotonic()
        self.durations[self._id(test)] = self._last_stop - self._started
        self._add_class_time(test, self.durations[self._id(test)])

    def _add_class_time(self, test, seconds):
        name = self._id(test)
        if '.' in name:
            name = name.rsplit('.', 1)[0]
        self.class_durations[name] = (
            self.class_durations.get(name, 0) + seconds)

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


_building = {}  # cache entry name -> its build lock, held


def release_build_locks():
    for lock in _building.values():
        lock.close()
    _building.clear()


def _build_locked(restore, backup):
    """restore and backup wrapped so that one process at a time builds a
    cache entry: a restore that misses takes the entry's build lock and
    looks again (another worker may have built it while it waited); the
    backup releases it.  A build that fails keeps it until this process's
    next restore or the end of its unit (release_build_locks)."""
    from trytond.tests import test_tryton

    @functools.wraps(restore)
    def restore_wrapper(name):
        release_build_locks()
        if restore(name):
            return True
        cache = test_tryton.DB_CACHE
        if not cache or cache.startswith('postgresql://'):
            return False
        os.makedirs(cache, exist_ok=True)
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        lock = open(os.path.join(cache, f'.build-{digest}.lock'), 'w')
        fcntl.flock(lock, fcntl.LOCK_EX)
        if restore(name):
            lock.close()
            return True
        try:
            # trytond's activate_module (a test class's database), not
            # activate_modules (a scenario's: it drops what is there)
            if sys._getframe(1).f_code.co_name == 'activate_module':
                seed_from_dependency(name)
        except BaseException:
            lock.close()
            raise
        # (only now: a restore in the seeding releases what _building holds)
        _building[name] = lock
        return False

    @functools.wraps(backup)
    def backup_wrapper(name):
        try:
            return backup(name)
        finally:
            if lock := _building.pop(name, None):
                lock.close()
    restore_wrapper.huinong_locked = backup_wrapper.huinong_locked = True
    return restore_wrapper, backup_wrapper


_LANGUAGE = re.compile(r'^[a-z]{2,3}(_[A-Z]{2})?$')


def seed_from_dependency(name):
    """On a miss of the cache entry `name` of a test class's database
    (modules joined by '-', then '--LANG' unless English), put in DB_NAME
    the database of the largest module of this repository the modules
    depend on, from its own group's cache (built there the same way when
    missing): trytond's activate_module then finds the database there and
    activates only what is missing, as an update would.  Building every
    module's database from nothing activated ir, res, party, company,
    account, product and stock again for each of the seven modules and
    each language; now each is activated once per run and language."""
    from trytond.tests import test_tryton
    root = os.environ.get('HUINONG_DB_CACHE_ROOT')
    modules, _, language = name.partition('--')
    if not root or (language and not _LANGUAGE.match(language)):
        return
    modules = modules.split('-')
    ours = {m for m in os.listdir(MODULES)
        if os.path.isfile(os.path.join(MODULES, m, 'tryton.cfg'))}
    if not set(modules) <= ours:
        return
    needed = set().union(*(module_depends(m) for m in modules))
    candidates = [m for m in ours if module_depends(m) < needed]
    if not candidates:
        return
    dependency = max(candidates, key=lambda m: (len(module_depends(m)), m))
    cache = test_tryton.DB_CACHE
    dependency_cache = group_cache_dir(root, dependency)
    os.makedirs(dependency_cache, exist_ok=True)
    os.environ['DB_CACHE'] = test_tryton.DB_CACHE = dependency_cache
    try:
        # restored from its cache, or built (seeded the same way) and kept
        test_tryton.activate_module([dependency], lang=language or 'en')
    finally:
        os.environ['DB_CACHE'] = test_tryton.DB_CACHE = cache


def template_name(name):
    """The PostgreSQL template database of a cache entry: the group's key
    (the folder's name: the hash of the modules' files) and the entry"""
    from trytond.tests import test_tryton
    key = os.path.basename(os.path.normpath(test_tryton.DB_CACHE))[:16]
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f'hnc_{key}_{digest}'


def _pg_templated(restore, backup):
    """restore and backup with a template database on the PostgreSQL
    server beside each dump folder: a test class's database is then
    CREATE DATABASE … TEMPLATE (a copy of files on the server, about a
    second) instead of a pg_restore of the dump (tens of seconds for the
    full set of modules).  The dump stays the cache between runs (a
    server started for the run keeps no template); both are made when a
    database is built, the template when a dump is restored."""
    from trytond.tests import test_tryton

    def make_template(template):
        from trytond import backend
        from trytond.transaction import Transaction
        backend.Database(test_tryton.DB_NAME).close()
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            if not test_tryton.db_exist(template):
                transaction.database.create(transaction.connection,
                    template, test_tryton.DB_NAME)

    @functools.wraps(restore)
    def restore_wrapper(name):
        from trytond import backend
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        if backend.name != 'postgresql' or not test_tryton.DB_CACHE:
            return restore(name)
        template = template_name(name)
        if test_tryton.db_exist(template):
            db_name = test_tryton.DB_NAME
            with Transaction().start(
                    None, 0, close=True, autocommit=True) as transaction:
                if test_tryton.db_exist(db_name):
                    transaction.database.drop(transaction.connection,
                        db_name)
                transaction.database.create(
                    transaction.connection, db_name, template)
            Pool(db_name).init()
            return True
        if restore(name):
            make_template(template)
            return True
        return False

    @functools.wraps(backup)
    def backup_wrapper(name):
        from trytond import backend
        result = backup(name)
        if backend.name == 'postgresql' and test_tryton.DB_CACHE:
            make_template(template_name(name))
        return result
    return restore_wrapper, backup_wrapper


def prune_templates(cache_root):
    """Drop the template databases (template_name) of cache folders that
    are gone (pruned, another checkout's): on a server that outlives the
    run they would pile up"""
    from trytond import backend
    from trytond.transaction import Transaction
    if backend.name != 'postgresql' or not cache_root:
        return
    keys = set()
    for group in os.listdir(cache_root) if os.path.isdir(cache_root) else []:
        folder = os.path.join(cache_root, group)
        if os.path.isdir(folder):
            keys.update(k[:16] for k in os.listdir(folder))
    with Transaction().start(
            None, 0, close=True, autocommit=True) as transaction:
        for name in transaction.database.list():
            if name.startswith('hnc_') and name[4:20] not in keys:
                transaction.database.drop(transaction.connection, name)


def lock_db_cache():
    """Make trytond's cache backup and restore exclusive between processes.

    Two runs at once (two people or agents in one checkout, or the workers
    of --jobs) would otherwise race: one restores while the other's pg_dump
    is half written, and fails on "database already exists".  Building a
    database is locked per cache entry: the others wait, then restore it."""
    from trytond.tests import test_tryton
    modules = [test_tryton]
    try:
        # activate_modules of proteus scenarios holds its own references
        from trytond.tests import tools
        modules.append(tools)
    except ImportError:
        pass
    for module in modules:
        restore = getattr(module, 'restore_db_cache', None)
        backup = getattr(module, 'backup_db_cache', None)
        if (restore and backup
                and not getattr(restore, 'huinong_locked', False)):
            restore, backup = _pg_templated(restore, backup)
            restore, backup = _build_locked(
                _locked(restore), _locked(backup))
            module.restore_db_cache = restore
            module.backup_db_cache = backup
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


@functools.lru_cache(maxsize=None)
def group_cache_dir(cache_root, group):
    "The DB_CACHE folder of a cache group, for the files as they are now"
    if group == '_all':
        modules = {m for m in os.listdir(MODULES)
            if os.path.isfile(os.path.join(MODULES, m, 'tryton.cfg'))}
    else:
        modules = module_depends(group)
    return os.path.join(cache_root, group, cache_key(modules))


def prune_group(cache_root, group):
    "Prune the group's older cache folders; return its current one"
    cache_dir = group_cache_dir(cache_root, group)
    prune(os.path.dirname(cache_dir), os.path.basename(cache_dir))
    return cache_dir


def cached_suites(loader, specs, cache_root):
    "One CachedSuite per cache group, in the order of specs"
    groups = {}
    for spec in specs:
        groups.setdefault(cache_group(spec), []).append(spec)
    for group, group_specs in groups.items():
        cache_dir = prune_group(cache_root, group)
        yield CachedSuite(
            [load(loader, spec) for spec in group_specs], cache_dir)


# --- several worker processes --------------------------------------------
# With --jobs N (N > 1) the tests are cut into units, a test class each (a
# scenario file for doctests), put in a queue, and N worker processes (this
# script with --worker) take the next unit from it until it is empty, each
# with its own database (DB_NAME + "_<worker>") and LibreOffice profile.
# The longest units go first, by the durations the last runs recorded
# (HUINONG_TEST_HISTORY, a JSON file); without any, the units of the
# repository's tests/ folder go first (they start servers and browsers and
# build demo databases: the longest ones).

def flatten(suite):
    "The test cases of a suite, in order"
    if isinstance(suite, unittest.TestSuite):
        for test in suite:
            yield from flatten(test)
    else:
        yield suite


def unit_key(test):
    "The unit a test belongs to: its class, or itself for a doctest file"
    if isinstance(test, (doctest.DocTestCase, LoadError,
                unittest.loader._FailedTest)):
        return test.id()
    cls = type(test)
    return f'{cls.__module__}.{cls.__qualname__}'


def spec_units(loader, spec):
    "{unit key: [tests]} of one command-line TEST, in order"
    units = {}
    for test in flatten(load(loader, spec)):
        units.setdefault(unit_key(test), []).append(test)
    return units


def read_history():
    path = os.environ.get('HUINONG_TEST_HISTORY')
    try:
        with open(path) as file:
            return {k: float(v) for k, v in json.load(file).items()}
    except (TypeError, OSError, ValueError, AttributeError):
        return {}


def write_history(durations):
    path = os.environ.get('HUINONG_TEST_HISTORY')
    if not path or not durations:
        return
    history = read_history()
    history.update(durations)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + '.tmp', 'w') as file:
        json.dump(history, file, indent=0, sort_keys=True)
    os.replace(path + '.tmp', path)


def plan(loader, specs):
    "The queue: [(spec, unit key)], the longest units first"
    units = {}
    for spec in specs:
        for key in spec_units(loader, spec):
            units.setdefault(key, spec)
    history = read_history()
    order = list(units)
    if history:
        # units never timed (new ones) first: they may be long
        order.sort(key=lambda k: -history.get(k, float('inf')))
    else:
        order.sort(key=lambda k: not (
                os.path.isdir(units[k]) or units[k].endswith('.py')))
    return [(units[k], k) for k in order]


def take(queue_dir, size):
    "The index of the next unit of the queue, None when it is empty"
    with open(os.path.join(queue_dir, 'lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = os.path.join(queue_dir, 'next')
        with open(path) as file:
            index = int(file.read())
        if index >= size:
            return None
        with open(path + '.tmp', 'w') as file:
            file.write(str(index + 1))
        os.replace(path + '.tmp', path)
        return index


class QueueSuite(unittest.TestSuite):
    "The units a worker takes from the queue, one after the other"
    _cleanup = False  # its tests are not in self._tests

    def __init__(self, loader, queue_dir, cache_root):
        super().__init__()
        self.loader, self.queue_dir = loader, queue_dir
        self.cache_root = cache_root
        with open(os.path.join(queue_dir, 'units.json')) as file:
            self.units = json.load(file)
        self.loaded = {}  # spec -> {unit key: [tests]}
        self.unit_durations = {}

    def __iter__(self):
        while (index := take(self.queue_dir, len(self.units))) is not None:
            spec, key = self.units[index]
            if spec not in self.loaded:
                self.loaded[spec] = spec_units(self.loader, spec)
            tests = self.loaded[spec].pop(key, None)
            if tests is None:
                tests = [LoadError(key, f"{key} is not in {spec} any more")]
            if self.cache_root:
                suite = CachedSuite(tests, group_cache_dir(
                        self.cache_root, cache_group(spec)))
            else:
                suite = unittest.TestSuite(tests)
            started = time.monotonic()
            yield suite
            self.unit_durations[key] = time.monotonic() - started
            release_build_locks()


def worker(queue_dir, number):
    "Run units from the queue; write what happened to result-<number>.json"
    loader = unittest.TestLoader()
    suite = QueueSuite(
        loader, queue_dir, os.environ.get('HUINONG_DB_CACHE_ROOT'))
    runner = unittest.TextTestRunner(
        verbosity=2, resultclass=CountingResult, stream=sys.stderr)
    result = runner.run(suite)
    with open(os.path.join(queue_dir, f'result-{number}.json'), 'w') as file:
        json.dump({
                'outcomes': result.outcomes,
                'durations': result.durations,
                'class_durations': result.class_durations,
                'units': suite.unit_durations,
                }, file)
    return 0


def forward(stream, prefix):
    "Copy a worker's output to stderr, each line prefixed"
    for line in iter(stream.readline, b''):
        sys.stderr.buffer.write(prefix + line)
        sys.stderr.buffer.flush()


def run_workers(loader, specs, jobs):
    """Run specs in `jobs` worker processes; return a result-like object
    with their outcomes, durations and class_durations merged"""
    cache_root = os.environ.get('HUINONG_DB_CACHE_ROOT')
    if cache_root:  # prune once, before any worker reads the cache
        for group in {cache_group(spec) for spec in specs}:
            prune_group(cache_root, group)
        prune_templates(cache_root)
    queue = plan(loader, specs)
    db_name = os.environ.get('DB_NAME') or f'test_{int(time.time())}_{os.getpid()}'
    merged = types.SimpleNamespace(outcomes={}, durations={},
        class_durations={})
    with tempfile.TemporaryDirectory(prefix='huinong-queue-') as queue_dir:
        with open(os.path.join(queue_dir, 'units.json'), 'w') as file:
            json.dump(queue, file)
        with open(os.path.join(queue_dir, 'next'), 'w') as file:
            file.write('0')
        print(f"{len(queue)} units in {jobs} workers", file=sys.stderr)
        workers, threads = [], []

        def stop(signum, frame):
            # scripts/test stops us (interrupt): the workers go too
            for process in workers:
                process.terminate()
            for process in workers:
                process.wait()
            sys.exit(128 + signum)
        for signum in [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]:
            signal.signal(signum, stop)
        for number in range(1, jobs + 1):
            env = dict(os.environ, HUINONG_TEST_WORKER=str(number))
            if db_name != ':memory:':
                env['DB_NAME'] = f'{db_name}_{number}'
            env.update(soffice_env(number))
            process = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__),
                    '--worker', queue_dir, str(number)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            thread = threading.Thread(target=forward,
                args=(process.stdout, f'{number}| '.encode()))
            thread.start()
            workers.append(process)
            threads.append(thread)
        units = {}
        for number, (process, thread) in enumerate(
                zip(workers, threads), 1):
            returncode = process.wait()
            thread.join()
            path = os.path.join(queue_dir, f'result-{number}.json')
            if not os.path.exists(path):
                # Died (crash, kill): its unit in progress is lost
                merged.outcomes[f'worker {number}'] = 'fail'
                print(f"worker {number} ended without its result "
                    f"(exit {returncode})", file=sys.stderr)
                continue
            with open(path) as file:
                data = json.load(file)
            merged.outcomes.update(data['outcomes'])
            merged.durations.update(data['durations'])
            for name, seconds in data['class_durations'].items():
                merged.class_durations[name] = (
                    merged.class_durations.get(name, 0) + seconds)
            units.update(data['units'])
    write_history(units)
    return merged


def soffice_env(number=None):
    """TRYTOND_REPORT__CONVERT_COMMAND for soffice with the profile
    HUINONG_LIBREOFFICE_PROFILE (+ "-<worker>"): two soffice on one profile
    hand their work to each other and one returns without converting"""
    profile = os.environ.get('HUINONG_LIBREOFFICE_PROFILE')
    if not profile:
        return {}
    if number:
        profile = f'{profile}-{number}'
    os.makedirs(profile, exist_ok=True)
    url = 'file://' + urllib.request.pathname2url(os.path.abspath(profile))
    return {'TRYTOND_REPORT__CONVERT_COMMAND': (
            f'soffice -env:UserInstallation={url} --headless --nolockcheck '
            '--nodefault --norestore --convert-to "%(output_extension)s" '
            '--outdir "%(directory)s" "%(input_path)s"')}


def report(result):
    "Print where the time went; return the counts"
    # setUpClass, where databases are built or restored, is not in the
    # slowest tests' numbers, but is in the classes'
    if timings_file := os.environ.get('HUINONG_TIMINGS_FILE'):
        # for scripts/test's budget check, and for finding the slow tests
        with open(timings_file, 'w') as file:
            json.dump({'tests': result.durations,
                    'classes': result.class_durations}, file, indent=0,
                sort_keys=True)
    slowest = sorted(result.durations.items(), key=lambda i: -i[1])[:10]
    if slowest:
        print("Slowest tests:", file=sys.stderr)
        for test_id, seconds in slowest:
            print(f"  {seconds:6.1f}s {test_id}", file=sys.stderr)
    if result.class_durations:
        print("Time per test class (set-up included):", file=sys.stderr)
        for name, seconds in sorted(
                result.class_durations.items(), key=lambda i: -i[1]):
            print(f"  {seconds:7.1f}s {name}", file=sys.stderr)
    sys.stderr.flush()
    values = list(result.outcomes.values())
    return {k: values.count(v) for k, v in [
            ('passed', 'pass'), ('failed', 'fail'), ('skipped', 'skip')]}


def main(argv):
    if not argv or argv[0] in {'-h', '--help'}:
        print(__doc__.strip())
        return 0 if argv else 2
    # Where tests put screenshots and PDFs (scripts/test sets it too).
    artifacts = os.environ.setdefault(
        'HUINONG_ARTIFACTS', os.path.join(ROOT, 'artifacts'))
    os.makedirs(artifacts, exist_ok=True)
    if argv[0] == '--worker':
        return worker(argv[1], int(argv[2]))
    jobs = 1
    if argv[0] == '--jobs':
        jobs, argv = int(argv[1]), argv[2:]
    elif argv[0].startswith('--jobs='):
        jobs, argv = int(argv[0][len('--jobs='):]), argv[1:]
    if not argv:
        print("no TEST given", file=sys.stderr)
        return 2

    loader = unittest.TestLoader()
    if jobs > 1:
        result = run_workers(loader, argv, jobs)
    else:
        os.environ.update(soffice_env())
        if cache_root := os.environ.get('HUINONG_DB_CACHE_ROOT'):
            suite = unittest.TestSuite(
                cached_suites(loader, argv, cache_root))
        else:
            suite = unittest.TestSuite(load(loader, spec) for spec in argv)
        # Errors the loader swallowed itself (e.g. an unimportable module
        # in a discovered folder) already sit in the suite as failing tests.
        runner = unittest.TextTestRunner(
            verbosity=2, resultclass=CountingResult, stream=sys.stderr)
        result = runner.run(suite)
    counts = report(result)
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
