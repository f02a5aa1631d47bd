# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The stores (惠农超市 / 村淘服务站): stock warehouses with a township, an
operator, clerks and opening hours (R-OPS-1)."""
import datetime as dt
from collections import defaultdict

from sql import Literal, Null

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.huinong.tools import record_gettext
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.tools import timezone as tz
from trytond.transaction import Transaction, without_check_access

from .exceptions import OpeningHoursValidationError, StoreValidationError

# ISO weekdays, as datetime.isoweekday()
WEEKDAYS = [
    ('1', "Monday"),
    ('2', "Tuesday"),
    ('3', "Wednesday"),
    ('4', "Thursday"),
    ('5', "Friday"),
    ('6', "Saturday"),
    ('7', "Sunday"),
    ]
# R-OPS-1: every day, at least 8 hours
MIN_HOURS = dt.timedelta(hours=8)
# The time zone of the stores when the company has none
DEFAULT_TIMEZONE = 'Asia/Shanghai'
# Set while a store writes its own lines: the store checks its hours once
# all of them are written
_SKIP_STORE_CHECK = '_huinong_store_skip_hours_check'


def _duration(opens, closes):
    return (dt.datetime.combine(dt.date.min, closes)
        - dt.datetime.combine(dt.date.min, opens))


def format_hours(delta):
    "Return a duration as hours with at most 2 decimals: 7.5"
    hours = delta.total_seconds() / 3600
    return ('%.2f' % hours).rstrip('0').rstrip('.')


def format_time(value):
    return value.strftime('%H:%M') if value else ''


class Location(metaclass=PoolMeta):
    __name__ = 'stock.location'

    huinong_store = fields.Boolean(
        "Huinong Store",
        states={
            'invisible': Eval('type') != 'warehouse',
            },
        help="Check for a points supermarket (village e-commerce service "
        "station) of the programme.")
    huinong_township = fields.Many2One(
        'huinong.area', "Township", ondelete='RESTRICT',
        domain=[('type', '=', 'township')],
        states={
            'invisible': ~Eval('huinong_store'),
            'required': Bool(Eval('huinong_store')),
            },
        help="The township of the store.")
    huinong_operator = fields.Many2One(
        'party.party', "Operator", ondelete='RESTRICT',
        states={
            'invisible': ~Eval('huinong_store'),
            'required': Bool(Eval('huinong_store')),
            },
        help="The party that runs the service station and is paid at "
        "settlement.")
    huinong_clerks = fields.Many2Many(
        'stock.location-res.user', 'location', 'user', "Clerks",
        states={
            'invisible': ~Eval('huinong_store'),
            },
        help="The clerks (村小二) who serve at the store's counter.")
    huinong_phone = fields.Char(
        "Phone",
        states={
            'invisible': ~Eval('huinong_store'),
            },
        help="The phone of the store, printed on its notices.")
    huinong_opening_hours = fields.One2Many(
        'huinong.store.opening_hours', 'store', "Opening Hours",
        states={
            'invisible': ~Eval('huinong_store'),
            },
        help="Every day, at least 8 hours (R-OPS-1).")
    huinong_store_of = fields.Function(fields.Many2One(
            'stock.location', "Store",
            help="The store the location belongs to, or the store itself."),
        'get_huinong_store_of', searcher='search_huinong_store_of')
    huinong_store_township = fields.Function(fields.Many2One(
            'huinong.area', "Store Township",
            help="The township of the store the location belongs to."),
        'get_huinong_store_township',
        searcher='search_huinong_store_township')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.huinong_clerks.domain = [
            If(Eval('huinong_store'), (), ('id', '=', -1))]

    @classmethod
    def default_huinong_store(cls):
        return bool(Transaction().context.get('huinong_store'))

    @classmethod
    def default_type(cls):
        if Transaction().context.get('huinong_store'):
            return 'warehouse'
        return super().default_type()

    def get_huinong_store_of(self, name):
        location = self
        while location:
            if location.huinong_store:
                return location.id
            location = location.parent

    def get_huinong_store_township(self, name):
        store = self.huinong_store_of
        if store and store.huinong_township:
            return store.huinong_township.id

    @classmethod
    def _huinong_store_query(cls, where=None):
        """Return a query of (location, store) pairs for the locations in
        a store (the store included)"""
        location = cls.__table__()
        store = cls.__table__()
        condition = store.huinong_store == Literal(True)
        if where is not None:
            condition &= where(store)
        return location.join(store, condition=(
                (store.left <= location.left)
                & (store.right >= location.right))
            ).select(location.id, store.id.as_('store'),
                where=condition)

    @classmethod
    def _huinong_search_store(cls, operator, value, where):
        "Return a domain on id for the clause of the store searchers"
        if operator in {'=', '!='} and value is None:
            query = cls._huinong_store_query()
            return [('id', 'not in' if operator == '=' else 'in',
                    query.select(query.id))]
        if operator in {'=', 'in'}:
            query = cls._huinong_store_query(where)
            return [('id', 'in', query.select(query.id))]
        if operator in {'!=', 'not in'}:
            query = cls._huinong_store_query(where)
            return [('id', 'not in', query.select(query.id))]
        raise ValueError(operator)

    @classmethod
    def search_huinong_store_of(cls, name, clause):
        _, operator, value = clause[:3]
        if isinstance(value, int):
            value = [value]

        def where(store):
            return store.id.in_(list(value) or [-1])
        return cls._huinong_search_store(operator, value, where)

    @classmethod
    def search_huinong_store_township(cls, name, clause):
        _, operator, value = clause[:3]
        if isinstance(value, int):
            value = [value]

        def where(store):
            return ((store.huinong_township != Null)
                & store.huinong_township.in_(list(value) or [-1]))
        return cls._huinong_search_store(operator, value, where)

    @classmethod
    def create(cls, vlist):
        vlist = [cls._huinong_store_sub_locations(v) for v in vlist]
        with Transaction().set_context(**{_SKIP_STORE_CHECK: True}):
            return super().create(vlist)

    @classmethod
    def write(cls, *args):
        with Transaction().set_context(**{_SKIP_STORE_CHECK: True}):
            super().write(*args)

    @classmethod
    def _huinong_store_sub_locations(cls, values):
        """Create the input, output and storage locations a warehouse
        requires, when a store is created without them"""
        values = values.copy()
        if not values.get('huinong_store'):
            return values
        values.setdefault('type', 'warehouse')
        if values['type'] != 'warehouse':
            return values
        for field, message, type_ in [
                ('input_location', 'msg_store_input_name', 'storage'),
                ('output_location', 'msg_store_output_name', 'storage'),
                ('storage_location', 'msg_store_storage_name', 'storage'),
                ]:
            if values.get(field):
                continue
            location, = cls.create([{
                        # named after the store: a picker lists every
                        # store's locations
                        'name': record_gettext('huinong_store.%s' % message,
                            store=values.get('name') or ''),
                        'type': type_,
                        }])
            values[field] = location.id
        return values

    @classmethod
    def validate_fields(cls, locations, field_names):
        super().validate_fields(locations, field_names)
        if field_names & {
                'huinong_store', 'type', 'huinong_township',
                'huinong_opening_hours'}:
            cls.check_huinong_store(locations)

    @classmethod
    def check_huinong_store(cls, locations):
        pool = Pool()
        OpeningHours = pool.get('huinong.store.opening_hours')
        stores = [l for l in locations if l.huinong_store]
        for store in stores:
            if store.type != 'warehouse':
                raise StoreValidationError(gettext(
                        'huinong_store.msg_store_warehouse',
                        store=store.rec_name))
        OpeningHours.check_stores(stores)


class LocationClerk(ModelSQL):
    "Store - Clerk"
    __name__ = 'stock.location-res.user'

    location = fields.Many2One(
        'stock.location', "Store", ondelete='CASCADE', required=True,
        domain=[('huinong_store', '=', True)])
    user = fields.Many2One(
        'res.user', "User", ondelete='CASCADE', required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('location')

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        User = pool.get('res.user')
        super().on_modification(mode, records, field_names=field_names)
        User._get_huinong_store_ids_cache.clear()


class OpeningHours(ModelSQL, ModelView):
    "Store Opening Hours"
    __name__ = 'huinong.store.opening_hours'

    store = fields.Many2One(
        'stock.location', "Store", required=True, ondelete='CASCADE',
        domain=[('huinong_store', '=', True)])
    weekday = fields.Selection(WEEKDAYS, "Weekday", required=True, sort=False)
    weekday_string = weekday.translated('weekday')
    opens = fields.Time("Opens", required=True, format='%H:%M')
    closes = fields.Time(
        "Closes", required=True, format='%H:%M',
        domain=[
            If(Eval('opens') & Eval('closes'),
                ('closes', '>', Eval('opens')),
                ()),
            ])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('store', 'ASC'),
            ('weekday', 'ASC'),
            ('opens', 'ASC'),
            ('id', 'ASC'),
            ]

    def get_rec_name(self, name):
        return '%s %s-%s' % (
            self.weekday_string, format_time(self.opens),
            format_time(self.closes))

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        if not Transaction().context.get(_SKIP_STORE_CHECK):
            cls.check_stores({l.store for l in lines})

    @classmethod
    def on_delete(cls, lines):
        callback = super().on_delete(lines)
        if not Transaction().context.get(_SKIP_STORE_CHECK):
            store_ids = list({l.store.id for l in lines})
            callback.append(lambda: cls._check_remaining_stores(store_ids))
        return callback

    @classmethod
    def _check_remaining_stores(cls, store_ids):
        "Check the stores of deleted lines unless deleted with them"
        pool = Pool()
        Location = pool.get('stock.location')
        with Transaction().set_context(active_test=False):
            stores = Location.search([('id', 'in', store_ids)])
        cls.check_stores(stores)

    @classmethod
    def _weekday_label(cls, weekday):
        return dict(cls.fields_get(['weekday'])['weekday']['selection'])[
            weekday]

    @classmethod
    def check_stores(cls, stores):
        """Check the stores open every day, at least 8 hours, with no
        overlapping intervals (R-OPS-1)"""
        for store in stores:
            if not store.huinong_store:
                continue
            by_weekday = defaultdict(list)
            for line in store.huinong_opening_hours:
                by_weekday[line.weekday].append(line)
            for weekday, _ in WEEKDAYS:
                label = cls._weekday_label(weekday)
                lines = sorted(by_weekday[weekday], key=lambda l: l.opens)
                if not lines:
                    raise OpeningHoursValidationError(gettext(
                            'huinong_store.msg_store_weekday_missing',
                            store=store.rec_name, weekday=label))
                total = dt.timedelta()
                for previous, line in zip([None] + lines, lines):
                    if line.closes <= line.opens:
                        raise OpeningHoursValidationError(gettext(
                                'huinong_store.msg_opening_hours_order',
                                store=store.rec_name, weekday=label,
                                opens=format_time(line.opens),
                                closes=format_time(line.closes)))
                    if previous and line.opens < previous.closes:
                        raise OpeningHoursValidationError(gettext(
                                'huinong_store.msg_opening_hours_overlap',
                                store=store.rec_name, weekday=label,
                                first=previous.rec_name,
                                second=line.rec_name))
                    total += _duration(line.opens, line.closes)
                if total < MIN_HOURS:
                    raise OpeningHoursValidationError(gettext(
                            'huinong_store.msg_store_weekday_hours',
                            store=store.rec_name, weekday=label,
                            hours=format_hours(total),
                            minimum=format_hours(MIN_HOURS),
                            intervals=', '.join(
                                '%s-%s' % (format_time(l.opens),
                                    format_time(l.closes))
                                for l in lines)))

    @classmethod
    def local_timezone(cls):
        "The time zone of the stores: the company's, or Asia/Shanghai"
        pool = Pool()
        Company = pool.get('company.company')
        company_id = Transaction().context.get('company')
        name = None
        with without_check_access():
            if company_id is not None and company_id >= 0:
                name = Company(company_id).timezone
            else:
                companies = Company.search([], limit=2)
                if len(companies) == 1:
                    name = companies[0].timezone
        return tz.get_tzinfo(name or DEFAULT_TIMEZONE)

    @classmethod
    def is_open(cls, store, datetime):
        """Return whether the store is open at the datetime.

        A naive datetime is taken as trytond stores them (UTC); both are
        compared in the stores' local time (local_timezone)."""
        if datetime.tzinfo is None:
            datetime = datetime.replace(tzinfo=dt.timezone.utc)
        local = datetime.astimezone(cls.local_timezone())
        weekday = str(local.isoweekday())
        time = local.time().replace(tzinfo=None)
        return any(
            l.weekday == weekday and l.opens <= time < l.closes
            for l in store.huinong_opening_hours)

    def get_hours(self):
        return _duration(self.opens, self.closes)


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    huinong_stores = fields.Many2Many(
        'stock.location-res.user', 'user', 'location', "Stores",
        domain=[('huinong_store', '=', True)],
        help="The stores where the user serves as clerk.")

    _get_huinong_store_ids_cache = Cache(
        __name__ + '.get_huinong_store_ids', context=False)

    @classmethod
    def get_huinong_store_ids(cls):
        "Return the sorted ids of the stores the current user is clerk of"
        pool = Pool()
        LocationClerk = pool.get('stock.location-res.user')
        user_id = Transaction().user
        store_ids = cls._get_huinong_store_ids_cache.get(user_id)
        if store_ids is not None:
            return tuple(store_ids)
        table = LocationClerk.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.location,
                where=table.user == user_id))
        store_ids = tuple(sorted({s for s, in cursor}))
        cls._get_huinong_store_ids_cache.set(user_id, store_ids)
        return store_ids


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "huinong_store_ids" as list of ids of the stores '
            'the user is clerk of')

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        return (*key, User.get_huinong_store_ids())

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        context['huinong_store_ids'] = list(User.get_huinong_store_ids())
        return context
