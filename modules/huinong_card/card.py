# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

from sql.operators import Equal
from stdnum import luhn

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Exclude, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.huinong.approval import (
    ApprovalMixin, ApprovalStep, approval_at_field, approval_by_field,
    approval_step)
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.tools import record_gettext
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, Id
from trytond.rpc import RPC
from trytond.transaction import (
    Transaction, check_access, without_check_access)

from .exceptions import CardError, PINError
from .pin import check_new_pin

ACTIVE_STATES = [
    'draft', 'applied', 'village_reviewed', 'committee_reviewed',
    'township_reviewed', 'issued', 'locked', 'lost']
IN_REVIEW = ['applied', 'village_reviewed', 'committee_reviewed',
    'township_reviewed']


class Card(ApprovalMixin, ModelSQL, ModelView):
    "Points Card"
    __name__ = 'huinong.card'
    _history = True

    number = fields.Char(
        "Number", readonly=True,
        help="Assigned when the card is issued; the last digit is a Luhn "
        "check digit.")
    household = fields.Many2One(
        'party.party', "Household", required=True, ondelete='RESTRICT',
        domain=[('huinong_household', '=', True)],
        states={
            'readonly': Eval('state') != 'draft',
            })
    head = fields.Function(
        fields.Char("Head of Household"), 'on_change_with_head')
    photo = fields.Function(
        fields.Binary("ID Photo"), 'on_change_with_photo')
    village = fields.Function(fields.Many2One(
            'huinong.area', "Village"),
        'on_change_with_village', searcher='search_village')
    township = fields.Function(fields.Many2One(
            'huinong.area', "Township"),
        'on_change_with_township', searcher='search_township')
    issuing_township = fields.Many2One(
        'huinong.area', "Issuing Township", readonly=True,
        domain=[('type', '=', 'township')])
    state = fields.Selection([
            ('draft', "Draft"),
            ('applied', "Applied"),
            ('village_reviewed', "Reviewed by Evaluation Group"),
            ('committee_reviewed', "Reviewed by Village Committee"),
            ('township_reviewed', "Reviewed by Township Office"),
            ('issued', "Issued"),
            ('locked', "Locked"),
            ('lost', "Lost"),
            ('replaced', "Replaced"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    issue_date = fields.Date("Issue Date", readonly=True)
    applied_by = approval_by_field("Application Recorded By")
    applied_at = approval_at_field("Application Recorded At")
    village_reviewed_by = approval_by_field("Evaluation Group Reviewer")
    village_reviewed_at = approval_at_field("Evaluation Group Reviewed At")
    committee_reviewed_by = approval_by_field("Village Committee Reviewer")
    committee_reviewed_at = approval_at_field("Village Committee Reviewed At")
    township_reviewed_by = approval_by_field("Township Office Reviewer")
    township_reviewed_at = approval_at_field("Township Office Reviewed At")
    issued_by = approval_by_field("Issued By")
    issued_at = approval_at_field("Issued At")

    entitlements = fields.Function(
        fields.Text("Remaining Counts"), 'get_entitlements')
    pin_hash = fields.Char("PIN Hash", readonly=True, strip=False)
    pin_set = fields.Function(
        fields.Boolean("PIN Set"), 'get_pin_set')
    pin_failures = fields.Integer(
        "Consecutive PIN Failures", readonly=True)
    lock_reason = fields.Text(
        "Lock Reason", readonly=True,
        states={
            'invisible': ~Eval('lock_reason'),
            })
    lost_at = fields.DateTime(
        "Reported Lost At", readonly=True,
        states={
            'invisible': ~Eval('lost_at'),
            })
    replaces = fields.Many2One(
        'huinong.card', "Replaces", readonly=True,
        states={
            'invisible': ~Eval('replaces'),
            })
    replaced_by = fields.Many2One(
        'huinong.card', "Replaced By", readonly=True,
        states={
            'invisible': ~Eval('replaced_by'),
            })

    _approval_steps = {
        'apply': ApprovalStep(
            ['huinong.group_township_office',
                'huinong.group_village_committee'],
            'village', 'applied_by', 'applied_at'),
        'village_review': ApprovalStep(
            ['huinong.group_evaluation'],
            'village', 'village_reviewed_by', 'village_reviewed_at'),
        'committee_review': ApprovalStep(
            ['huinong.group_village_committee'],
            'village', 'committee_reviewed_by', 'committee_reviewed_at'),
        'township_review': ApprovalStep(
            ['huinong.group_township_office'],
            'township', 'township_reviewed_by', 'township_reviewed_at'),
        'issue': ApprovalStep(
            ['huinong.group_township_government'],
            'township', 'issued_by', 'issued_at'),
        }
    _approval_first = 'apply'
    _approval_next = {
        'applied': 'village_review',
        'village_reviewed': 'committee_review',
        'committee_reviewed': 'township_review',
        'township_reviewed': 'issue',
        }

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.number),
                'huinong_card.msg_card_number_unique'),
            # At most one card of a household that is not replaced or
            # cancelled: a partial unique index
            ('household_active_unique',
                Exclude(t, (t.household, Equal),
                    where=t.state.in_(ACTIVE_STATES)),
                'huinong_card.msg_card_household_unique'),
            ]
        cls._order = [
            ('number', 'ASC NULLS FIRST'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('draft', 'applied'),
            ('applied', 'village_reviewed'),
            ('village_reviewed', 'committee_reviewed'),
            ('committee_reviewed', 'township_reviewed'),
            ('township_reviewed', 'issued'),
            ('applied', 'draft'),
            ('village_reviewed', 'draft'),
            ('committee_reviewed', 'draft'),
            ('township_reviewed', 'draft'),
            ('issued', 'locked'),
            ('locked', 'issued'),
            ('issued', 'lost'),
            ('locked', 'lost'),
            ('issued', 'replaced'),
            ('locked', 'replaced'),
            ('lost', 'replaced'),
            ('draft', 'cancelled'),
            ('applied', 'cancelled'),
            ('village_reviewed', 'cancelled'),
            ('committee_reviewed', 'cancelled'),
            ('township_reviewed', 'cancelled'),
            ('issued', 'cancelled'),
            ('locked', 'cancelled'),
            ('lost', 'cancelled'),
            }
        cls._buttons.update({
                'apply': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'village_review': {
                    'invisible': Eval('state') != 'applied',
                    'depends': ['state'],
                    },
                'committee_review': {
                    'invisible': Eval('state') != 'village_reviewed',
                    'depends': ['state'],
                    },
                'township_review': {
                    'invisible': Eval('state') != 'committee_reviewed',
                    'depends': ['state'],
                    },
                'issue_wizard': {
                    'invisible': Eval('state') != 'township_reviewed',
                    'depends': ['state'],
                    },
                'return_wizard': {
                    'invisible': ~Eval('state').in_(IN_REVIEW),
                    'depends': ['state'],
                    },
                'lock_wizard': {
                    'invisible': Eval('state') != 'issued',
                    'depends': ['state'],
                    },
                'unlock_wizard': {
                    'invisible': Eval('state') != 'locked',
                    'depends': ['state'],
                    },
                'report_lost': {
                    'invisible': ~Eval('state').in_(['issued', 'locked']),
                    'depends': ['state'],
                    },
                'replace': {
                    'invisible': ~Eval('state').in_(
                        ['issued', 'locked', 'lost']),
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state').in_(['replaced', 'cancelled']),
                    'depends': ['state'],
                    },
                'change_pin_wizard': {
                    'invisible': Eval('state') != 'issued',
                    'depends': ['state'],
                    },
                'reset_pin_wizard': {
                    'invisible': ~Eval('state').in_(['issued', 'locked']),
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'check_pin_rpc': RPC(readonly=False, instantiate=0),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_pin_failures(cls):
        return 0

    def get_rec_name(self, name):
        if self.number:
            return '%s (%s)' % (self.number, self.household.rec_name)
        return self.household.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('number', operator, operand, *extra),
            ('household.rec_name', operator, operand, *extra),
            ]

    @fields.depends('household')
    def on_change_with_head(self, name=None):
        if self.household:
            return self.household.name

    @fields.depends('household')
    def on_change_with_photo(self, name=None):
        if self.household:
            return self.household.huinong_photo

    @fields.depends('household')
    def on_change_with_village(self, name=None):
        if self.household:
            return self.household.huinong_village

    @fields.depends('household')
    def on_change_with_township(self, name=None):
        if self.household:
            return self.household.huinong_township

    @classmethod
    def search_village(cls, name, clause):
        nested = clause[0][len(name):]
        return [('household.huinong_village' + nested, *clause[1:])]

    @classmethod
    def search_township(cls, name, clause):
        nested = clause[0][len(name):]
        return [('household.huinong_village.parent' + nested, *clause[1:])]

    @classmethod
    def read(cls, ids, fields_names):
        # The PIN hash never leaves the server, as res.user's password hash
        result = super().read(ids, fields_names)
        cache = Transaction().get_cache().get(cls.__name__)
        for values in result:
            if 'pin_hash' in values:
                values['pin_hash'] = None
            if cache and values['id'] in cache:
                cache[values['id']]['pin_hash'] = None
        return result

    @classmethod
    def _pin_hashes(cls, cards):
        "Read the PIN hashes in SQL, bypassing read()"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id, table.pin_hash,
                where=fields.SQL_OPERATORS['in'](
                    table.id, [c.id for c in cards])))
        return dict(cursor)

    def get_pin_set(self, name):
        return bool(self._pin_hashes([self]).get(self.id))

    @classmethod
    def get_entitlements(cls, cards, name):
        "The remaining counted entitlements of the household, as text"
        pool = Pool()
        Grant = pool.get('huinong.entitlement.grant')
        Type = pool.get('huinong.entitlement.type')
        counts = Grant.get_remaining_counts(
            list({c.household.id for c in cards}))
        types = {t.id: t for t in Type.browse(
                list({t for c in counts.values() for t in c}))}
        result = {}
        for card in cards:
            result[card.id] = '\n'.join(
                '%s: %s %s' % (types[t].name, n, types[t].unit)
                for t, n in sorted(counts[card.household.id].items()))
        return result

    def get_approval_area(self, scope):
        if scope == 'village':
            return self.household.huinong_village
        return self.household.huinong_township

    @classmethod
    def copy(cls, cards, default=None):
        default = default.copy() if default is not None else {}
        for field in ['number', 'issue_date', 'issuing_township', 'pin_hash',
                'lock_reason', 'lost_at', 'replaces', 'replaced_by']:
            default.setdefault(field)
        default.setdefault('pin_failures', 0)
        return super().copy(cards, default=default)

    @classmethod
    def _approval_protected_fields(cls):
        return super()._approval_protected_fields() | {
            'number', 'issue_date', 'issuing_township', 'pin_hash',
            'pin_failures', 'lock_reason', 'lost_at', 'replaces',
            'replaced_by'}

    @classmethod
    def check_modification(cls, mode, cards, values=None, external=False):
        super().check_modification(
            mode, cards, values=values, external=external)
        if mode == 'write' and external and values:
            for card in cards:
                if card.state != 'draft':
                    raise AccessError(gettext(
                            'huinong_card.msg_card_write_draft',
                            card=card.rec_name))
        if mode == 'delete':
            for card in cards:
                if card.state != 'draft':
                    raise CardError(gettext(
                            'huinong_card.msg_card_delete_draft',
                            card=card.rec_name))

    # Issuance: the approval chain

    @classmethod
    @ModelView.button
    @Workflow.transition('applied')
    @approval_step('apply')
    def apply(cls, cards):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('village_reviewed')
    @approval_step('village_review')
    def village_review(cls, cards):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('committee_reviewed')
    @approval_step('committee_review')
    def committee_review(cls, cards):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('township_reviewed')
    @approval_step('township_review')
    def township_review(cls, cards):
        pass

    @classmethod
    @ModelView.button_action('huinong_card.wizard_issue')
    def issue_wizard(cls, cards):
        pass

    @classmethod
    @Workflow.transition('issued')
    @approval_step('issue')
    def issue(cls, cards, pin, confirm):
        "Issue the cards with the PIN the household chose"
        pool = Pool()
        Date = pool.get('ir.date')
        User = pool.get('res.user')
        SMS = pool.get('huinong.sms')
        today = Date.today()
        for card in cards:
            household = card.household
            check_new_pin(pin, confirm,
                resident_id=household.huinong_resident_id,
                birth_date=household.huinong_birth_date)
        # One hash per call: the wizard issues one card at a time, batch
        # issuance (demo data) would otherwise spend ~80 ms a card
        pin_hash = User.hash_password(pin) if cards else None
        for card in cards:
            township = card.household.huinong_township
            card.number = township.next_card_number()
            card.issuing_township = township
            card.issue_date = today
            card.pin_hash = pin_hash
            card.pin_failures = 0
        cls.save(cards)
        SMS.queue([c._sms('huinong_card.msg_sms_issued') for c in cards
                if c.household.huinong_mobile])

    @classmethod
    @ModelView.button_action('huinong.wizard_approval_return')
    def return_wizard(cls, cards):
        pass

    @classmethod
    @Workflow.transition('draft')
    def return_(cls, cards):
        pass

    # Life cycle after issue

    @classmethod
    @ModelView.button_action('huinong_card.wizard_lock')
    def lock_wizard(cls, cards):
        pass

    @classmethod
    @Workflow.transition('locked')
    def lock_card(cls, cards, reason):
        cls._check_reason(reason)
        cls.write(cards, {'lock_reason': reason})
        cls.record_approval(cards, 'lock', action='event', reason=reason)

    @classmethod
    @ModelView.button_action('huinong_card.wizard_unlock')
    def unlock_wizard(cls, cards):
        pass

    @classmethod
    @Workflow.transition('issued')
    def unlock(cls, cards, reason):
        cls._check_reason(reason)
        cls.write(cards, {'lock_reason': None, 'pin_failures': 0})
        cls.record_approval(cards, 'unlock', action='event', reason=reason)

    @classmethod
    @ModelView.button
    @Workflow.transition('lost')
    def report_lost(cls, cards):
        "Takes effect at once: no PIN check passes on a lost card"
        pool = Pool()
        SMS = pool.get('huinong.sms')
        cls.write(cards, {'lost_at': dt.datetime.now()})
        cls.record_approval(cards, 'report_lost', action='event')
        SMS.queue([c._sms('huinong_card.msg_sms_lost') for c in cards
                if c.household.huinong_mobile])

    @classmethod
    @ModelView.button
    @Workflow.transition('replaced')
    def replace(cls, cards):
        """Issue a new card with a new number to the household; the PIN
        stays the household's. Nothing else moves: balances belong to the
        household."""
        pool = Pool()
        Date = pool.get('ir.date')
        SMS = pool.get('huinong.sms')
        today = Date.today()
        hashes = cls._pin_hashes(cards)
        # The old card leaves the active states first (unique index)
        cls.write(cards, {'state': 'replaced'})
        new_cards = []
        for card in cards:
            township = card.household.huinong_township
            new_cards.append(cls(
                    household=card.household,
                    state='issued',
                    number=township.next_card_number(),
                    issuing_township=township,
                    issue_date=today,
                    pin_hash=hashes.get(card.id),
                    pin_failures=0,
                    replaces=card,
                    issued_by=Transaction().user or None,
                    issued_at=dt.datetime.now(),
                    ))
        cls.save(new_cards)
        for card, new in zip(cards, new_cards):
            card.replaced_by = new
        cls.save(cards)
        cls.record_approval(cards, 'replace', action='event')
        SMS.queue([c._sms('huinong_card.msg_sms_issued') for c in new_cards
                if c.household.huinong_mobile])

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, cards):
        cls.record_approval(cards, 'cancel', action='event')

    @classmethod
    def _check_reason(cls, reason):
        if not reason or not reason.strip():
            raise CardError(gettext('huinong_card.msg_card_reason_required'))

    # PIN

    @classmethod
    @ModelView.button_action('huinong_card.wizard_change_pin')
    def change_pin_wizard(cls, cards):
        pass

    @classmethod
    @ModelView.button_action('huinong_card.wizard_reset_pin')
    def reset_pin_wizard(cls, cards):
        pass

    def change_pin(self, old, pin, confirm):
        "The household changes its PIN: the old one is checked first"
        self.check_pin(old)
        self._set_pin(pin, confirm)

    def reset_pin(self, pin, confirm, reason):
        "The township office sets a new PIN for a household that forgot it"
        pool = Pool()
        SMS = pool.get('huinong.sms')
        self._check_reason(reason)
        self._set_pin(pin, confirm)
        self.record_approval([self], 'reset_pin', action='event',
            reason=reason)
        if self.household.huinong_mobile:
            SMS.queue([self._sms('huinong_card.msg_sms_pin_reset')])

    def _set_pin(self, pin, confirm):
        pool = Pool()
        User = pool.get('res.user')
        household = self.household
        check_new_pin(pin, confirm,
            resident_id=household.huinong_resident_id,
            birth_date=household.huinong_birth_date)
        with without_check_access():
            self.__class__.write([self], {
                    'pin_hash': User.hash_password(pin),
                    'pin_failures': 0,
                    })

    def check_pin(self, pin):
        """Check the PIN typed at the counter.

        Every failure is counted in a transaction of its own, so it stays
        counted when the request that made it is refused and rolled back;
        after the configured number of consecutive failures the card is
        locked and the household is told by SMS. A success resets the count.
        Call it before locking the card's row in the calling transaction.
        """
        pool = Pool()
        User = pool.get('res.user')
        if self.state != 'issued':
            raise PINError(gettext(
                    'huinong_card.msg_card_not_usable_%s' % (
                        self.state if self.state in {
                            'locked', 'lost', 'replaced', 'cancelled'}
                        else 'not_issued'),
                    card=self.number or self.household.rec_name))
        self._check_user_failures()
        hash_ = self._pin_hashes([self]).get(self.id)
        valid = False
        if hash_ and pin:
            valid, _ = User.check_password(str(pin), hash_)
        if valid:
            if self.pin_failures:
                with without_check_access():
                    self.__class__.write([self], {'pin_failures': 0})
            return True
        failures, locked = self._count_pin_failure()
        if locked:
            raise PINError(gettext(
                    'huinong_card.msg_pin_wrong_locked',
                    card=self.number, failures=failures))
        raise PINError(gettext(
                'huinong_card.msg_pin_wrong',
                card=self.number,
                left=self._pin_limit() - failures))

    # Who may check a PIN over RPC (the counter of the redemption module)
    _check_pin_groups = [
        'huinong.group_clerk', 'huinong.group_township_office']

    @classmethod
    def check_pin_rpc(cls, cards, pin):
        """Check the PIN of one card for a client (the counter): True, or a
        translated error. Failures are counted as in check_pin."""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        if Transaction().user:
            allowed = {ModelData.get_id(*g.split('.'))
                for g in cls._check_pin_groups}
            if not allowed & set(User.get_groups()):
                raise AccessError(gettext(
                        'huinong_card.msg_check_pin_group'))
        card, = cards
        if Transaction().user:
            # only a card the user may read (for a clerk: of the store's
            # township), asked through the record rules before the PIN is
            # looked at: a failure is counted and locks the card
            with check_access():
                readable = cls.search([('id', '=', card.id)])
            if not readable:
                raise AccessError(gettext(
                        'huinong_card.msg_check_pin_card'))
        return card.check_pin(pin)

    @classmethod
    def _check_user_failures(cls):
        """Refuse every PIN check of a user who typed too many wrong PINs
        in 24 hours, over all cards (nothing is counted on the card)"""
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        Failure = pool.get('huinong.card.pin_failure')
        user_id = Transaction().user
        if not user_id:
            return
        limit = Configuration(1).get_card_pin_user_max_failures()
        count = Failure.recent(user_id)
        if count >= limit:
            raise PINError(gettext(
                    'huinong_card.msg_pin_user_limit', count=count))

    @classmethod
    def _pin_limit(cls):
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        return Configuration(1).get_card_pin_max_failures()

    def _count_pin_failure(self):
        """Count a failure so that it stays counted when the request that
        made it is refused and rolled back; return (failures, locked).

        PostgreSQL: in a transaction of its own, which locks the card's row
        from its start.  SQLite has one connection a database, so a
        transaction of its own would commit the request's work with it:
        the failure is counted in the request (which holds the database's
        only write lock, so the count is exact) and written again once the
        request ends, in a new transaction, when the request's rollback
        took it back."""
        limit = self._pin_limit()
        transaction = Transaction()
        if backend.name == 'sqlite':
            with without_check_access():
                failures, locked = self._record_pin_failure(
                    self.id, limit)
            transaction.atexit(self._replay_pin_failure,
                transaction.database.name, transaction.user, self.id,
                failures, limit)
            return failures, locked
        with transaction.new_transaction(
                _lock_records={self._table: [self.id]}) as side, \
                without_check_access():
            result = Pool().get(self.__name__)._record_pin_failure(
                self.id, limit)
            side.commit()
        return result

    @classmethod
    def _record_pin_failure(cls, card_id, limit, failures=None):
        """Write one more failure (or `failures`) on the card, lock it and
        tell the household at the limit; return (failures, locked)"""
        pool = Pool()
        SMS = pool.get('huinong.sms')
        Failure = pool.get('huinong.card.pin_failure')
        card = cls(card_id)
        if failures is None:
            failures = (card.pin_failures or 0) + 1
        if Transaction().user:
            Failure.create([{
                        'user': Transaction().user,
                        'card': card_id,
                        'at': dt.datetime.now(),
                        }])
        values = {'pin_failures': failures}
        locked = failures >= limit and card.state == 'issued'
        if locked:
            values['state'] = 'locked'
            values['lock_reason'] = record_gettext(
                'huinong_card.msg_lock_reason_pin', failures=failures)
        cls.write([card], values)
        if locked:
            cls.record_approval([card], 'lock', action='event',
                reason=values['lock_reason'])
            if card.household.huinong_mobile:
                SMS.queue([card._sms('huinong_card.msg_sms_locked')])
        return failures, locked

    @classmethod
    def _replay_pin_failure(
            cls, database_name, user_id, card_id, failures, limit):
        "After a SQLite request: the failures its rollback took back"
        with Transaction(new=True).start(
                database_name, user_id, context={}), \
                without_check_access():
            Card = Pool().get(cls.__name__)
            cards = Card.search([('id', '=', card_id)])
            # gone with the rollback (a card made by the request), or
            # counted already (the request was committed)
            if cards and (cards[0].pin_failures or 0) < failures:
                Card._record_pin_failure(card_id, limit, failures=failures)

    def _sms(self, message_id):
        "The text message to the household, in its language (Chinese)"
        household = self.household
        language = household.lang.code if household.lang else 'zh_CN'
        return {
            'phone': household.huinong_mobile,
            'text': gettext(message_id, language,
                number=self.number[-4:] if self.number else '',
                head=household.name),
            'origin': str(self),
            }

    @classmethod
    def active_card(cls, households):
        "Return the issued card of each household by id"
        cards = cls.search([
                ('household', 'in', [h.id for h in households]),
                ('state', '=', 'issued'),
                ])
        return {c.household.id: c for c in cards}


class Area(metaclass=PoolMeta):
    __name__ = 'huinong.area'

    card_sequence = fields.Many2One(
        'ir.sequence', "Card Sequence", readonly=True,
        domain=[
            ('sequence_type', '=', Id('huinong_card', 'sequence_type_card')),
            ],
        states={
            'invisible': Eval('type') != 'township',
            },
        help="Numbers the cards the township issues.")

    def next_card_number(self):
        """Return a new card number: the township code, a serial of six
        digits from the township's sequence and a Luhn check digit"""
        sequence = self.get_card_sequence()
        serial = sequence.get()
        number = '%s%s' % (self.code, serial)
        return number + luhn.calc_check_digit(number)

    def get_card_sequence(self):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        if self.card_sequence:
            return self.card_sequence
        with without_check_access():
            self.__class__.lock([self])
            area = self.__class__(self.id)
            if area.card_sequence:
                return area.card_sequence
            sequence = Sequence(
                name=gettext('huinong_card.msg_card_sequence_name',
                    township=area.name),
                sequence_type=ModelData.get_id(
                    'huinong_card', 'sequence_type_card'),
                padding=6,
                )
            sequence.save()
            self.__class__.write([area], {'card_sequence': sequence.id})
            self.card_sequence = sequence
            return sequence


class SMS(metaclass=PoolMeta):
    __name__ = 'huinong.sms'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['huinong.card']


class Configuration(metaclass=PoolMeta):
    __name__ = 'huinong.configuration'

    card_pin_max_failures = fields.Integer(
        "PIN Failures before Lock",
        domain=['OR',
            ('card_pin_max_failures', '=', None),
            ('card_pin_max_failures', '>', 0),
            ],
        help="The card is locked after this number of consecutive wrong "
        "PINs. Empty means 5.")

    card_pin_user_max_failures = fields.Integer(
        "PIN Failures a User per Day",
        domain=['OR',
            ('card_pin_user_max_failures', '=', None),
            ('card_pin_user_max_failures', '>', 0),
            ],
        help="Wrong PINs a user (a counter) may enter over all cards in 24 "
        "hours; then every PIN check of that user is refused until the "
        "oldest of them is 24 hours old. Empty means 10.")

    @classmethod
    def default_card_pin_max_failures(cls):
        return 5

    def get_card_pin_max_failures(self):
        return (self.card_pin_max_failures
            or self.default_card_pin_max_failures())

    @classmethod
    def default_card_pin_user_max_failures(cls):
        return 10

    def get_card_pin_user_max_failures(self):
        return (self.card_pin_user_max_failures
            or self.default_card_pin_user_max_failures())


class PINFailure(ModelSQL, ModelView):
    "PIN Failure"
    __string__ = "PIN Failure"
    # A wrong PIN, who typed it and when: a user trying many cards' PINs is
    # an attack, not a forgetful villager (a card's own count resets)
    __name__ = 'huinong.card.pin_failure'

    user = fields.Many2One(
        'res.user', "User", required=True, readonly=True, ondelete='CASCADE')
    card = fields.Many2One(
        'huinong.card', "Card", required=True, readonly=True,
        ondelete='CASCADE')
    at = fields.DateTime("At", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def recent(cls, user_id):
        "The user's wrong PINs of the last 24 hours"
        since = dt.datetime.now() - dt.timedelta(hours=24)
        with without_check_access():
            return cls.search_count([
                    ('user', '=', user_id),
                    ('at', '>=', since),
                    ])

