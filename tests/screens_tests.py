# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Every screen of every role opens in sao, in Chinese, without an error.

For each role of the demo (one user per set of groups, setup_db.DEMO_USERS)
tests/screens.py walks every menu entry the server gives that user: the
list and each of its tabs, the form of the first record and each of its
pages, and every entry of the form's action, relation and print menus up
to its first step (an entry seen by an earlier role of the class is not
opened again: it is the same dialog or report for everyone).  A problem
is a page or console error, an error dialog, a user error, a step that
does not end within its bound, or an English word on screen
(screens.ENGLISH_ALLOWED aside).  The test lists every problem of the
role at once.

The roles are cut into classes so that scripts/test's workers run them
side by side; each class copies the demo database and starts its own
server.  Screenshots of each role's first screen of every menu entry go to
$HUINONG_ARTIFACTS/screens/<login>/.

The counter at a phone's size is tests/test_browser.py's
PhoneCounterTestCase.

NOT YET PART OF scripts/test (which runs tests/test_*.py): walking every
role by clicking took more than 25 minutes on a 2-core machine, beyond the
suite's budget, and it still finds problems (issue 14).  Run it by hand:

    cd tests && HUINONG_TEST_BACKEND=sqlite HUINONG_TEST_BACKENDS=sqlite \
        ../.venv/bin/python -m unittest -v screens_tests
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import screens  # noqa: E402
import test_browser  # noqa: E402

sys.path.insert(0, os.path.join(test_browser.ROOT, 'scripts'))
import setup_db  # noqa: E402


def roles():
    "One demo user per set of groups, in the order of DEMO_USERS"
    seen, result = set(), []
    for login, _, groups, _ in setup_db.DEMO_USERS:
        key = tuple(sorted(groups))
        if key not in seen:
            seen.add(key)
            result.append(login)
    return result


# User errors that are the right answer of a screen, with the reason:
# {(menu entry or toolbar entry, kind): reason}
ALLOWED = {}


class ScreensMixin:

    def walk_role(self, login):
        rpc = screens.RPC(self.url, self.db_name, login,
            test_browser.DEMO_PASSWORD)
        folder = os.path.join(test_browser.artifacts_dir(), 'screens', login)
        self.page.set_default_timeout(screens.STEP_TIMEOUT)
        screens.login(self.page, self.url, self.db_name, login,
            test_browser.DEMO_PASSWORD)
        log = []
        walker = screens.Walker(self.page, rpc, allowed=ALLOWED,
            log=log.append, screenshots=folder, seen=type(self).seen)
        menus = rpc.menus()
        self.assertTrue(menus, "%s sees no menu" % login)
        problems = walker.walk(menus)
        print("%s: %d menu entries walked" % (login, len(walker.visited)),
            file=sys.stderr)
        self.assertEqual(problems, [],
            "%s: %d problems:\n%s" % (login, len(problems),
                '\n'.join(problems)))


def role_test(login):
    def test(self):
        self.walk_role(login)
    test.__name__ = 'test_%s' % login
    test.__doc__ = "Every screen of %s opens, in Chinese" % login
    return test


def screens_class(name, logins):
    namespace = {'seen': set(), '__doc__': "Every screen of %s" % (
            ', '.join(logins))}
    for login in logins:
        namespace['test_%s' % login] = role_test(login)
    return type(name, (ScreensMixin, test_browser.DemoServerTestCase),
        namespace)


_ROLES = roles()
_HALF = (len(_ROLES) + 1) // 2
# The county roles, then those of the townships and villages
CountyScreensTestCase = screens_class(
    'CountyScreensTestCase', _ROLES[:_HALF])
TownshipScreensTestCase = screens_class(
    'TownshipScreensTestCase', _ROLES[_HALF:])


if __name__ == '__main__':
    unittest.main()
