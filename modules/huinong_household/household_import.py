# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Import of households from the county's spreadsheet (XLSX or CSV).

The whole file is read and checked first; households are written only when
no row has an error, so a rejected file leaves nothing behind."""
import csv
import datetime as dt
import io
import zipfile
from collections import OrderedDict

import openpyxl

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.transaction import check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .tools import compact_resident_id, parse_cn_mobile, resident_id_birth_date

# Column key, accepted headers (the first is the one of the template)
COLUMNS = OrderedDict([
    ('head_id', ['户主身份证号', 'head_resident_id']),
    ('name', ['姓名', 'name']),
    ('relation', ['与户主关系', 'relation']),
    ('resident_id', ['身份证号', 'resident_id']),
    ('birth_date', ['出生日期', 'birth_date']),
    ('village', ['村', '村编码', 'village']),
    ('mobile', ['手机号', '手机', 'mobile']),
    ('residence', ['户籍地址', 'residence']),
    ('classification', ['农户类别', 'class']),
    ('class_start', ['类别起始日期', 'class_start_date']),
    ])
REQUIRED_COLUMNS = ['head_id', 'name', 'relation']
HEAD = 'head'
RELATIONS = {
    '户主': HEAD, '本人': HEAD, 'head': HEAD,
    '配偶': 'spouse', '妻': 'spouse', '夫': 'spouse', '妻子': 'spouse',
    '丈夫': 'spouse', 'spouse': 'spouse',
    '子女': 'child', '子': 'child', '女': 'child', '儿子': 'child',
    '女儿': 'child', '长子': 'child', '次子': 'child', '长女': 'child',
    '次女': 'child', 'child': 'child',
    '儿媳': 'child_in_law', '女婿': 'child_in_law',
    'child_in_law': 'child_in_law',
    '父母': 'parent', '父亲': 'parent', '母亲': 'parent', '父': 'parent',
    '母': 'parent', 'parent': 'parent',
    '孙子女': 'grandchild', '孙子': 'grandchild', '孙女': 'grandchild',
    '外孙子': 'grandchild', '外孙女': 'grandchild',
    'grandchild': 'grandchild',
    '祖父母': 'grandparent', '祖父': 'grandparent', '祖母': 'grandparent',
    'grandparent': 'grandparent',
    '兄弟姐妹': 'sibling', '兄': 'sibling', '弟': 'sibling',
    '姐': 'sibling', '妹': 'sibling', 'sibling': 'sibling',
    '其他': 'other', 'other': 'other',
    }
CLASSES = {
    '贫困户': 'poor', '建档立卡贫困户': 'poor', '脱贫户': 'poor',
    'poor': 'poor',
    '一般农户': 'ordinary', '非贫困户': 'ordinary', '一般户': 'ordinary',
    'ordinary': 'ordinary',
    }


class RowError(Exception):
    def __init__(self, message_id, **kwargs):
        super().__init__(message_id)
        self.message_id = message_id
        self.kwargs = kwargs


def _text(value):
    if value is None:
        return ''
    if isinstance(value, float):
        if value.is_integer():
            value = int(value)
        else:
            return str(value).strip()
    return str(value).strip()


def _date(value):
    if value in (None, ''):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).replace('年', '-').replace('月', '-').replace(
        '日', '').replace('/', '-').replace('.', '-')
    try:
        return dt.date(*map(int, text.split('-')))
    except (TypeError, ValueError):
        raise RowError(
            'huinong_household.msg_import_bad_date', value=_text(value))


def read_rows(data, filename):
    """Return the header and the rows of the file as lists of values,
    with their row numbers (1 is the first line of the file)"""
    filename = (filename or '').lower()
    data = bytes(data)
    if filename.endswith('.xlsx') or data[:2] == b'PK':
        try:
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise RowError('huinong_household.msg_import_bad_xlsx')
        sheet = workbook.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        workbook.close()
    elif filename.endswith('.csv') or not filename:
        for encoding in ['utf-8-sig', 'gb18030']:
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RowError('huinong_household.msg_import_bad_encoding')
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise RowError('huinong_household.msg_import_bad_format')
    numbered = [(i, r) for i, r in enumerate(rows, 1)
        if any(_text(v) for v in r)]
    if not numbered:
        raise RowError('huinong_household.msg_import_empty')
    (header_number, header), *body = numbered
    return header, body


def map_header(header):
    aliases = {}
    for key, names in COLUMNS.items():
        for name in names:
            aliases[name.lower()] = key
    mapping = {}
    for index, cell in enumerate(header):
        key = aliases.get(_text(cell).lower())
        if key and key not in mapping:
            mapping[key] = index
    missing = [COLUMNS[k][0] for k in REQUIRED_COLUMNS if k not in mapping]
    if missing:
        raise RowError(
            'huinong_household.msg_import_missing_columns',
            columns='、'.join(missing))
    return mapping


class HouseholdImportStart(ModelView):
    "Import Households"
    __name__ = 'huinong.household.import.start'

    file = fields.Binary("File", required=True, filename='filename')
    filename = fields.Char("File Name")
    columns = fields.Text("Columns", readonly=True)

    @classmethod
    def default_columns(cls):
        return gettext('huinong_household.msg_import_columns_help')


class HouseholdImportResult(ModelView):
    "Import Households Result"
    __name__ = 'huinong.household.import.result'

    success = fields.Boolean("Success", readonly=True)
    created = fields.Integer("Households Created", readonly=True)
    updated = fields.Integer("Households Updated", readonly=True)
    members = fields.Integer("Members Imported", readonly=True)
    errors = fields.Text("Errors", readonly=True)


class HouseholdImport(Wizard):
    "Import Households"
    __name__ = 'huinong.household.import'

    start = StateView(
        'huinong.household.import.start',
        'huinong_household.household_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView(
        'huinong.household.import.result',
        'huinong_household.household_import_result_view_form', [
            Button("Choose Another File", 'start', 'tryton-back'),
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_import_(self):
        households, errors = self.check(self.start.file, self.start.filename)
        if errors:
            self.result.success = False
            self.result.created = self.result.updated = 0
            self.result.members = 0
            self.result.errors = '\n'.join(errors)
        else:
            with check_access():
                created, updated, members = self.apply(households)
            self.result.success = True
            self.result.created = created
            self.result.updated = updated
            self.result.members = members
            self.result.errors = ''
        return 'result'

    def default_result(self, fields):
        return {
            'success': self.result.success,
            'created': self.result.created,
            'updated': self.result.updated,
            'members': self.result.members,
            'errors': self.result.errors,
            }

    @classmethod
    def check(cls, data, filename):
        """Read and check the whole file.
        Return the households to import (an ordered dictionary by the head's
        resident ID) and the list of translated error lines."""
        pool = Pool()
        Area = pool.get('huinong.area')
        Party = pool.get('party.party')
        Member = pool.get('huinong.household.member')
        User = pool.get('res.user')

        errors = []

        def error(row, message_id, **kwargs):
            errors.append((row, gettext(
                        'huinong_household.msg_import_row', row=row,
                        message=gettext(message_id, **kwargs))))

        try:
            header, body = read_rows(data, filename)
            mapping = map_header(header)
        except RowError as e:
            return {}, [gettext(e.message_id, **e.kwargs)]


        def cell(row, key):
            index = mapping.get(key)
            if index is None or index >= len(row):
                return None
            return row[index]

        villages = Area.search([('type', '=', 'village')])
        by_code = {v.code: v for v in villages}
        by_name = {}
        for village in villages:
            by_name.setdefault(village.name, []).append(village)
        allowed_villages = User.get_huinong_villages()

        households = OrderedDict()
        member_rows = []
        seen_ids = {}
        # Heads whose row has an error: their members are not reported again
        failed_heads = set()
        for number, row in body:
            if any(isinstance(v, float) and len(_text(v)) >= 15
                    for v in (cell(row, 'head_id'), cell(row, 'resident_id'))):
                error(number, 'huinong_household.msg_import_id_as_number')
                continue
            head_id = relation = None
            try:
                head_id = compact_resident_id(_text(cell(row, 'head_id')))
                if not head_id:
                    raise RowError(
                        'huinong_household.msg_import_bad_resident_id',
                        value=_text(cell(row, 'head_id')))
                name = _text(cell(row, 'name'))
                if not name:
                    raise RowError('huinong_household.msg_import_no_name')
                relation_text = _text(cell(row, 'relation'))
                relation = RELATIONS.get(relation_text) or RELATIONS.get(
                    relation_text.lower())
                if not relation:
                    raise RowError(
                        'huinong_household.msg_import_bad_relation',
                        value=relation_text)
                resident_text = _text(cell(row, 'resident_id'))
                resident_id = None
                if resident_text:
                    resident_id = compact_resident_id(resident_text)
                    if not resident_id:
                        raise RowError(
                            'huinong_household.msg_import_bad_resident_id',
                            value=resident_text)
                birth_date = _date(cell(row, 'birth_date'))
                if relation == HEAD:
                    if resident_id and resident_id != head_id:
                        raise RowError(
                            'huinong_household.msg_import_head_id_mismatch')
                    resident_id = head_id
                if resident_id:
                    if resident_id in seen_ids:
                        raise RowError(
                            'huinong_household.msg_import_duplicate_id',
                            value=resident_id, other=seen_ids[resident_id])
                    seen_ids[resident_id] = number
                    birth_date = resident_id_birth_date(resident_id)

                if relation != HEAD:
                    member_rows.append((number, head_id, {
                                'name': name,
                                'relation': relation,
                                'resident_id': resident_id,
                                'birth_date': birth_date,
                                }))
                    continue

                village_text = _text(cell(row, 'village'))
                if not village_text:
                    raise RowError('huinong_household.msg_import_no_village')
                village = by_code.get(village_text)
                if not village:
                    candidates = by_name.get(village_text, [])
                    if len(candidates) > 1:
                        raise RowError(
                            'huinong_household.msg_import_ambiguous_village',
                            value=village_text)
                    if not candidates:
                        raise RowError(
                            'huinong_household.msg_import_unknown_village',
                            value=village_text)
                    village, = candidates
                if (allowed_villages is not None
                        and village.id not in allowed_villages):
                    raise RowError(
                        'huinong_household.msg_import_village_not_allowed',
                        value=village.rec_name)
                mobile_text = _text(cell(row, 'mobile'))
                mobile = None
                if mobile_text:
                    mobile = parse_cn_mobile(mobile_text)
                    if not mobile:
                        raise RowError(
                            'huinong_household.msg_import_bad_mobile',
                            value=mobile_text)
                class_text = _text(cell(row, 'classification'))
                classification = CLASSES.get(class_text) or CLASSES.get(
                    class_text.lower())
                if not classification:
                    raise RowError(
                        'huinong_household.msg_import_bad_class',
                        value=class_text)
                class_start = _date(cell(row, 'class_start'))
                households[head_id] = {
                    'row': number,
                    'name': name,
                    'village': village,
                    'mobile': mobile,
                    'residence': _text(cell(row, 'residence')) or None,
                    'classification': classification,
                    'class_start': class_start,
                    'members': [],
                    }
            except RowError as e:
                error(number, e.message_id, **e.kwargs)
                if relation == HEAD and head_id:
                    failed_heads.add(head_id)

        # Members belong to a household of the file or of the database
        existing = {}
        head_ids = {h for _, h, _ in member_rows} | set(households)
        if head_ids:
            for party in Party.search([
                        ('huinong_household', '=', True),
                        ('huinong_resident_id', 'in', list(head_ids)),
                        ]):
                existing[compact_resident_id(
                        party.huinong_resident_id)] = party
        for number, head_id, values in member_rows:
            if head_id in failed_heads:
                continue
            if head_id in households:
                households[head_id]['members'].append((number, values))
            elif head_id in existing:
                party = existing[head_id]
                if (allowed_villages is not None
                        and party.huinong_village.id not in allowed_villages):
                    error(number,
                        'huinong_household.msg_import_village_not_allowed',
                        value=party.huinong_village.rec_name)
                    continue
                households[head_id] = {
                    'row': number,
                    'party': party,
                    'members': [(number, values)],
                    }
            else:
                error(number, 'huinong_household.msg_import_no_head',
                    value=head_id)
        for head_id, household in households.items():
            household.setdefault('party', existing.get(head_id))

        # A person is the head or a member of one household only
        head_ids = [h for h, v in households.items() if 'name' in v]
        if head_ids:
            for member in Member.search([('resident_id', 'in', head_ids)]):
                error(households[member.resident_id]['row'],
                    'huinong_household.msg_import_head_is_member',
                    value=member.resident_id,
                    household=member.household.rec_name)
        member_ids = {m['resident_id']: (head_id, number)
            for head_id, h in households.items()
            for number, m in h['members'] if m['resident_id']}
        if member_ids:
            for party in Party.search([
                        ('huinong_household', '=', True),
                        ('huinong_resident_id', 'in', list(member_ids)),
                        ]):
                code = compact_resident_id(party.huinong_resident_id)
                error(member_ids[code][1],
                    'huinong_household.msg_import_member_is_head',
                    value=code, household=party.rec_name)
            for member in Member.search([
                        ('resident_id', 'in', list(member_ids)),
                        ]):
                head_id, number = member_ids[member.resident_id]
                if member.household != households[head_id]['party']:
                    error(number,
                        'huinong_household.msg_import_member_elsewhere',
                        value=member.resident_id,
                        household=member.household.rec_name)
        errors.sort(key=lambda e: e[0])
        return households, [text for _, text in errors]

    @classmethod
    def apply(cls, households):
        """Create or update the checked households.
        Return the numbers of households created, updated and members
        imported."""
        pool = Pool()
        Party = pool.get('party.party')
        Member = pool.get('huinong.household.member')
        Class = pool.get('huinong.household.class')
        Date = pool.get('ir.date')
        today = Date.today()

        to_create, to_update = [], []
        for head_id, household in households.items():
            if 'name' not in household:
                continue
            values = {
                'name': household['name'],
                'huinong_village': household['village'].id,
                'huinong_residence': household['residence'],
                }
            if household['mobile']:
                values['huinong_mobile'] = household['mobile']
            if household['party']:
                to_update.append((household['party'], values))
            else:
                values['huinong_household'] = True
                values['huinong_resident_id'] = head_id
                to_create.append((head_id, values))

        if to_create:
            created = Party.create([v for _, v in to_create])
            for (head_id, _), party in zip(to_create, created):
                households[head_id]['party'] = party
        if to_update:
            args = []
            for party, values in to_update:
                args.extend(([party], values))
            Party.write(*args)

        # Classes: a new period starts when the class changes
        parties = [h['party'] for h in households.values()
            if 'classification' in h]
        current = {}
        for record in Class.search([
                    ('household', 'in', [p.id for p in parties]),
                    ('end_date', '=', None),
                    ]):
            current[record.household.id] = record
        new_classes, closed = [], []
        for household in households.values():
            if 'classification' not in household:
                continue
            party = household['party']
            start = household['class_start'] or today
            record = current.get(party.id)
            if record and record.classification == household[
                    'classification']:
                continue
            if record:
                if start <= record.start_date:
                    start = record.start_date + dt.timedelta(days=1)
                record.end_date = start - dt.timedelta(days=1)
                closed.append(record)
            new_classes.append(Class(
                    household=party,
                    classification=household['classification'],
                    start_date=start))
        Class.save(closed)
        Class.save(new_classes)

        # Members: matched on resident ID, else on name
        existing = {}
        for member in Member.search([
                    ('household', 'in',
                        [h['party'].id for h in households.values()]),
                    ]):
            key = member.resident_id or member.name
            existing[(member.household.id, key)] = member
        to_save = []
        count = 0
        for household in households.values():
            party = household['party']
            for _, values in household['members']:
                count += 1
                key = values['resident_id'] or values['name']
                member = existing.get((party.id, key))
                if not member:
                    member = Member(household=party)
                member.name = values['name']
                member.relation = values['relation']
                member.resident_id = values['resident_id']
                if values['birth_date']:
                    member.birth_date = values['birth_date']
                to_save.append(member)
        Member.save(to_save)
        return len(to_create), len(to_update), count

