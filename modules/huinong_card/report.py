# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Printed documents of the cards: the card itself (front and back, on a
page of the card's size) and the register of the cards a township issued
in a period (统一造册存档)."""
import datetime as dt
import io

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.report import Report
from trytond.transaction import (
    Transaction, check_access, without_check_access)
from trytond.wizard import Button, StateReport, StateView, Wizard

from .exceptions import CardError

# The box of the ID photo on the card, in cm (ID photos are 26 x 32 mm)
PHOTO_BOX = (1.75, 2.2)


def group_number(number, size=4):
    "Return the card number in groups of 4 digits: 4690 2510 1000 0427"
    if not number:
        return ''
    return ' '.join(
        number[i:i + size] for i in range(0, len(number), size))


def mask_resident_id(value, keep=4):
    """Return the resident ID with every character but the last `keep`
    replaced by *: paper registers never show full ID numbers"""
    if not value:
        return ''
    value = ''.join(value.split())
    if len(value) <= keep:
        return '*' * len(value)
    return '*' * (len(value) - keep) + value[-keep:]


def photo_image(data, box=PHOTO_BOX):
    """Return the photo as relatorio's image: (bytes, mimetype, width,
    height) fitting the box (cm) with its proportions, or None"""
    if not data:
        return None
    data = bytes(data)
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(data)) as image:
            format_ = image.format
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    mimetype = {'PNG': 'image/png', 'JPEG': 'image/jpeg'}.get(format_)
    if not mimetype or not width or not height:
        return None
    scale = min(box[0] / width, box[1] / height)
    return (data, mimetype,
        '%.3fcm' % (width * scale), '%.3fcm' % (height * scale))


def merge_svg_squares(image):
    """Return the SVG of a QR code with its squares merged into one path.

    The QR codes of trytond's helper draw each module as a rectangle of its
    own: anti-aliased rendering (PDF viewers, some printer drivers) leaves
    hairline seams between them that make scanners fail. One path has no
    seams. Anything unexpected is returned unchanged."""
    from lxml import etree
    svg_ns = 'http://www.w3.org/2000/svg'
    data = image.getvalue() if hasattr(image, 'getvalue') else image

    def mm(value):
        if not value or not value.endswith('mm'):
            raise ValueError(value)
        return float(value[:-2])
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
        rects = root.findall('{%s}rect' % svg_ns)
        width, height = mm(root.get('width')), mm(root.get('height'))
        squares = []
        for rect in rects:
            x, y = mm(rect.get('x')), mm(rect.get('y'))
            w, h = mm(rect.get('width')), mm(rect.get('height'))
            squares.append('M%g %gh%gv%gh%gz' % (x, y, w, h, -w))
    except (etree.XMLSyntaxError, ValueError, TypeError):
        return image
    if not rects or root.get('viewBox'):
        return image
    for rect in rects:
        root.remove(rect)
    root.set('viewBox', '0 0 %g %g' % (width, height))
    etree.SubElement(root, '{%s}path' % svg_ns, {
            'd': ''.join(squares),
            'fill': '#000000',
            })
    return io.BytesIO(etree.tostring(
            root, xml_declaration=True, encoding='UTF-8'))


def _state_labels():
    "The labels of the card's states in the current language"
    pool = Pool()
    Card = pool.get('huinong.card')
    return dict(Card.fields_get(['state'])['state']['selection'])


class CardReport(Report):
    "Points Card"
    __name__ = 'huinong.card.print'

    @classmethod
    def _get_records(cls, ids, model, data):
        pool = Pool()
        Card = pool.get('huinong.card')
        # Called after the access check of execute: only issued cards
        labels = None
        for card in Card.browse(ids):
            if card.state != 'issued':
                if labels is None:
                    labels = _state_labels()
                raise CardError(gettext(
                        'huinong_card.msg_card_print_not_issued',
                        card=card.rec_name,
                        state=labels.get(card.state, card.state)))
        return super()._get_records(ids, model, data)

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['card_language'] = cls.card_language
        context['group_number'] = group_number
        context['card_photo'] = cls.card_photo
        context['hotline'] = cls.hotline()
        return context

    if hasattr(Report, 'qrcode'):
        @classmethod
        def qrcode(cls, code, size=(), **kwargs):
            image, mimetype, *size = super().qrcode(code, size, **kwargs)
            return (merge_svg_squares(image), mimetype, *size)

    @classmethod
    def card_language(cls, card):
        """The language the card is printed in: the household's, Chinese
        when it has none (as its text messages)"""
        household = card.household
        return household.lang.code if household.lang else 'zh_CN'

    @classmethod
    def card_photo(cls, card):
        return photo_image(card.household.huinong_photo)

    @classmethod
    def hotline(cls):
        """The phone number printed to report a lost card: the phone of the
        programme's company (the context's, or the only one), or a blank
        line to fill in by hand. The number is printed on every card: it
        is read without the user's access rights."""
        pool = Pool()
        try:
            Company = pool.get('company.company')
        except KeyError:
            return '____________'
        company_id = Transaction().context.get('company')
        with without_check_access():
            if company_id is not None and company_id >= 0:
                company = Company(company_id)
            else:
                companies = Company.search([], limit=2)
                company = companies[0] if len(companies) == 1 else None
            phone = company.party.phone if company else None
        return phone or '____________'


class CardRegisterStart(ModelView):
    "Card Register"
    __name__ = 'huinong.card.register.start'

    township = fields.Many2One(
        'huinong.area', "Township", required=True,
        domain=[
            ('type', '=', 'township'),
            If(Bool(Eval('townships')),
                ('id', 'in', Eval('townships', [])),
                ()),
            ],
        help="The township that issued the cards.")
    townships = fields.Many2Many(
        'huinong.area', None, None, "Townships", readonly=True,
        help="The townships the user answers for; empty for the county.")
    from_date = fields.Date(
        "From Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ],
        help="The first issue date of the register.")
    to_date = fields.Date(
        "To Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ],
        help="The last issue date of the register.")

    @classmethod
    def default_townships(cls):
        pool = Pool()
        User = pool.get('res.user')
        if User.is_huinong_county_wide():
            return []
        return list(User.get_huinong_scope()[1])

    @classmethod
    def default_township(cls):
        pool = Pool()
        User = pool.get('res.user')
        townships = User.get_huinong_scope()[1]
        if len(townships) == 1:
            return townships[0]

    @classmethod
    def default_from_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today().replace(day=1)

    @classmethod
    def default_to_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today()


class CardRegister(Wizard):
    "Card Register"
    __name__ = 'huinong.card.register'

    start = StateView('huinong.card.register.start',
        'huinong_card.card_register_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('huinong.card.register.report')

    def do_print_(self, action):
        return action, {
            'township': self.start.township.id,
            'from_date': self.start.from_date,
            'to_date': self.start.to_date,
            }

    def transition_print_(self):
        return 'end'


class CardRegisterReport(Report):
    "Card Register"
    __name__ = 'huinong.card.register.report'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Area = pool.get('huinong.area')
        ext, content, direct_print, name = super().execute(ids, data)
        # The file name says which register it is, for the archive
        township = Area(data['township'])
        name = '-'.join([name, township.name,
                _to_date(data['from_date']).isoformat(),
                _to_date(data['to_date']).isoformat()])
        return ext, content, direct_print, name

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Area = pool.get('huinong.area')
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        township = Area(data['township'])
        from_date = _to_date(data['from_date'])
        to_date = _to_date(data['to_date'])
        lines, totals = cls.get_lines(township, from_date, to_date)
        context['township'] = township
        context['from_date'] = from_date
        context['to_date'] = to_date
        context['lines'] = lines
        context['totals'] = totals
        context['total'] = len(lines)
        context['today'] = Date.today()
        return context

    @classmethod
    def get_lines(cls, township, from_date, to_date):
        """Return the lines of the register (dictionaries of printable
        values, by card number) and the count of cards by state label.

        The cards are searched with the user's access rights and record
        rules, whatever the caller: a township sees only its cards."""
        pool = Pool()
        Card = pool.get('huinong.card')
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        labels = _state_labels()
        with check_access():
            cards = Card.search([
                    ('issuing_township', '=', township.id),
                    ('issue_date', '>=', from_date),
                    ('issue_date', '<=', to_date),
                    ], order=[('number', 'ASC'), ('id', 'ASC')])
            lines = []
            counts = {}
            for i, card in enumerate(cards, 1):
                household = card.household
                village = household.huinong_village
                lines.append({
                        'sequence': i,
                        'number': group_number(card.number),
                        'head': household.name,
                        'village': village.name if village else '',
                        'resident_id': mask_resident_id(
                            household.huinong_resident_id),
                        'issue_date': (lang.strftime(card.issue_date)
                            if card.issue_date else ''),
                        'state': labels.get(card.state, card.state),
                        'issued_by': (card.issued_by.rec_name
                            if card.issued_by else ''),
                        })
                counts[card.state] = counts.get(card.state, 0) + 1
        # In the order of the states' selection
        totals = [(label, counts[state])
            for state, label in labels.items() if state in counts]
        return lines, totals


def _to_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value
