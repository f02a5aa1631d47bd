# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import io

from PIL import Image, UnidentifiedImageError
from sql.aggregate import Count
from sql.operators import Equal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Exclude, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import HouseholdValidationError, PhotoError, ResidentIDError
from .household import CLASSIFICATIONS
from .tools import compact_resident_id, parse_cn_mobile, resident_id_birth_date

PHOTO_FORMATS = {'JPEG', 'PNG'}


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    huinong_household = fields.Boolean(
        "Household",
        help="A rural household of the points supermarket programme.")
    huinong_village = fields.Many2One(
        'huinong.area', "Village", ondelete='RESTRICT',
        domain=[('type', '=', 'village')],
        states={
            'required': Bool(Eval('huinong_household')),
            'invisible': ~Eval('huinong_household'),
            })
    huinong_township = fields.Function(fields.Many2One(
            'huinong.area', "Township",
            states={
                'invisible': ~Eval('huinong_household'),
                }),
        'on_change_with_huinong_township',
        searcher='search_huinong_township')
    huinong_residence = fields.Char(
        "Registered Residence",
        states={
            'invisible': ~Eval('huinong_household'),
            },
        help="The registered residence (户籍) of the household.")
    huinong_resident_id = fields.Function(fields.Char(
            "Resident ID",
            states={
                'required': Bool(Eval('huinong_household')),
                'invisible': ~Eval('huinong_household'),
                },
            help="The resident identity card number of the head "
            "of household."),
        'get_huinong_resident_id', setter='set_huinong_resident_id',
        searcher='search_huinong_resident_id')
    huinong_birth_date = fields.Function(fields.Date(
            "Birth Date",
            states={
                'invisible': ~Eval('huinong_household'),
                }),
        'on_change_with_huinong_birth_date')
    huinong_mobile = fields.Function(fields.Char(
            "Mobile",
            states={
                'invisible': ~Eval('huinong_household'),
                },
            help="The mobile phone of the household, for text messages."),
        'get_huinong_mobile', setter='set_huinong_mobile',
        searcher='search_huinong_mobile')
    huinong_photo = fields.Binary(
        "ID Photo",
        states={
            'invisible': ~Eval('huinong_household'),
            },
        help="The photo of the head of household's resident ID card, "
        "shown as the member's picture at the counter.")
    huinong_members = fields.One2Many(
        'huinong.household.member', 'household', "Members",
        states={
            'invisible': ~Eval('huinong_household'),
            })
    huinong_population = fields.Function(fields.Integer(
            "Population",
            states={
                'invisible': ~Eval('huinong_household'),
                },
            help="The head of household and the members."),
        'get_huinong_population')
    huinong_classes = fields.One2Many(
        'huinong.household.class', 'household', "Class History",
        states={
            'invisible': ~Eval('huinong_household'),
            })
    huinong_class = fields.Function(fields.Selection(
            [(None, '')] + CLASSIFICATIONS, "Class",
            states={
                'invisible': ~Eval('huinong_household'),
                },
            help="The class of the household today."),
        'get_huinong_class', searcher='search_huinong_class')
    huinong_attributes = fields.Dict(
        'huinong.household.attribute', "Attributes",
        states={
            'invisible': ~Eval('huinong_household'),
            })

    @classmethod
    def default_huinong_household(cls):
        return bool(Transaction().context.get('huinong_household'))

    @classmethod
    def view_toolbar_get(cls):
        """On the households' screens (the context of their action), only
        the actions, relations and reports of the programme: a household
        has no e-mail archive, purchases, supplier shipments nor VAT
        number to check"""
        result = super().view_toolbar_get()
        if not Transaction().context.get('huinong_household'):
            return result
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        result = dict(result)
        for key in ['print', 'action', 'relate']:
            entries = result.get(key) or []
            if not entries:
                continue
            keys = {(e['type'], e['id']) for e in entries}
            with without_check_access():
                data = ModelData.search([
                        ('model', 'in', list({t for t, _ in keys})),
                        ('db_id', 'in', list({i for _, i in keys})),
                        ])
            ours = {(d.model, d.db_id) for d in data
                if d.module.startswith('huinong')}
            result[key] = [e for e in entries if (e['type'], e['id']) in ours]
        return result

    @fields.depends('huinong_village')
    def on_change_with_huinong_township(self, name=None):
        if self.huinong_village and self.huinong_village.parent:
            return self.huinong_village.parent

    @classmethod
    def search_huinong_township(cls, name, clause):
        nested = clause[0][len(name):]
        return [('huinong_village.parent' + nested, *clause[1:])]

    @classmethod
    def _resident_identifiers(cls, parties):
        "Return the cn_ric identifier of each party by id"
        pool = Pool()
        Identifier = pool.get('party.identifier')
        result = {}
        for sub in grouped_slice(
                parties, backend.MAX_QUERY_PARAMS):
            for identifier in Identifier.search([
                        ('party', 'in', [p.id for p in sub]),
                        ('type', '=', 'cn_ric'),
                        ], order=[('id', 'ASC')]):
                result.setdefault(identifier.party.id, identifier)
        return result

    @classmethod
    def get_huinong_resident_id(cls, parties, name):
        identifiers = cls._resident_identifiers(parties)
        return {p.id: identifiers[p.id].code if p.id in identifiers else None
            for p in parties}

    @classmethod
    def set_huinong_resident_id(cls, parties, name, value):
        pool = Pool()
        Identifier = pool.get('party.identifier')
        identifiers = cls._resident_identifiers(parties)
        to_save, to_delete = [], []
        for party in parties:
            identifier = identifiers.get(party.id)
            if not value:
                if identifier:
                    to_delete.append(identifier)
                continue
            if not identifier:
                identifier = Identifier(party=party, type='cn_ric')
            identifier.code = value
            identifier.code = identifier.on_change_with_code()
            to_save.append(identifier)
        Identifier.delete(to_delete)
        Identifier.save(to_save)

    @classmethod
    def search_huinong_resident_id(cls, name, clause):
        _, operator, operand, *extra = clause
        if isinstance(operand, str) and operator in {'=', '!='}:
            operand = compact_resident_id(operand) or operand
            field = 'code_compact'
        else:
            field = 'code'
        return [('identifiers', 'where', [
                    ('type', '=', 'cn_ric'),
                    (field, operator, operand, *extra),
                    ])]

    @fields.depends('huinong_resident_id')
    def on_change_with_huinong_birth_date(self, name=None):
        if self.huinong_resident_id:
            return resident_id_birth_date(self.huinong_resident_id)

    @classmethod
    def _huinong_mobiles(cls, parties):
        pool = Pool()
        ContactMechanism = pool.get('party.contact_mechanism')
        result = {}
        for sub in grouped_slice(
                parties, backend.MAX_QUERY_PARAMS):
            for mechanism in ContactMechanism.search([
                        ('party', 'in', [p.id for p in sub]),
                        ('type', '=', 'mobile'),
                        ], order=[('sequence', 'ASC'), ('id', 'ASC')]):
                result.setdefault(mechanism.party.id, mechanism)
        return result

    @classmethod
    def get_huinong_mobile(cls, parties, name):
        mechanisms = cls._huinong_mobiles(parties)
        return {p.id: mechanisms[p.id].value if p.id in mechanisms else None
            for p in parties}

    @classmethod
    def set_huinong_mobile(cls, parties, name, value):
        pool = Pool()
        ContactMechanism = pool.get('party.contact_mechanism')
        mechanisms = cls._huinong_mobiles(parties)
        to_save, to_delete = [], []
        for party in parties:
            mechanism = mechanisms.get(party.id)
            if not value:
                if mechanism:
                    to_delete.append(mechanism)
                continue
            if not mechanism:
                mechanism = ContactMechanism(party=party, type='mobile')
            mechanism.value = value
            mechanism.on_change_value()
            to_save.append(mechanism)
        ContactMechanism.delete(to_delete)
        ContactMechanism.save(to_save)

    @classmethod
    def search_huinong_mobile(cls, name, clause):
        _, operator, operand, *extra = clause
        if isinstance(operand, str) and operator in {'=', '!='}:
            operand = parse_cn_mobile(operand) or operand
            field = 'value_compact'
        else:
            field = 'value'
        return [('contact_mechanisms', 'where', [
                    ('type', '=', 'mobile'),
                    (field, operator, operand, *extra),
                    ])]

    @classmethod
    def get_huinong_population(cls, parties, name):
        pool = Pool()
        Member = pool.get('huinong.household.member')
        member = Member.__table__()
        cursor = Transaction().connection.cursor()
        result = {p.id: 1 if p.huinong_household else None for p in parties}
        for sub in grouped_slice(
                parties, backend.MAX_QUERY_PARAMS):
            cursor.execute(*member.select(
                    member.household, Count(member.id),
                    where=fields.SQL_OPERATORS['in'](
                    member.household, [p.id for p in sub]),
                    group_by=[member.household]))
            for household, count in cursor:
                result[household] += count
        return result

    @classmethod
    def get_huinong_class(cls, parties, name):
        pool = Pool()
        Class = pool.get('huinong.household.class')
        classes = Class.get_classification(
            [p.id for p in parties if p.huinong_household])
        return {p.id: classes.get(p.id) for p in parties}

    @classmethod
    def search_huinong_class(cls, name, clause):
        pool = Pool()
        Class = pool.get('huinong.household.class')
        _, operator, operand, *extra = clause
        query = Class.classification_query()
        # A household with no class today has no row in the query
        if operator == '=' and operand is None:
            return [('huinong_household', '=', True),
                ('id', 'not in', query.select(query.household))]
        operator_ = fields.SQL_OPERATORS[operator]
        return [('id', 'in', query.select(
                    query.household,
                    where=operator_(query.classification, operand)))]

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        cls.check_huinong_photo(parties, field_names)

    @classmethod
    def validate(cls, parties):
        super().validate(parties)
        cls.check_huinong_household(parties)

    @classmethod
    def check_huinong_household(cls, parties):
        households = [p for p in parties if p.huinong_household]
        identifiers = cls._resident_identifiers(households)
        mobiles = cls._huinong_mobiles(households)
        for party in households:
            # the head's name is what the notices, receipts and statements
            # show: never empty nor blank
            if not (party.name or '').strip():
                raise HouseholdValidationError(gettext(
                        'huinong_household.msg_household_name_required',
                        resident_id=cls._huinong_rid_text(party)))
            if not party.huinong_village:
                raise HouseholdValidationError(gettext(
                        'huinong_household.msg_household_village_required',
                        household=party.rec_name))
            if party.id not in identifiers:
                raise HouseholdValidationError(gettext(
                        'huinong_household.msg_household_resident_id_required',
                        household=party.rec_name))
            mobile = mobiles.get(party.id)
            if mobile and not parse_cn_mobile(mobile.value):
                raise HouseholdValidationError(gettext(
                        'huinong_household.msg_household_mobile_invalid',
                        household=party.rec_name, mobile=mobile.value))

    @staticmethod
    def _huinong_rid_text(party):
        "The household's resident ID, for a message about it, or ''"
        return ''.join(i.code for i in (party.identifiers or [])
            if i.type == 'cn_ric')[:18]

    @classmethod
    def check_huinong_photo(cls, parties, field_names=None):
        pool = Pool()
        Configuration = pool.get('huinong.configuration')
        if field_names and 'huinong_photo' not in field_names:
            return
        max_size = Configuration(1).get_household_photo_max_bytes()
        for party in parties:
            photo = party.huinong_photo
            if not photo:
                continue
            if max_size and len(photo) > max_size:
                raise PhotoError(gettext(
                        'huinong_household.msg_photo_too_large',
                        household=party.rec_name,
                        size=len(photo) // 1024,
                        max_size=max_size // 1024))
            try:
                with Image.open(io.BytesIO(bytes(photo))) as image:
                    format_ = image.format
                    image.verify()
            except (UnidentifiedImageError, OSError, SyntaxError,
                    ValueError):
                format_ = None
            if format_ not in PHOTO_FORMATS:
                raise PhotoError(gettext(
                        'huinong_household.msg_photo_not_image',
                        household=party.rec_name))


class Identifier(metaclass=PoolMeta):
    __name__ = 'party.identifier'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # A resident ID identifies one person: the database refuses it twice
        cls._sql_constraints += [
            ('cn_ric_unique',
                Exclude(t, (t.code_compact, Equal),
                    where=(t.type == 'cn_ric') & (t.active == True)),  # noqa: E712
                'huinong_household.msg_resident_id_unique'),
            ]

    @fields.depends('type', 'code')
    def on_change_with_code(self):
        if self.type == 'cn_ric':
            return compact_resident_id(self.code) or self.code
        return super().on_change_with_code()

    @fields.depends('type', 'code')
    def check_code(self):
        # The party module asks python-stdnum's is_valid, which refuses the
        # IDs of people born before their county code existed (see tools)
        if self.type == 'cn_ric':
            return
        super().check_code()

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('type') == 'cn_ric' and values.get('code'):
            code = compact_resident_id(values['code'])
            if code:
                values['code'] = code
                if mode == 'create':
                    values['code_compact'] = code
        return values

    def compute_fields(self, field_names=None):
        values = super().compute_fields(field_names=field_names)
        if (self.type == 'cn_ric' and 'code_compact' in values
                and compact_resident_id(self.code)):
            values['code_compact'] = compact_resident_id(self.code)
        return values

    @classmethod
    def validate_fields(cls, identifiers, field_names):
        super().validate_fields(identifiers, field_names)
        cls.check_cn_ric(identifiers, field_names)

    @classmethod
    def check_cn_ric(cls, identifiers, field_names=None):
        "The party module checks the code only in pre_validate (the client)"
        pool = Pool()
        Member = pool.get('huinong.household.member')
        if field_names and not (field_names & {'type', 'code'}):
            return
        ric_identifiers = [i for i in identifiers if i.type == 'cn_ric']
        for identifier in ric_identifiers:
            if not compact_resident_id(identifier.code):
                raise ResidentIDError(gettext(
                        'huinong_household.msg_resident_id_invalid',
                        code=identifier.code))
        codes = {i.code_compact for i in ric_identifiers}
        if codes:
            members = Member.search([('resident_id', 'in', list(codes))],
                limit=1)
            if members:
                member, = members
                raise ResidentIDError(gettext(
                        'huinong_household.msg_resident_id_is_member',
                        code=member.resident_id,
                        household=member.household.rec_name))


class ContactMechanism(metaclass=PoolMeta):
    __name__ = 'party.contact_mechanism'

    @fields.depends('party', '_parent_party.huinong_household')
    def _phone_country_codes(self):
        yield from super()._phone_country_codes()
        # Households write their numbers without the +86 prefix
        if self.party and self.party.huinong_household:
            yield 'CN'

