# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Demo data of the settlement: the stores' months of redemptions before
this one, settled. The oldest ones are paid; of last month, every store
but one is approved, the last one has not submitted its statement (late
once the deadline is past)."""
import datetime as dt

from trytond.transaction import Transaction

# A stand-in for the scan of the signed paper statement
SCAN = (b'%PDF-1.4\n% demo: signed redemption statement\n'
    b'1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')


def create_demo_settlements(pool, today=None, months=2):
    pool_get = pool.get
    Settlement = pool_get('huinong.settlement')
    Method = pool_get('account.invoice.payment.method')
    Journal = pool_get('account.journal')
    Account = pool_get('account.account')
    Ledger = pool_get('huinong.points.ledger')
    Date = pool_get('ir.date')
    stats = {'settlements': 0, 'settlements_paid': 0}
    config = Ledger.config()
    company = config.points_company
    with Transaction().set_context(company=company.id):
        if today is None:
            today = Date.today()
        methods = Method.search([('company', '=', company.id)], limit=1)
        if methods:
            method, = methods
        else:
            cash, = Journal.search([('type', '=', 'cash')], limit=1)
            bank, = Account.search([
                    ('company', '=', company.id), ('code', '=', '1002')])
            method, = Method.create([{
                        'name': "银行转账",
                        'company': company.id,
                        'journal': cash.id,
                        'credit_account': bank.id,
                        'debit_account': bank.id,
                        }])
        first = today.replace(day=1)
        dates = []
        for _ in range(months):
            dates.append(first)
            first = (first - dt.timedelta(days=1)).replace(day=1)
        for n, date in enumerate(reversed(dates)):
            last_month = n == len(dates) - 1
            settlements = Settlement.create_month(date)
            stats['settlements'] += len(settlements)
            settlements.sort(key=lambda s: s.store.code or '')
            to_submit = settlements[:-1] if last_month else settlements
            for i, settlement in enumerate(to_submit):
                points = settlement.system_points
                values = {
                    'statement_points': points,
                    'statement_scan': SCAN,
                    'statement_filename': '兑换统计表-%s-%s.pdf' % (
                        settlement.store.code,
                        settlement.month.strftime('%Y%m')),
                    }
                if i == 0 and points >= 5:
                    # The store forgot a redemption on its paper
                    values['statement_points'] = points - 5
                    values['difference_reason'] = (
                        "超市手工台账漏记一笔5积分的兑换，已核对系统记录。")
                Settlement.write([settlement], values)
            Settlement.submit(to_submit)
            Settlement.verify(to_submit)
            Settlement.approve(to_submit)
            if last_month:
                continue
            to_pay = [s for s in Settlement.browse(to_submit)
                if s.invoice and s.invoice.amount_to_pay]
            if to_pay:
                # as the finance bureau pays them (the Pay button)
                Settlement.pay_invoices(to_pay, method,
                    max(s.invoice.invoice_date for s in to_pay))
                stats['settlements_paid'] += len(to_pay)
    return stats
