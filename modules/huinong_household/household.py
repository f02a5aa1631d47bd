# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

from sql.conditionals import Coalesce

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DictSchemaMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.modules.huinong.model import EditGroupsMixin
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import ClassPeriodError, ResidentIDError
from .tools import (
    compact_resident_id, resident_id_birth_date, resident_id_gender)

CLASSIFICATIONS = [
    ('poor', "Registered Poor Household"),
    ('ordinary', "Ordinary Household"),
    ]
RELATIONS = [
    ('spouse', "Spouse"),
    ('child', "Child"),
    ('child_in_law', "Child-in-law"),
    ('parent', "Parent"),
    ('grandchild', "Grandchild"),
    ('grandparent', "Grandparent"),
    ('sibling', "Sibling"),
    ('other', "Other"),
    ]
GENDERS = [
    (None, ''),
    ('male', "Male"),
    ('female', "Female"),
    ]


class Member(sequence_ordered(), ModelSQL, ModelView):
    "Household Member"
    __name__ = 'huinong.household.member'

    household = fields.Many2One(
        'party.party', "Household", required=True, ondelete='CASCADE',
        domain=[('huinong_household', '=', True)])
    name = fields.Char("Name", required=True)
    relation = fields.Selection(
        RELATIONS, "Relation to Head", required=True, sort=False)
    resident_id = fields.Char(
        "Resident ID",
        help="The resident identity card number, when the member has one.")
    birth_date = fields.Date(
        "Birth Date",
        states={
            'readonly': Eval('resident_id', None) != None,  # noqa: E711
            })
    gender = fields.Selection(
        GENDERS, "Gender",
        states={
            'readonly': Eval('resident_id', None) != None,  # noqa: E711
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('resident_id_unique', Unique(t, t.resident_id),
                'huinong_household.msg_resident_id_unique'),
            ]
        cls.__access__.add('household')

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('resident_id'):
            code = compact_resident_id(values['resident_id'])
            if code:
                values['resident_id'] = code
                values['birth_date'] = resident_id_birth_date(code)
                values['gender'] = resident_id_gender(code)
        return values

    @fields.depends('resident_id', 'birth_date', 'gender')
    def on_change_resident_id(self):
        code = compact_resident_id(self.resident_id)
        if code:
            self.resident_id = code
            self.birth_date = resident_id_birth_date(code)
            self.gender = resident_id_gender(code)

    @classmethod
    def validate_fields(cls, members, field_names):
        super().validate_fields(members, field_names)
        cls.check_resident_id(members, field_names)

    @classmethod
    def check_resident_id(cls, members, field_names=None):
        pool = Pool()
        Identifier = pool.get('party.identifier')
        if field_names and 'resident_id' not in field_names:
            return
        codes = set()
        for member in members:
            if not member.resident_id:
                continue
            if not compact_resident_id(member.resident_id):
                raise ResidentIDError(gettext(
                        'huinong_household.msg_resident_id_invalid',
                        code=member.resident_id))
            codes.add(member.resident_id)
        if codes:
            # A head of household is not a member of a household
            identifiers = Identifier.search([
                    ('type', '=', 'cn_ric'),
                    ('code_compact', 'in', list(codes)),
                    ], limit=1)
            if identifiers:
                identifier, = identifiers
                raise ResidentIDError(gettext(
                        'huinong_household.msg_resident_id_is_head',
                        code=identifier.code,
                        household=identifier.party.rec_name))


class HouseholdClass(EditGroupsMixin, ModelSQL, ModelView):
    "Household Class"
    __name__ = 'huinong.household.class'

    household = fields.Many2One(
        'party.party', "Household", required=True, ondelete='CASCADE',
        domain=[('huinong_household', '=', True)])
    classification = fields.Selection(
        CLASSIFICATIONS, "Class", required=True, sort=False)
    start_date = fields.Date(
        "Start Date", required=True,
        domain=[
            If(Eval('end_date'),
                ('start_date', '<=', Eval('end_date')),
                ()),
            ])
    end_date = fields.Date(
        "End Date",
        domain=[
            If(Eval('end_date') & Eval('start_date'),
                ('end_date', '>=', Eval('start_date')),
                ()),
            ],
        help="The last day of the class; empty while it lasts.")
    reason = fields.Char(
        "Reason",
        help="Why the class starts, e.g. registered as poor, lifted out "
        "of poverty.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('household', 'ASC'),
            ('start_date', 'DESC'),
            ('id', 'DESC'),
            ]
        cls.__access__.add('household')

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    # The class decides a household's caps (money): only these groups
    # record one, whatever the household's access grants (EditGroupsMixin)
    _edit_groups = [
        'huinong.group_county_office', 'huinong.group_township_office']
    _edit_groups_message = 'huinong_household.msg_class_editor'

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        cls.check_overlap(records, field_names)

    @classmethod
    def check_overlap(cls, records, field_names=None):
        "The periods of one household never overlap"
        if field_names and not (
                field_names & {'household', 'start_date', 'end_date'}):
            return
        for record in records:
            domain = [
                ('id', '!=', record.id),
                ('household', '=', record.household.id),
                ['OR',
                    ('end_date', '=', None),
                    ('end_date', '>=', record.start_date),
                    ],
                ]
            if record.end_date:
                domain.append(('start_date', '<=', record.end_date))
            overlapping = cls.search(domain, limit=1)
            if overlapping:
                other, = overlapping
                raise ClassPeriodError(gettext(
                        'huinong_household.msg_class_overlap',
                        household=record.household.rec_name,
                        first=record.rec_name,
                        second=other.rec_name))

    def get_rec_name(self, name):
        lang = Pool().get('ir.lang').get()
        period = lang.strftime(self.start_date)
        if self.end_date:
            period += ' - ' + lang.strftime(self.end_date)
        return '%s (%s)' % (
            dict(self.fields_get(['classification'])['classification'][
                    'selection'])[self.classification], period)

    @classmethod
    def classification_query(cls, date=None):
        """Return a query of (household, classification) for the classes
        in force at the date (today by default)"""
        if date is None:
            date = Pool().get('ir.date').today()
        table = cls.__table__()
        return table.select(
            table.household.as_('household'),
            table.classification.as_('classification'),
            where=(table.start_date <= date)
            & (Coalesce(table.end_date, dt.date.max) >= date))

    @classmethod
    def get_classification(cls, household_ids, date=None):
        """Return the class of each household at the date (today by
        default), as a dictionary; households without class are missing.
        One query per thousand households."""
        if date is None:
            date = Pool().get('ir.date').today()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in grouped_slice(
                household_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.household, table.classification,
                    where=fields.SQL_OPERATORS['in'](
                        table.household, list(sub_ids))
                    & (table.start_date <= date)
                    & (Coalesce(table.end_date, dt.date.max) >= date)))
            result.update(cursor)
        return result


class Attribute(DictSchemaMixin, ModelSQL, ModelView):
    "Household Attribute"
    __name__ = 'huinong.household.attribute'
