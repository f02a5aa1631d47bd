# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Transfers of points between households (转账) and corrections of one
household's credit (更正)"""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.approval import (
    ApprovalMixin, ApprovalStep, approval_at_field, approval_by_field,
    approval_step)
from trytond.modules.huinong.exceptions import ApprovalError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import LedgerError, LedgerValidationError

# Who may request (and cancel) a transfer: the village committee of the
# source household's village or its township office
REQUEST_GROUPS = [
    'huinong.group_township_office', 'huinong.group_village_committee']


class Transfer(ApprovalMixin, ModelSQL, ModelView):
    "Points Transfer"
    __name__ = 'huinong.points.transfer'

    from_household = fields.Many2One(
        'party.party', "From Household", required=True, ondelete='RESTRICT',
        domain=[
            ('huinong_household', '=', True),
            ('id', '!=', Eval('to_household', -1)),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The household whose points are moved out.")
    to_household = fields.Many2One(
        'party.party', "To Household", required=True, ondelete='RESTRICT',
        domain=[
            ('huinong_household', '=', True),
            ('id', '!=', Eval('from_household', -1)),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The household that receives the points.")
    from_village = fields.Function(fields.Many2One(
            'huinong.area', "From Village"), 'on_change_with_from_village')
    from_township = fields.Function(fields.Many2One(
            'huinong.area', "From Township"), 'on_change_with_from_township')
    to_village = fields.Function(fields.Many2One(
            'huinong.area', "To Village"), 'on_change_with_to_village')
    from_balance = fields.Function(fields.Numeric(
            "Balance of Source", digits=(16, 0),
            help="The points the source household holds now."),
        'get_from_balance')
    points = fields.Numeric(
        "Points", digits=(16, 0), required=True,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="A whole number of points greater than zero.")
    date = fields.Date(
        "Date", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The date of the move of points.")
    reason = fields.Text(
        "Reason", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="Why the points move, e.g. the household split or its head "
        "died.")
    move = fields.Many2One(
        'account.move', "Move", readonly=True,
        states={
            'invisible': ~Eval('move'),
            })
    state = fields.Selection([
            ('draft', "Draft"),
            ('requested', "Requested"),
            ('approved', "Approved"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    requested_by = approval_by_field("Requested By")
    requested_at = approval_at_field("Requested At")
    approved_by = approval_by_field("Approved By")
    approved_at = approval_at_field("Approved At")

    _approval_steps = {
        'request': ApprovalStep(
            REQUEST_GROUPS, 'village', 'requested_by', 'requested_at'),
        'approve': ApprovalStep(
            ['huinong.group_township_office'],
            'township', 'approved_by', 'approved_at'),
        }
    _approval_first = 'request'
    _approval_next = {
        'requested': 'approve',
        }

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('date', 'DESC'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('draft', 'requested'),
            ('requested', 'approved'),
            ('requested', 'draft'),
            ('draft', 'cancelled'),
            ('requested', 'cancelled'),
            }
        cls._buttons.update({
                'request': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                'return_wizard': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'requested']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        return '%s → %s: %s' % (
            self.from_household.rec_name, self.to_household.rec_name,
            self.points)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('from_household.rec_name', operator, operand, *extra),
            ('to_household.rec_name', operator, operand, *extra),
            ]

    @classmethod
    def read(cls, ids, fields_names):
        # The roles of the other household's village read the transfer but
        # not that household: its name is read past the household rules
        # (nothing else of it).
        names = {'from_household.rec_name', 'to_household.rec_name'}
        related = [f for f in fields_names if f in names]
        if not related or not Transaction().check_access:
            return super().read(ids, fields_names)
        result = super().read(
            ids, [f for f in fields_names if f not in names])
        with without_check_access():
            extra = {r['id']: r for r in super().read(ids, related)}
        for values in result:
            for name in related:
                key = name.split('.', 1)[0] + '.'
                values[key] = extra[values['id']].get(key)
        return result

    @fields.depends('from_household')
    def on_change_with_from_village(self, name=None):
        if self.from_household:
            return self.from_household.huinong_village

    @fields.depends('from_household')
    def on_change_with_from_township(self, name=None):
        if self.from_household:
            return self.from_household.huinong_township

    @fields.depends('to_household')
    def on_change_with_to_village(self, name=None):
        if self.to_household:
            return self.to_household.huinong_village

    @classmethod
    def get_from_balance(cls, transfers, name):
        Party = Pool().get('party.party')
        households = Party.browse({t.from_household.id for t in transfers})
        # The transfer passed the read rules: show its household's balance
        with without_check_access():
            balances = Party.get_huinong_points_balance(
                households, 'huinong_points_balance')
        return {t.id: balances[t.from_household.id] for t in transfers}

    def get_approval_area(self, scope):
        if scope == 'village':
            return self.from_household.huinong_village
        return self.from_household.huinong_township

    @classmethod
    def validate_fields(cls, transfers, field_names):
        super().validate_fields(transfers, field_names)
        cls.check_households_points(transfers, field_names)

    @classmethod
    def check_households_points(cls, transfers, field_names=None):
        if field_names and not (field_names & {
                    'from_household', 'to_household', 'points'}):
            return
        for transfer in transfers:
            for household in [transfer.from_household, transfer.to_household]:
                if not household.huinong_household:
                    raise LedgerValidationError(gettext(
                            'huinong_points.msg_ledger_not_household',
                            party=household.rec_name))
            if transfer.from_household == transfer.to_household:
                raise LedgerValidationError(gettext(
                        'huinong_points.msg_transfer_same_household',
                        household=transfer.from_household.rec_name))
            points = transfer.points
            if points is None or points <= 0 or points % 1:
                raise LedgerValidationError(gettext(
                        'huinong_points.msg_transfer_points',
                        points=points))

    @classmethod
    def copy(cls, transfers, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('move')
        default.setdefault('date', cls.default_date())
        return super().copy(transfers, default=default)

    @classmethod
    def _approval_protected_fields(cls):
        return super()._approval_protected_fields() | {'move'}

    @classmethod
    def check_modification(
            cls, mode, transfers, values=None, external=False):
        super().check_modification(
            mode, transfers, values=values, external=external)
        if mode == 'write' and external and values:
            for transfer in transfers:
                if transfer.state != 'draft':
                    raise AccessError(gettext(
                            'huinong_points.msg_transfer_write_draft',
                            transfer=transfer.rec_name))
        if mode == 'delete':
            for transfer in transfers:
                if transfer.state not in {'draft', 'cancelled'}:
                    raise AccessError(gettext(
                            'huinong_points.msg_transfer_delete',
                            transfer=transfer.rec_name))

    @classmethod
    def _check_scope(cls, transfers, groups, scope):
        """Check that the user is in one of the groups and answers for the
        source household's area of the scope"""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        if not Transaction().user:
            return
        allowed = {ModelData.get_id(*g.split('.')) for g in groups}
        allowed.add(ModelData.get_id('res', 'group_admin'))
        user_groups = set(User.get_groups())
        for transfer in transfers:
            if not user_groups & allowed:
                raise ApprovalError(gettext(
                        'huinong.msg_approval_group',
                        step=cls._step_string('cancel'),
                        document=transfer.rec_name))
            if User.is_huinong_county_wide():
                continue
            _, townships, villages = User.get_huinong_scope()
            area = transfer.get_approval_area(scope)
            if area.id not in (villages if scope == 'village' else townships):
                raise ApprovalError(gettext(
                        'huinong.msg_approval_area',
                        step=cls._step_string('cancel'),
                        document=transfer.rec_name,
                        area=area.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('requested')
    @approval_step('request')
    def request(cls, transfers):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    @approval_step('approve')
    def approve(cls, transfers):
        cls.post(transfers)

    @classmethod
    @ModelView.button_action('huinong.wizard_approval_return')
    def return_wizard(cls, transfers):
        pass

    @classmethod
    @Workflow.transition('draft')
    def return_(cls, transfers):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, transfers):
        cls._check_scope(transfers, REQUEST_GROUPS, 'village')
        cls.record_approval(transfers, 'cancel', action='event')

    @classmethod
    def post(cls, transfers):
        """Post one move per transfer: Dr the source household, Cr the
        destination household. Both households are locked and the source
        balance is read again under the lock; nothing is written when one
        of them does not cover its transfers."""
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Party = pool.get('party.party')
        Move = pool.get('account.move')
        if not transfers:
            return
        with without_check_access():
            Ledger.lock_households(
                [t.from_household for t in transfers]
                + [t.to_household for t in transfers])
            sources = Party.browse({t.from_household.id for t in transfers})
            balances = Party.get_huinong_points_balance(
                sources, 'huinong_points_balance')
            moves = []
            for transfer in transfers:
                source = transfer.from_household
                destination = transfer.to_household
                balance = balances[source.id]
                if balance < transfer.points:
                    raise LedgerError(gettext(
                            'huinong_points.msg_transfer_balance',
                            household=source.rec_name,
                            balance=balance,
                            points=transfer.points))
                balances[source.id] -= transfer.points
                if destination.id in balances:
                    balances[destination.id] += transfer.points
                move = Ledger._move(
                    transfer.date,
                    "转账 %s → %s: %s" % (
                        source.rec_name, destination.rec_name,
                        transfer.reason.strip()),
                    transfer)
                out = Ledger.household_line(source, -transfer.points)
                out.description = "转出至 %s" % destination.rec_name
                in_ = Ledger.household_line(destination, transfer.points)
                in_.description = "转入自 %s" % source.rec_name
                move.lines = [out, in_]
                moves.append(move)
            Move.save(moves)
            Move.post(moves)
            for transfer, move in zip(transfers, moves):
                transfer.move = move
            cls.save(transfers)


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['huinong.points.transfer']


class Ledger(metaclass=PoolMeta):
    __name__ = 'huinong.points.ledger'

    @classmethod
    def is_points_credit(cls, move):
        """Whether the move credits points to households from the points
        expense (a sheet or Ledger.credit)"""
        config = cls.config()
        return (move.journal == config.points_journal
            and any(l.account == config.points_expense_account and l.debit
                for l in move.lines))

    @classmethod
    def corrected_points(cls, line):
        """Return the points already taken back from the household of the
        credit line by corrections (or a reversal) of its move"""
        pool = Pool()
        Line = pool.get('account.move.line')
        config = cls.config()
        lines = Line.search([
                ('move.origin', '=', str(line.move)),
                ('move.journal', '=', config.points_journal.id),
                ('account', '=', config.points_account.id),
                ('party', '=', line.party.id),
                ])
        return sum((l.debit - l.credit for l in lines), Decimal(0))

    @classmethod
    def correct(cls, line, points, reason, date=None, post=True):
        """Take back points of one household's credit line: a move Dr
        household points / Cr points expense whose origin is the credited
        move. Return the move."""
        pool = Pool()
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Party = pool.get('party.party')
        Date = pool.get('ir.date')
        config = cls.config()
        if not reason or not reason.strip():
            raise LedgerError(gettext(
                    'huinong_points.msg_ledger_reason_required'))
        if (line.account != config.points_account
                or not line.credit
                or not cls.is_points_credit(line.move)):
            raise LedgerError(gettext(
                    'huinong_points.msg_correct_not_credit',
                    line=line.rec_name))
        household = line.party
        points = cls._check_points(household, points)
        cls.lock_households([household])
        remaining = line.credit - cls.corrected_points(line)
        if remaining <= 0:
            raise LedgerError(gettext(
                    'huinong_points.msg_correct_done',
                    household=household.rec_name,
                    move=line.move.rec_name))
        if points > remaining:
            raise LedgerError(gettext(
                    'huinong_points.msg_correct_too_much',
                    household=household.rec_name,
                    move=line.move.rec_name,
                    points=points, remaining=remaining))
        balance = Party.get_huinong_points_balance(
            [household], 'huinong_points_balance')[household.id]
        if balance < points:
            raise LedgerError(gettext(
                    'huinong_points.msg_correct_balance',
                    household=household.rec_name,
                    balance=balance, points=points))
        if date is None:
            with Transaction().set_context(
                    company=config.points_company.id):
                date = Date.today()
        original = line.move
        move = cls._move(
            date,
            "更正 %s %s: %s" % (
                original.number or original.id, household.rec_name,
                reason.strip()),
            original)
        move.lines = [
            cls.household_line(household, -points),
            MoveLine(
                account=config.points_expense_account,
                credit=points, debit=Decimal(0)),
            ]
        move.save()
        if post:
            Move.post([move])
        return move


class CorrectStart(ModelView):
    "Correct Points Credit"
    __name__ = 'huinong.points.correct.start'

    household = fields.Many2One(
        'party.party', "Household", required=True,
        domain=[('huinong_household', '=', True)])
    points_account = fields.Many2One(
        'account.account', "Household Points Account", readonly=True)
    line = fields.Many2One(
        'account.move.line', "Credit", required=True,
        domain=[
            ('account', '=', Eval('points_account', -1)),
            ('party', '=', Eval('household', -1)),
            ('credit', '>', 0),
            ],
        help="The credit of the household to correct.")
    credited = fields.Numeric("Credited", digits=(16, 0), readonly=True)
    corrected = fields.Numeric(
        "Already Taken Back", digits=(16, 0), readonly=True)
    points = fields.Numeric(
        "Points to Take Back", digits=(16, 0), required=True,
        domain=[
            ('points', '>', 0),
            ])
    reason = fields.Text("Reason", required=True,
        help="Why the points are taken back; kept in the correcting move.")

    @fields.depends('household', 'line')
    def on_change_household(self):
        if self.line and self.line.party != self.household:
            self.line = None
            self.credited = self.corrected = self.points = None

    @fields.depends('line', methods=['_line_values'])
    def on_change_line(self):
        for name, value in self._line_values().items():
            setattr(self, name, value)

    @fields.depends('line')
    def _line_values(self):
        Ledger = Pool().get('huinong.points.ledger')
        if not self.line:
            return {'credited': None, 'corrected': None, 'points': None}
        with without_check_access():
            corrected = Ledger.corrected_points(self.line)
        return {
            'credited': self.line.credit,
            'corrected': corrected,
            'points': max(self.line.credit - corrected, Decimal(0)),
            }


class Correct(Wizard):
    "Correct Points Credit"
    __name__ = 'huinong.points.correct'

    start = StateView('huinong.points.correct.start',
        'huinong_points.correct_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Take Back", 'correct', 'tryton-ok', default=True),
            ])
    correct = StateTransition()

    def default_start(self, fields):
        Ledger = Pool().get('huinong.points.ledger')
        config = Ledger.config()
        values = {'points_account': config.points_account.id}
        Start = Pool().get('huinong.points.correct.start')
        record = self.record
        if self.model and self.model.__name__ == 'party.party' and record:
            values['household'] = record.id
        elif (self.model and self.model.__name__ == 'account.move.line'
                and record):
            if record.party:
                values['household'] = record.party.id
            if record.account == config.points_account and record.credit:
                values['line'] = record.id
                values.update(Start(line=record)._line_values())
        return values

    def transition_correct(self):
        Ledger = Pool().get('huinong.points.ledger')
        if self.start.line.party != self.start.household:
            raise LedgerError(gettext(
                    'huinong_points.msg_correct_not_credit',
                    line=self.start.line.rec_name))
        # Granted to the county office by the action's groups: the office
        # reads moves but writes them only through the ledger.
        with without_check_access():
            Ledger.correct(
                self.start.line, self.start.points, self.start.reason)
        return 'end'
