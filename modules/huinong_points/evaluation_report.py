# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The reports of the monthly evaluation: the public notice (公示), the
detail sheet (附件2), the approval sheet (附件11), the villages without a
sheet and the township's monthly statistics sent to the county HQ
(附件10)."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.huinong_household.household import CLASSIFICATIONS
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import Report
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateReport, StateView, Wizard

from .evaluation import month_bounds
from .exceptions import EvaluationError

NOTICE_STATES = {'published', 'posted'}


def _to_date(value):
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _following_month(date):
    return month_bounds(date)[1] + dt.timedelta(days=1)


def credited_points(party_ids):
    """Return {party id: points credited to date}: the credits of the
    household points account (sheets, transfers in), draft moves included"""
    pool = Pool()
    Configuration = pool.get('huinong.configuration')
    Line = pool.get('account.move.line')
    result = {i: Decimal(0) for i in party_ids}
    account = Configuration(1).points_account
    if not account or not party_ids:
        return result
    cursor = Transaction().connection.cursor()
    line = Line.__table__()
    for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS):
        query = line.select(
            line.party.as_('party'),
            Sum(Coalesce(line.credit, 0)).as_('credit'),
            where=(line.account == account.id)
            & fields.SQL_OPERATORS['in'](line.party, list(sub_ids)),
            group_by=line.party)
        if backend.name == 'sqlite':
            sqlite_apply_types(query, [None, 'NUMERIC'])
        cursor.execute(*query)
        for party_id, credit in cursor:
            result[party_id] = Decimal(credit or 0)
    return result


class _SheetReport(Report):

    @classmethod
    def _sheet_lines(cls, sheet):
        "The lines of the sheet sorted by household name"
        return sorted(sheet.lines, key=lambda l: (l.household.name, l.id))

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        Line = pool.get('huinong.evaluation.line')
        context['today'] = Date.today()
        # The class names in the user's language
        context['classes'] = dict(
            Line.fields_get(['classification'])['classification'][
                'selection'])
        return context


class EvaluationNotice(_SheetReport):
    "Evaluation Notice"
    __name__ = 'huinong.evaluation.notice'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        for sheet in records:
            if sheet.state not in NOTICE_STATES:
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_notice_state',
                        evaluation=sheet.rec_name))
        # The sheets passed the read check: their households' credits are
        # shown whatever the user's access to the ledger
        with without_check_access():
            credited = credited_points(list({
                        l.household.id for s in records for l in s.lines}))
        notices = []
        for sheet in records:
            rows = []
            for line in cls._sheet_lines(sheet):
                cumulative = credited[line.household.id]
                if sheet.state != 'posted':
                    # The sheet's points are not credited yet
                    cumulative += line.points or 0
                rows.append({
                        # The head of household's name only: never an ID
                        # number or a phone on a notice board
                        'name': line.household.name,
                        'points': line.points or Decimal(0),
                        'cumulative': cumulative,
                        })
            notices.append({
                    'sheet': sheet,
                    'rows': rows,
                    'evaluators': '、'.join(
                        u.name for u in sheet.evaluators),
                    })
        context['notices'] = notices
        return context


class EvaluationDetail(_SheetReport):
    "Evaluation Detail Sheet"
    __name__ = 'huinong.evaluation.detail'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Criterion = pool.get('huinong.evaluation.criterion')
        context = super().get_context(records, header, data)
        active = Criterion.search([])
        details = []
        for sheet in records:
            criteria = list(active)
            for line in sheet.lines:
                for score in line.scores:
                    if score.criterion not in criteria:
                        criteria.append(score.criterion)
            rows = []
            for line in cls._sheet_lines(sheet):
                scores = {s.criterion.id: s.score for s in line.scores}
                rows.append({
                        'name': line.household.name,
                        'class': context['classes'].get(
                            line.classification, ''),
                        'scores': [
                            (c.name, scores.get(c.id)) for c in criteria],
                        'points': line.points or Decimal(0),
                        })
            details.append({
                    'sheet': sheet,
                    'criteria': criteria,
                    'rows': rows,
                    })
        context['details'] = details
        return context


class EvaluationApprovalSheet(_SheetReport):
    "Evaluation Approval Sheet"
    __name__ = 'huinong.evaluation.approval_sheet'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Approval = pool.get('huinong.approval')
        context = super().get_context(records, header, data)
        context['action_strings'] = dict(
            Approval.fields_get(['action'])['action']['selection'])
        sheets = []
        for sheet in records:
            by_class = defaultdict(lambda: [0, Decimal(0)])
            for line in sheet.lines:
                by_class[line.classification][0] += 1
                by_class[line.classification][1] += line.points or 0
            sheets.append({
                    'sheet': sheet,
                    'classes': [
                        (context['classes'].get(k, s),
                            by_class[k][0], by_class[k][1])
                        for k, s in CLASSIFICATIONS],
                    'approvals': list(sheet.approvals),
                    'objections': list(sheet.objections),
                    })
        context['sheets'] = sheets
        return context


class MissingStart(ModelView):
    "Villages without Evaluation"
    __name__ = 'huinong.evaluation.missing.start'

    month = fields.Date(
        "Month", required=True,
        help="Any day of the month to check.")
    township = fields.Many2One(
        'huinong.area', "Township", domain=[('type', '=', 'township')])

    @classmethod
    def default_month(cls):
        return Pool().get('ir.date').today().replace(day=1)


class Missing(Wizard):
    "Villages without Evaluation"
    __name__ = 'huinong.evaluation.missing'

    start = StateView('huinong.evaluation.missing.start',
        'huinong_points.evaluation_missing_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('huinong.evaluation.missing.report')

    def do_print_(self, action):
        return action, {
            'month': self.start.month,
            'township': (
                self.start.township.id if self.start.township else None),
            }

    def transition_print_(self):
        return 'end'


class MissingReport(Report):
    "Villages without Evaluation"
    __name__ = 'huinong.evaluation.missing.report'

    @classmethod
    def get_missing(cls, month, township=None):
        """Return the villages in the user's scope (and in the township)
        without a sheet, other than cancelled, dated in the month"""
        pool = Pool()
        Area = pool.get('huinong.area')
        Evaluation = pool.get('huinong.evaluation')
        User = pool.get('res.user')
        first, last = month_bounds(month)
        domain = [('type', '=', 'village')]
        scope = User.get_huinong_villages()
        if scope is not None:
            domain.append(('id', 'in', list(scope)))
        if township:
            domain.append(('parent', '=', township))
        villages = Area.search(domain, order=[
                ('parent.name', 'ASC'), ('name', 'ASC'), ('id', 'ASC')])
        with without_check_access():
            sheets = Evaluation.search([
                    ('village', 'in', [v.id for v in villages]),
                    ('date', '>=', first),
                    ('date', '<=', last),
                    ('state', '!=', 'cancelled'),
                    ])
        done = {s.village.id for s in sheets}
        return [v for v in villages if v.id not in done]

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        Area = pool.get('huinong.area')
        context = super().get_context(records, header, data)
        month = _to_date(data.get('month')) or Date.today()
        township = data.get('township')
        context['month'] = month.strftime('%Y-%m')
        context['township'] = Area(township) if township else None
        context['villages'] = cls.get_missing(month, township)
        context['today'] = Date.today()
        return context


class TownshipReport(Workflow, ModelSQL, ModelView):
    "Township Monthly Report"
    __name__ = 'huinong.evaluation.township_report'

    township = fields.Many2One(
        'huinong.area', "Township", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'township')],
        states={
            'readonly': Eval('state') != 'draft',
            })
    month = fields.Date(
        "Month", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The first day of the month reported.")
    month_string = fields.Function(fields.Char("Month"), 'get_month_string')
    state = fields.Selection([
            ('draft', "Draft"),
            ('sent', "Sent"),
            ], "State", readonly=True, required=True, sort=False)
    sent_by = fields.Many2One('res.user', "Sent By", readonly=True)
    sent_at = fields.DateTime("Sent At", readonly=True)
    deadline = fields.Function(fields.Date("Deadline"), 'get_deadline')
    late = fields.Function(fields.Boolean("Late",
            help="Not sent to the county HQ by the deadline."),
        'get_late', searcher='search_late')
    villages = fields.Function(fields.Integer("Villages"), 'get_figures')
    villages_posted = fields.Function(
        fields.Integer("Villages with Posted Sheet"), 'get_figures')
    households = fields.Function(
        fields.Integer("Households Scored"), 'get_figures')
    poor_points = fields.Function(fields.Numeric(
            "Points to Poor Households", digits=(16, 0)), 'get_figures')
    ordinary_points = fields.Function(fields.Numeric(
            "Points to Ordinary Households", digits=(16, 0)), 'get_figures')
    points = fields.Function(fields.Numeric(
            "Points Credited", digits=(16, 0)), 'get_figures')
    objections = fields.Function(
        fields.Integer("Objections"), 'get_figures')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('township_month_unique', Unique(t, t.township, t.month),
                'huinong_points.msg_township_report_unique'),
            ]
        cls._order = [('month', 'DESC'), ('township', 'ASC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'sent')}
        cls._buttons.update({
                'send': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_month(cls):
        today = Pool().get('ir.date').today()
        return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    @classmethod
    def default_township(cls):
        User = Pool().get('res.user')
        if User.is_huinong_county_wide():
            return
        townships = User.get_huinong_scope()[1]
        if len(townships) == 1:
            return townships[0]

    def get_rec_name(self, name):
        return '%s %s' % (
            self.township.rec_name if self.township else '',
            self.month_string or '')

    def get_month_string(self, name):
        if self.month:
            return self.month.strftime('%Y-%m')

    @classmethod
    def _deadline(cls, month):
        Configuration = Pool().get('huinong.configuration')
        day = Configuration(1).township_report_day or 20
        return _following_month(month).replace(day=day)

    def get_deadline(self, name):
        if self.month:
            return self._deadline(self.month)

    def _is_late(self, today):
        deadline = self._deadline(self.month)
        if self.state == 'sent' and self.sent_at:
            return self.sent_at.date() > deadline
        return today > deadline

    @classmethod
    def get_late(cls, reports, name):
        today = Pool().get('ir.date').today()
        return {r.id: r._is_late(today) for r in reports}

    @classmethod
    def search_late(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return [('id', '=', -1)]
        wanted = bool(value) if operator == '=' else not bool(value)
        today = Pool().get('ir.date').today()
        # Few records: a township a month
        with without_check_access():
            reports = cls.search([])
        ids = [r.id for r in reports if r._is_late(today) == wanted]
        return [('id', 'in', ids)]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('month'):
            values['month'] = _to_date(values['month']).replace(day=1)
        return values

    @classmethod
    def get_figures(cls, reports, names):
        pool = Pool()
        Area = pool.get('huinong.area')
        Evaluation = pool.get('huinong.evaluation')
        result = {n: {} for n in names}
        with without_check_access():
            for report in reports:
                first, last = month_bounds(report.month)
                villages = Area.search_count([
                        ('type', '=', 'village'),
                        ('parent', '=', report.township.id),
                        ])
                sheets = Evaluation.search([
                        ('village.parent', '=', report.township.id),
                        ('date', '>=', first),
                        ('date', '<=', last),
                        ('state', '!=', 'cancelled'),
                        ])
                posted = [s for s in sheets if s.state == 'posted']
                points = defaultdict(Decimal)
                households = set()
                for sheet in posted:
                    for line in sheet.lines:
                        households.add(line.household.id)
                        points[line.classification] += line.points or 0
                figures = {
                    'villages': villages,
                    'villages_posted': len({s.village.id for s in posted}),
                    'households': len(households),
                    'poor_points': points['poor'],
                    'ordinary_points': points['ordinary'],
                    'points': sum(points.values(), Decimal(0)),
                    'objections': sum(len(s.objections) for s in sheets),
                    }
                for name in names:
                    result[name][report.id] = figures[name]
        return result

    @classmethod
    def check_modification(cls, mode, reports, values=None, external=False):
        super().check_modification(
            mode, reports, values=values, external=external)
        if mode in {'write', 'delete'}:
            for report in reports:
                if report.state == 'sent':
                    raise AccessError(gettext(
                            'huinong_points.msg_township_report_sent',
                            report=report.rec_name))
        # Only the send button records the sending
        if external and (
                (mode == 'write'
                    and {'state', 'sent_by', 'sent_at'} & set(values))
                or (mode == 'create' and any(
                        r.state != 'draft' or r.sent_by or r.sent_at
                        for r in reports))):
            raise AccessError(gettext(
                    'huinong_points.msg_township_report_send_button'))

    @classmethod
    def check_township(cls, reports):
        "Only the township's own office or government sends its report"
        pool = Pool()
        User = pool.get('res.user')
        if not Transaction().user:
            return
        townships = set(User.get_huinong_scope()[1])
        for report in reports:
            if report.township.id not in townships:
                raise AccessError(gettext(
                        'huinong_points.msg_township_report_township',
                        report=report.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('sent')
    def send(cls, reports):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.check_township(reports)
        cls.write(reports, {
                'sent_by': Transaction().user or None,
                'sent_at': dt.datetime.combine(
                    Date.today(), dt.datetime.now().time()),
                })


class TownshipReportPrint(Report):
    "Township Monthly Report"
    __name__ = 'huinong.evaluation.township_report.report'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        context['today'] = Date.today()
        return context
