# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Counted entitlements (计次): a card holds points and counts.

The county office defines entitlement types (a haircut, a bag of rice a
month…). Households receive grants, by hand from the township office or
every month by a rule per household class; each grant has a quantity and a
validity period. Uses are recorded against the grants, oldest first. Grants
and uses are an append-only ledger: a wrong use is reversed by a correcting
use of the opposite quantity."""
from dateutil.relativedelta import relativedelta
from sql import Null
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.fields import WholeNumber
from trytond.modules.huinong.model import EditGroupsMixin
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import CardError


class EntitlementType(DeactivableMixin, ModelSQL, ModelView):
    "Entitlement Type"
    __name__ = 'huinong.entitlement.type'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    unit = fields.Char("Unit", required=True,
        help="What one count is, e.g. 次 or 袋.")
    description = fields.Text("Description")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'huinong_card.msg_entitlement_type_code_unique'),
            ]


class _AppendOnly:
    "Records of a ledger: created, never changed nor deleted"
    __slots__ = ()

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise AccessError(gettext(
                    'huinong_card.msg_entitlement_append_only'))


class EntitlementRule(DeactivableMixin, ModelSQL, ModelView):
    "Entitlement Rule"
    __name__ = 'huinong.entitlement.rule'

    type = fields.Many2One(
        'huinong.entitlement.type', "Type", required=True,
        ondelete='RESTRICT')
    classification = fields.Selection([
            (None, "All Households"),
            ('poor', "Registered Poor Households"),
            ('ordinary', "Ordinary Households"),
            ], "Households",
        help="The class of the households that receive the grant each "
        "month, on the first day of the month.")
    quantity = WholeNumber("Quantity per Month", required=True,
        domain=[('quantity', '>', 0)])
    months = fields.Integer("Valid for Months", required=True,
        domain=[('months', '>', 0)],
        help="How many months a monthly grant can be used.")

    @classmethod
    def default_months(cls):
        return 1

    def get_rec_name(self, name):
        return '%s × %s' % (self.type.rec_name, self.quantity)

    @classmethod
    def grant_monthly(cls, date=None):
        """Give the grants of every active rule for the month of the date
        (today by default). Running it twice gives nothing more."""
        pool = Pool()
        Grant = pool.get('huinong.entitlement.grant')
        Party = pool.get('party.party')
        Class = pool.get('huinong.household.class')
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        start = date.replace(day=1)
        rules = cls.search([])
        households = Party.search([('huinong_household', '=', True)])
        classes = Class.get_classification(
            [h.id for h in households], start)
        existing = set()
        for sub in grouped_slice(rules, backend.MAX_QUERY_PARAMS):
            for grant in Grant.search([
                        ('rule', 'in', [r.id for r in sub]),
                        ('start_date', '=', start),
                        ]):
                existing.add((grant.rule.id, grant.household.id))
        to_create = []
        for rule in rules:
            end = start + relativedelta(months=rule.months, days=-1)
            for household in households:
                if (rule.id, household.id) in existing:
                    continue
                klass = classes.get(household.id)
                if not klass:
                    continue
                if rule.classification and rule.classification != klass:
                    continue
                to_create.append({
                        'household': household.id,
                        'type': rule.type.id,
                        'quantity': rule.quantity,
                        'start_date': start,
                        'end_date': end,
                        'rule': rule.id,
                        })
        return Grant.create(to_create)

    @classmethod
    def cron_grant_monthly(cls):
        cls.grant_monthly()


class EntitlementGrant(
        EditGroupsMixin, _AppendOnly, ModelSQL, ModelView):
    "Entitlement Grant"
    __name__ = 'huinong.entitlement.grant'
    # goods for a household: granted by the offices only, whatever the
    # household's access gives (EditGroupsMixin)
    _edit_groups = [
        'huinong.group_county_office', 'huinong.group_township_office']
    _edit_groups_message = 'huinong_card.msg_entitlement_grant_editor'

    household = fields.Many2One(
        'party.party', "Household", required=True, ondelete='RESTRICT',
        domain=[('huinong_household', '=', True)])
    type = fields.Many2One(
        'huinong.entitlement.type', "Type", required=True,
        ondelete='RESTRICT')
    quantity = WholeNumber("Quantity", required=True,
        domain=[('quantity', '>', 0)])
    start_date = fields.Date("Valid From", required=True,
        domain=[
            If(Eval('end_date'),
                ('start_date', '<=', Eval('end_date')),
                ()),
            ])
    end_date = fields.Date("Valid Until",
        domain=[
            If(Eval('end_date') & Eval('start_date'),
                ('end_date', '>=', Eval('start_date')),
                ()),
            ])
    rule = fields.Many2One(
        'huinong.entitlement.rule', "Rule", readonly=True,
        ondelete='RESTRICT')
    reason = fields.Char("Reason")
    uses = fields.One2Many(
        'huinong.entitlement.use', 'grant', "Uses", readonly=True)
    remaining = fields.Function(
        fields.Integer("Remaining"), 'get_remaining')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('rule_household_start_unique',
                Unique(t, t.rule, t.household, t.start_date),
                'huinong_card.msg_entitlement_grant_rule_unique'),
            ]
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls.__access__.add('household')

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def get_remaining(cls, grants, name):
        pool = Pool()
        Use = pool.get('huinong.entitlement.use')
        use = Use.__table__()
        cursor = Transaction().connection.cursor()
        result = {g.id: g.quantity for g in grants}
        for sub in grouped_slice(grants, backend.MAX_QUERY_PARAMS):
            cursor.execute(*use.select(use.grant, Sum(use.quantity),
                    where=use.grant.in_([g.id for g in sub]),
                    group_by=[use.grant]))
            for grant_id, used in cursor:
                result[grant_id] -= used or 0
        return result

    @classmethod
    def remaining_query(cls, date):
        """Return a query of (household, type, remaining) at the date:
        the grants valid that day less their uses up to that day"""
        pool = Pool()
        Use = pool.get('huinong.entitlement.use')
        grant = cls.__table__()
        use = Use.__table__()
        used = use.select(
            use.grant.as_('grant'),
            Sum(use.quantity).as_('quantity'),
            where=use.date <= date,
            group_by=[use.grant])
        return grant.join(used, 'LEFT',
            condition=used.grant == grant.id
            ).select(
                grant.household.as_('household'),
                grant.type.as_('type'),
                Sum(grant.quantity - Coalesce(used.quantity, 0)).as_(
                    'remaining'),
                where=(grant.start_date <= date)
                & ((grant.end_date == Null) | (grant.end_date >= date)),
                group_by=[grant.household, grant.type])

    @classmethod
    def get_remaining_counts(cls, household_ids, date=None):
        """Return {household id: {type id: remaining count}} at the date
        (today by default) for many households, one query per chunk"""
        if date is None:
            date = Pool().get('ir.date').today()
        query = cls.remaining_query(date)
        cursor = Transaction().connection.cursor()
        result = {h: {} for h in household_ids}
        for sub in grouped_slice(household_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*query.select(
                    query.household, query.type, query.remaining,
                    where=query.household.in_(list(sub))))
            for household, type_, remaining in cursor:
                if remaining:
                    result[household][type_] = int(remaining)
        return result


class EntitlementUse(EditGroupsMixin, _AppendOnly, ModelSQL, ModelView):
    "Entitlement Use"
    __name__ = 'huinong.entitlement.use'
    # written by the counter and its cancellation only, never by a user
    _edit_groups = []
    _edit_groups_message = 'huinong_card.msg_entitlement_use_system'

    household = fields.Many2One(
        'party.party', "Household", required=True, readonly=True,
        ondelete='RESTRICT')
    type = fields.Many2One(
        'huinong.entitlement.type', "Type", required=True, readonly=True,
        ondelete='RESTRICT')
    grant = fields.Many2One(
        'huinong.entitlement.grant', "Grant", required=True, readonly=True,
        ondelete='RESTRICT')
    quantity = WholeNumber("Quantity", required=True, readonly=True,
        help="Negative for the reversal of a use.")
    date = fields.Date("Date", required=True, readonly=True)
    origin = fields.Reference(
        "Origin", selection='get_origin', readonly=True)
    reverses = fields.Many2One(
        'huinong.entitlement.use', "Reverses", readonly=True,
        ondelete='RESTRICT')
    reason = fields.Char("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('reverses_unique', Unique(t, t.reverses),
                'huinong_card.msg_entitlement_use_reversed'),
            ]
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls.__access__.add('household')

    @classmethod
    def _get_origin(cls):
        "Models that record uses (the redemption lines add themselves)"
        return []

    @classmethod
    def get_origin(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        models = cls._get_origin()
        return [(None, '')] + [(m, Model.get_name(m)) for m in models]

    @classmethod
    def record_use(cls, household, type_, quantity, date=None, origin=None):
        """Use the quantity of the type for the household, from the grants
        valid at the date, oldest first. Lock the household's grants of the
        type so that two uses cannot both take the last count. Raise a
        translated error when the remaining count is not enough."""
        pool = Pool()
        Grant = pool.get('huinong.entitlement.grant')
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        if quantity <= 0:
            raise CardError(gettext('huinong_card.msg_entitlement_quantity'))
        grants = Grant.search([
                ('household', '=', household.id),
                ('type', '=', type_.id),
                ('start_date', '<=', date),
                ['OR',
                    ('end_date', '=', None),
                    ('end_date', '>=', date),
                    ],
                ], order=[
                ('end_date', 'ASC NULLS LAST'),
                ('start_date', 'ASC'),
                ('id', 'ASC')])
        Grant.lock(grants)
        remaining = Grant.get_remaining(grants, 'remaining')
        available = sum(max(r, 0) for r in remaining.values())
        if available < quantity:
            raise CardError(gettext(
                    'huinong_card.msg_entitlement_not_enough',
                    household=household.rec_name,
                    type=type_.rec_name,
                    remaining=available,
                    quantity=quantity))
        uses, left = [], quantity
        for grant in grants:
            if not left:
                break
            take = min(left, max(remaining[grant.id], 0))
            if take:
                uses.append({
                        'household': household.id,
                        'type': type_.id,
                        'grant': grant.id,
                        'quantity': take,
                        'date': date,
                        'origin': str(origin) if origin else None,
                        })
                left -= take
        return cls.create(uses)

    @classmethod
    def reverse(cls, uses, reason, date=None):
        "Record the correcting entries of the uses"
        pool = Pool()
        Date = pool.get('ir.date')
        if not reason or not reason.strip():
            raise CardError(gettext('huinong_card.msg_card_reason_required'))
        if date is None:
            date = Date.today()
        for use in uses:
            if use.reverses or use.quantity < 0:
                raise CardError(gettext(
                        'huinong_card.msg_entitlement_reverse_reversal'))
        return cls.create([{
                    'household': u.household.id,
                    'type': u.type.id,
                    'grant': u.grant.id,
                    'quantity': -u.quantity,
                    'date': date,
                    'origin': str(u.origin) if u.origin else None,
                    'reverses': u.id,
                    'reason': reason.strip(),
                    } for u in uses])

