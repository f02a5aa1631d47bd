# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the tests of the points ledger and of later modules"
from trytond.modules.company.tests import create_company
from trytond.pool import Pool


def create_programme_company(name="白沙县电商惠农超市"):
    "Create the programme's company, in yuan (CNY)"
    pool = Pool()
    Currency = pool.get('currency.currency')
    currencies = Currency.search([('code', '=', 'CNY')], limit=1)
    if currencies:
        cny, = currencies
    else:
        cny, = Currency.create([{
                    'name': "人民币", 'code': 'CNY', 'symbol': '¥',
                    'numeric_code': '156',
                    }])
    return create_company(name=name, currency=cny)


def setup_ledger(company, date=None):
    "Set the points ledger up for the company; return the configuration"
    Ledger = Pool().get('huinong.points.ledger')
    return Ledger.setup_ledger(company, date=date)
