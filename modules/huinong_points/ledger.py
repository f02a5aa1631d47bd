# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The points ledger: configuration, set-up and the API of later slices"
import datetime as dt
from decimal import Decimal

from sql import Column, Literal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Model, ModelView, fields
from trytond.modules.huinong.tools import stored_defaults
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import LedgerError



class Configuration(metaclass=PoolMeta):
    __name__ = 'huinong.configuration'

    points_company = fields.Many2One(
        'company.company', "Points Company", readonly=True,
        help="The company that keeps the points ledger (the programme).")
    points_account = fields.Many2One(
        'account.account', "Household Points Account",
        domain=[
            ('company', '=', Eval('points_company', -1)),
            ('party_required', '=', True),
            ('closed', '!=', True),
            ],
        help="Liability: what the programme owes the households in points.")
    points_expense_account = fields.Many2One(
        'account.account', "Points Expense Account",
        domain=[
            ('company', '=', Eval('points_company', -1)),
            ('type.expense', '=', True),
            ('closed', '!=', True),
            ],
        help="Debited when approved points are credited to households.")
    points_payable_account = fields.Many2One(
        'account.account', "Store Redemptions Payable Account",
        domain=[
            ('company', '=', Eval('points_company', -1)),
            ('type.debt', '=', True),
            ('party_required', '=', True),
            ('closed', '!=', True),
            ],
        help="What the programme owes the store operators for the points "
        "they redeemed.")
    points_journal = fields.Many2One(
        'account.journal', "Points Journal",
        help="The journal of every move of points.")

    def get_points_ledger(self):
        "Return the configuration or raise when the ledger is not set up"
        if not (self.points_company and self.points_account
                and self.points_expense_account
                and self.points_payable_account and self.points_journal):
            raise LedgerError(gettext('huinong_points.msg_ledger_not_set_up'))
        return self


class Ledger(Model):
    "Points Ledger"
    __name__ = 'huinong.points.ledger'

    @classmethod
    def config(cls):
        Configuration = Pool().get('huinong.configuration')
        return Configuration(1).get_points_ledger()

    # Set-up -------------------------------------------------------------

    @classmethod
    def setup_ledger(cls, company, date=None):
        """Create the programme's chart, the fiscal year of date (today by
        default) and fill the configuration. Running it again changes
        nothing that exists."""
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        Account = pool.get('account.account')
        AccountConfiguration = pool.get('account.configuration')
        AccountTemplate = pool.get('account.account.template')
        Currency = pool.get('currency.currency')
        Rate = pool.get('currency.currency.rate')
        ModelData = pool.get('ir.model.data')
        Date = pool.get('ir.date')
        ConfigLang = pool.get('ir.configuration')

        currency = company.currency
        if currency.code != 'CNY':
            raise LedgerError(gettext(
                    'huinong_points.msg_ledger_company_currency',
                    company=company.rec_name, currency=currency.code))
        if not currency.rates:
            # One yuan is one point: both rates 1
            Rate.create([{
                        'currency': currency.id,
                        'date': dt.date(1970, 1, 1),
                        'rate': Decimal(1),
                        }])
        pts = Currency(ModelData.get_id('huinong_points', 'currency_pts'))

        def template(xml_id):
            return ModelData.get_id('huinong_points', xml_id)

        root = AccountTemplate(template('account_template_root'))
        with Transaction().set_context(
                language=ConfigLang.get_language(), company=company.id):
            if not Account.search([
                        ('company', '=', company.id),
                        ('template', '=', root.id),
                        ], limit=1):
                template2type, template2account = {}, {}
                root.type.create_type(
                    company.id, template2type=template2type)
                root.create_account(
                    company.id, template2account=template2account,
                    template2type=template2type)

            def account(xml_id):
                account, = Account.search([
                        ('company', '=', company.id),
                        ('template', '=', template(xml_id)),
                        ], limit=1)
                return account
            points_account = account('account_template_household_points')
            if points_account.second_currency != pts:
                points_account.second_currency = pts
                points_account.save()

            with Transaction().set_context(company=company.id):
                date = date or Date.today()
            cls.create_fiscalyear(company, date)

            config = Configuration(1)
            values = {
                'points_company': company,
                'points_account': points_account,
                'points_expense_account': account(
                    'account_template_points_expense'),
                'points_payable_account': account(
                    'account_template_store_payable'),
                'points_journal': ModelData.get_id(
                    'huinong_points', 'journal_points'),
                }
            for name, value in values.items():
                if not getattr(config, name):
                    setattr(config, name, value)
            config.save()

            # Supplier invoices of the settlement credit the operators here
            account_config = AccountConfiguration(1)
            if not account_config.default_account_payable:
                account_config.default_account_payable = account(
                    'account_template_operator_payable')
                account_config.save()
        return config

    @classmethod
    def create_fiscalyear(cls, company, date):
        """Create the calendar fiscal year of date with monthly periods if
        the company has none at that date; return the fiscal year."""
        pool = Pool()
        FiscalYear = pool.get('account.fiscalyear')
        Sequence = pool.get('ir.sequence.strict')
        ModelData = pool.get('ir.model.data')
        fiscalyears = FiscalYear.search([
                ('company', '=', company.id),
                ('start_date', '<=', date),
                ('end_date', '>=', date),
                ], limit=1)
        if fiscalyears:
            fiscalyear, = fiscalyears
            return fiscalyear
        name = str(date.year)
        # Strict: Tryton 8.0 requires a gap-free sequence to number posted
        # moves (see doc/design.rst, "Posting and the hot row").
        sequence, = Sequence.create([{
                    'name': "%s %s" % (company.rec_name, name),
                    'sequence_type': ModelData.get_id(
                        'account', 'sequence_type_account_move'),
                    'company': company.id,
                    'prefix': '%s-' % name,
                    }])
        fiscalyear, = FiscalYear.create([{
                    'name': name,
                    'company': company.id,
                    'start_date': dt.date(date.year, 1, 1),
                    'end_date': dt.date(date.year, 12, 31),
                    'move_sequence': sequence.id,
                    }])
        FiscalYear.create_period([fiscalyear])
        return fiscalyear

    # Moves ----------------------------------------------------------------

    @classmethod
    def lock_households(cls, parties):
        """Lock the rows of the households whose points are about to go
        down or be capped, so that two transactions moving points of one
        household run one after the other.

        The household's party row is the one lock every document takes
        (posting a sheet, a transfer, a redemption): nothing else is
        locked, so transactions of different households never wait on
        each other (no hot row). Lock in id order against deadlocks."""
        Party = Pool().get('party.party')
        parties = sorted({int(p) for p in parties})
        if parties:
            # Ids, not records: browse() of thousands of ids checks each
            # record's list of ids (quadratic at month end)
            with without_check_access():
                Party.lock(parties)

    @classmethod
    def _check_points(cls, party, points):
        if not party.huinong_household:
            raise LedgerError(gettext(
                    'huinong_points.msg_ledger_not_household',
                    party=party.rec_name))
        if (not isinstance(points, (int, Decimal))
                or isinstance(points, bool)
                or points <= 0 or Decimal(points) % 1):
            raise LedgerError(gettext(
                    'huinong_points.msg_ledger_points_positive',
                    party=party.rec_name, points=points))
        return Decimal(points)

    @classmethod
    def _move(cls, date, description, origin):
        pool = Pool()
        Move = pool.get('account.move')
        Period = pool.get('account.period')
        config = cls.config()
        company = config.points_company
        return Move(
            company=company,
            journal=config.points_journal,
            period=Period.find(company, date=date),
            date=date,
            description=description,
            origin=origin)

    @classmethod
    def household_line(cls, party, points):
        """Return a move line moving points of the household: positive
        points credit the household, negative points debit it."""
        Line = Pool().get('account.move.line')
        config = cls.config()
        points = Decimal(points)
        return Line(
            account=config.points_account,
            party=party,
            credit=points if points > 0 else Decimal(0),
            debit=-points if points < 0 else Decimal(0),
            second_currency=config.points_account.second_currency,
            amount_second_currency=-points)

    @classmethod
    def credit(cls, lines, date, description, origin=None, post=True):
        """Credit points to households in ONE move: Dr points expense, Cr
        household points, one line per household.
        lines is a list of (household, points); points are positive whole
        Decimals. The move is posted unless post is False (a draft counts in
        the balances at once). Return the move.

        A month-end sheet has hundreds of lines that differ only by party
        and points: what is the same for every line (accounts, journal and
        period, second currency) is checked once, each line's own rules
        (a household, whole points > 0, once) in one pass, and the lines
        are written in one INSERT (see doc/design.rst, "Bulk credit")."""
        pool = Pool()
        Move = pool.get('account.move')
        config = cls.config()
        if not lines:
            raise LedgerError(gettext('huinong_points.msg_ledger_no_lines'))
        credits = cls._check_credit_lines(lines)
        move = cls._move(date, description, origin)
        move.save()
        total = sum(points for _, points in credits)
        rows = [cls._expense_row(config, total)]
        rows.extend(cls._household_row(config, party_id, points)
            for party_id, points in credits)
        cls._insert_lines(move, rows)
        move = Move(move.id)
        # The rules of the ledger on the whole move: balanced lines are
        # valid, household points only against the allowed accounts
        Move.validate_move([move])
        Move.check_huinong_points([move])
        if post:
            # Move.post refuses an empty or unbalanced move
            Move.post([move])
        return move

    @classmethod
    def _check_credit_lines(cls, lines):
        """Check each (household, points) once: a household (one query for
        all), positive whole points, no household twice.
        Return [(party id, Decimal points)]."""
        Party = Pool().get('party.party')
        party_table = Party.__table__()
        cursor = Transaction().connection.cursor()
        result, seen = [], set()
        for party, points in lines:
            if (not isinstance(points, (int, Decimal))
                    or isinstance(points, bool)
                    or points <= 0 or Decimal(points) % 1):
                raise LedgerError(gettext(
                        'huinong_points.msg_ledger_points_positive',
                        party=party.rec_name, points=points))
            if party.id in seen:
                raise LedgerError(gettext(
                        'huinong_points.msg_ledger_household_twice',
                        party=party.rec_name))
            seen.add(party.id)
            result.append((party.id, Decimal(points)))
        households = set()
        for sub_ids in grouped_slice(list(seen), backend.MAX_QUERY_PARAMS):
            cursor.execute(*party_table.select(party_table.id,
                    where=fields.SQL_OPERATORS['in'](
                        party_table.id, list(sub_ids))
                    & (party_table.huinong_household == Literal(True))))
            households.update(i for i, in cursor)
        for party, _ in lines:
            if party.id not in households:
                raise LedgerError(gettext(
                        'huinong_points.msg_ledger_not_household',
                        party=party.rec_name))
        return result

    @classmethod
    def _expense_row(cls, config, total):
        return {
            'account': config.points_expense_account.id,
            'party': None,
            'debit': total,
            'credit': Decimal(0),
            'second_currency': None,
            'amount_second_currency': None,
            }

    @classmethod
    def _household_row(cls, config, party_id, points):
        "As household_line: positive points credit, negative ones debit"
        return {
            'account': config.points_account.id,
            'party': party_id,
            'debit': -points if points < 0 else Decimal(0),
            'credit': points if points > 0 else Decimal(0),
            'second_currency': config.points_account.second_currency.id,
            'amount_second_currency': -points,
            }

    @classmethod
    def _insert_lines(cls, move, rows):
        """Insert the lines of a new draft move in one statement, after
        the checks account.move.line makes on each line that are the same
        for all of them: the accounts are open, of the move's company and
        need a party exactly when the rows have one; the journal-period is
        open (created when missing); the household points account has the
        points as second currency."""
        pool = Pool()
        Line = pool.get('account.move.line')
        Account = pool.get('account.account')
        config = cls.config()
        transaction = Transaction()
        accounts = {a.id: a
            for a in Account.browse(list({r['account'] for r in rows}))}
        for row in rows:
            account = accounts[row['account']]
            if not account.type or account.closed:
                raise LedgerError(gettext(
                        'account.msg_line_closed_account',
                        account=account.rec_name))
            if bool(row['party']) != bool(account.party_required):
                error = 'party_set' if row['party'] else 'party_required'
                raise LedgerError(gettext(
                        'account.msg_line_%s' % error,
                        account=account.rec_name, line=move.rec_name))
        for account in accounts.values():
            if account.company != move.company:
                raise LedgerError(gettext(
                        'huinong_points.msg_ledger_account_company',
                        account=account.rec_name))
        if not config.points_account.second_currency:
            raise LedgerError(gettext('huinong_points.msg_ledger_not_set_up'))
        Line.check_journal_period_modify(move.period, move.journal)

        # Stored columns with their defaults, as create() would fill them
        table = Line.__table__()
        defaults = cls._line_defaults()
        names = sorted(set(defaults) | set(rows[0]))
        now = dt.datetime.now()
        columns = [Column(table, n) for n in names] + [
            table.move, table.create_uid, table.create_date]
        values = []
        for row in rows:
            value = dict(defaults)
            value.update(row)
            values.append([value.get(n) for n in names]
                + [move.id, transaction.user, now])
        cursor = transaction.connection.cursor()
        for sub_values in grouped_slice(values, 1000):
            cursor.execute(*table.insert(columns, list(sub_values)))
        transaction.counter += 1
        for cache in transaction.cache.values():
            cache.pop(Line.__name__, None)

    @classmethod
    def _line_defaults(cls):
        "The defaults of the stored columns of a move line, other modules'"
        return stored_defaults(
            Pool().get('account.move.line'), exclude={'move'})

    @classmethod
    def reverse(cls, moves, reason, date=None, post=True):
        """Create and post for each move of points a reversing move (debit
        and credit swapped, origin the reversed move). Moves are never
        edited nor deleted. Return the reversing moves."""
        pool = Pool()
        Move = pool.get('account.move')
        Date = pool.get('ir.date')
        Period = pool.get('account.period')
        config = cls.config()
        if not reason or not reason.strip():
            raise LedgerError(gettext(
                    'huinong_points.msg_ledger_reason_required'))
        if date is None:
            with Transaction().set_context(
                    company=config.points_company.id):
                date = Date.today()
        for move in moves:
            if move.journal != config.points_journal:
                raise LedgerError(gettext(
                        'huinong_points.msg_ledger_reverse_journal',
                        move=move.rec_name))
        reversed_ = Move.search([
                ('origin', 'in', [str(m) for m in moves]),
                ], limit=1)
        originals = [m for m in moves
            if isinstance(m.origin, Move) and m.origin.journal
            == config.points_journal]
        if reversed_ or originals:
            move = reversed_[0].origin if reversed_ else originals[0]
            raise LedgerError(gettext(
                    'huinong_points.msg_ledger_reverse_twice',
                    move=move.rec_name))
        period = Period.find(config.points_company, date=date)
        reversals = []
        for move in moves:
            description = (
                "冲销 %s: %s" % (move.number or move.id, reason.strip()))
            reversals.append(move.cancel(default={
                        'date': date,
                        'period': period.id,
                        'description': description,
                        }, reversal=True))
        if post:
            Move.post(reversals)
        return reversals


class SetupStart(ModelView):
    "Points Ledger Set-up"
    __name__ = 'huinong.points.setup.start'

    company = fields.Many2One('company.company', "Company", required=True)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class SetupDone(ModelView):
    "Points Ledger Set-up Done"
    __name__ = 'huinong.points.setup.done'

    points_account = fields.Many2One(
        'account.account', "Household Points Account", readonly=True)
    points_journal = fields.Many2One(
        'account.journal', "Points Journal", readonly=True)


class Setup(Wizard):
    "Points Ledger Set-up"
    __name__ = 'huinong.points.setup'

    start = StateView('huinong.points.setup.start',
        'huinong_points.setup_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Set Up", 'setup', 'tryton-ok', default=True),
            ])
    setup = StateTransition()
    done = StateView('huinong.points.setup.done',
        'huinong_points.setup_done_view_form', [
            Button("OK", 'end', 'tryton-ok', default=True),
            ])

    def transition_setup(self):
        Ledger = Pool().get('huinong.points.ledger')
        # The wizard is granted to the county office by its action groups;
        # the chart and fiscal year are made on the office's behalf.
        with without_check_access():
            Ledger.setup_ledger(self.start.company)
        return 'done'

    def default_done(self, fields):
        Configuration = Pool().get('huinong.configuration')
        config = Configuration(1)
        return {
            'points_account': config.points_account.id,
            'points_journal': config.points_journal.id,
            }


class ReverseStart(ModelView):
    "Reverse Points Moves"
    __name__ = 'huinong.points.reverse.start'

    reason = fields.Char(
        "Reason", required=True,
        help="Why the points are taken back; kept in the reversing move.")


class Reverse(Wizard):
    "Reverse Points Moves"
    __name__ = 'huinong.points.reverse'

    start = StateView('huinong.points.reverse.start',
        'huinong_points.reverse_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reverse", 'reverse', 'tryton-ok', default=True),
            ])
    reverse = StateTransition()

    def transition_reverse(self):
        Ledger = Pool().get('huinong.points.ledger')
        # Granted to the county office by the action's groups: the office
        # reads moves but writes them only through the ledger.
        with without_check_access():
            Ledger.reverse(self.records, self.start.reason)
        return 'end'
