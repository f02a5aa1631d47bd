#!/usr/bin/env python3
# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Refresh modules/*/locale/zh_CN.po from the modules' sources.

Activates the modules in an in-memory SQLite database, lets trytond collect
every translatable string (fields, help, selections, views, menus, actions,
groups, messages, reports), exports them for zh_CN and merges the existing
translations in. Entries that lost their source are dropped.

    .venv/bin/python scripts/update_po.py [MODULE ...]   # rewrite the files
    .venv/bin/python scripts/update_po.py --check         # fail on gaps
"""
import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANG = 'zh_CN'


def module_names():
    return sorted(p.parent.name for p in ROOT.glob('modules/*/tryton.cfg'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('modules', nargs='*', default=module_names())
    parser.add_argument('--check', action='store_true',
        help="write nothing; exit 1 when a file is not up to date or "
        "has untranslated entries")
    args = parser.parse_args()

    os.environ['DB_NAME'] = ':memory:'
    os.environ.pop('TRYTOND_DATABASE_URI', None)
    import polib

    from trytond.tests.test_tryton import DB_NAME, USER, activate_module
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    activate_module(args.modules)
    failures = 0
    with Transaction().start(DB_NAME, USER, context={}) as transaction:
        pool = Pool()
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        Set = pool.get('ir.translation.set', type='wizard')
        Update = pool.get('ir.translation.update', type='wizard')

        session_id, _, _ = Set.create()
        Set(session_id).transition_set_()
        lang, = Lang.search([('code', '=', LANG)])
        session_id, _, _ = Update.create()
        update = Update(session_id)
        update.start.language = lang
        update.do_update({})

        for module in args.modules:
            path = ROOT / 'modules' / module / 'locale' / f'{LANG}.po'
            fresh = polib.pofile(
                Translation.translation_export(LANG, module).decode('utf-8'))
            old = {}
            if path.exists():
                for entry in polib.pofile(str(path)):
                    old[(entry.msgctxt, entry.msgid)] = entry
            missing = []
            for entry in fresh:
                previous = old.get((entry.msgctxt, entry.msgid))
                entry.msgstr = previous.msgstr if previous else ''
                entry.flags = [f for f in entry.flags if f != 'fuzzy']
                if not entry.msgstr:
                    missing.append(entry)
            fresh.metadata = {
                'Content-Type': 'text/plain; charset=utf-8',
                }
            text = str(fresh)
            current = path.read_text(encoding='utf-8') if path.exists() else ''
            if args.check:
                if text.strip() != current.strip():
                    print(f"{path.relative_to(ROOT)}: not up to date, "
                        "run scripts/update_po.py")
                    failures += 1
                for entry in missing:
                    print(f"{path.relative_to(ROOT)}: untranslated "
                        f"{entry.msgctxt} {entry.msgid!r}")
                failures += len(missing)
            else:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text + '\n', encoding='utf-8')
                print(f"{path.relative_to(ROOT)}: {len(fresh)} entries, "
                    f"{len(missing)} untranslated")
        transaction.rollback()
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
