#!/usr/bin/env python3
"""The reconciliation check of a huinong database, from the command line.

    scripts/reconcile [-c CONFIG] -d DATABASE [--check NAME...] [-l LANG]

Checks the books against the documents (the same as 惠农超市 › 结算 ›
对账检查 in the clients; modules/huinong_settlement/doc/index.rst says
what each check compares):

  evaluation   every posted evaluation sheet's total equals its move
  redemption   every done redemption has its ledger move with equal points
               on both sides and its stock moves; a cancelled one its
               reversing move
  stock        the goods leaving each store for redemptions, less returns,
               equal its done redemption lines, product by product
  settlement   each computed settlement equals the ledger of its moves, the
               invoice of an approved one its amount
  household    credited − redeemed − transferred out + transferred in =
               balance, for every household

Prints OK, or each difference on its own line (in LANG, default zh_CN),
then one line `reconcile checks=… differences=N seconds=S`.  Exit status:
0 when the books agree, 1 when a difference was found, 2 on an error.
It only reads the database (a read-only transaction): run it at any time,
also while the clients work.

The configuration: -c, else TRYTOND_CONFIG; the server as trytond reads it
([database] uri, TRYTOND_DATABASE__URI...).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import setup_db  # noqa: E402  (standard library only at import)

CHECKS = ['evaluation', 'redemption', 'stock', 'settlement', 'household']


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Check the books of a huinong database against its "
        "documents.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 2)[2])
    parser.add_argument('-c', '--config', nargs='+',
        default=[os.environ['TRYTOND_CONFIG']]
        if os.environ.get('TRYTOND_CONFIG') else [],
        help="the trytond configuration file(s)")
    parser.add_argument('-d', '--database', required=True,
        help="the database name")
    parser.add_argument('--check', nargs='+', choices=CHECKS,
        help="only these checks (default: all)")
    parser.add_argument('-l', '--language', default='zh_CN',
        help="the language of the messages (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_db.load_config(args.config)
    from trytond.pool import Pool
    pool = Pool(args.database)
    pool.init()
    start = time.monotonic()

    def check():
        Reconciliation = Pool().get('huinong.settlement.reconciliation')
        return Reconciliation.check(args.check)
    differences = setup_db.in_transaction(args.database, check,
        context={'language': args.language}, readonly=True)
    seconds = time.monotonic() - start
    if differences:
        for difference in differences:
            print(difference.message)
    else:
        print("OK")
    print("reconcile checks=%s differences=%d seconds=%.1f" % (
            ','.join(args.check or CHECKS), len(differences), seconds))
    return 1 if differences else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception as exception:
        print("reconcile: %s" % exception, file=sys.stderr)
        sys.exit(2)
