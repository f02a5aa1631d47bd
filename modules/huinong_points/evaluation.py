# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The monthly evaluation (评比) of a village's households, its approval
chain, the public notice and the credit of the points (R-PTS-2..4)."""
import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from sql import Literal
from sql.aggregate import Count, Sum
from sql.conditionals import Case

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, Workflow, fields,
    sequence_ordered)
from trytond.exceptions import UserWarning
from trytond.model.exceptions import AccessError
from trytond.modules.huinong.approval import (
    ApprovalMixin, ApprovalStep, approval_at_field, approval_by_field,
    approval_step)
from trytond.modules.huinong_household.household import CLASSIFICATIONS
from trytond.modules.huinong.tools import record_gettext
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import CapError, EvaluationError

logger = logging.getLogger(__name__)

# The caps of the plan (R-PTS-2), used for a year without its own caps
DEFAULT_CAPS = {
    'poor': (Decimal(110), Decimal(1335)),
    'ordinary': (Decimal(68), Decimal(831)),
    }
# Sheets in these states count against the caps when a sheet is submitted
CAP_STATES = [
    'submitted', 'committee_reviewed', 'township_reviewed', 'approved',
    'published', 'posted']
EDITABLE = ['draft', 'returned']
MIN_EVALUATORS = 3
# The scoring grid: one column per criterion, in the criteria's order, as
# the score_1 .. score_N fields of a sheet's line (the criteria are data
# the county edits; a model's fields are not).  Criteria beyond N are
# scored in the line's form.
SCORE_SLOTS = 12
SLOT_NAMES = ['score_%d' % i for i in range(1, SCORE_SLOTS + 1)]


def month_bounds(date):
    "Return the first and the last day of the month of date"
    first = date.replace(day=1)
    if first.month == 12:
        following = first.replace(year=first.year + 1, month=1)
    else:
        following = first.replace(month=first.month + 1)
    return first, following - dt.timedelta(days=1)


def _whole(value):
    return value is not None and Decimal(value) % 1 == 0


class Configuration(metaclass=PoolMeta):
    __name__ = 'huinong.configuration'

    evaluation_notice_days = fields.Integer(
        "Notice Period (Days)", required=True,
        domain=[('evaluation_notice_days', '>=', 1)],
        help="How many days a published evaluation sheet stays on the "
        "notice boards before its points can be credited.")
    township_report_day = fields.Integer(
        "Township Report Deadline (Day)", required=True,
        domain=[
            ('township_report_day', '>=', 1),
            ('township_report_day', '<=', 28),
            ],
        help="Day of the following month by which a township sends its "
        "monthly approval sheets and statistics to the county HQ.")

    @classmethod
    def default_evaluation_notice_days(cls):
        return 3

    @classmethod
    def default_township_report_day(cls):
        return 20


class Criterion(sequence_ordered(), DeactivableMixin, ModelSQL, ModelView):
    "Evaluation Criterion"
    __name__ = 'huinong.evaluation.criterion'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True,
        help="Short code, also the column heading of the score import.")
    maximum = fields.Numeric(
        "Maximum Score", digits=(16, 0), required=True,
        domain=[('maximum', '>', 0)])
    description = fields.Text("Description", translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'huinong_points.msg_criterion_code_unique'),
            ]

    @classmethod
    def validate_fields(cls, criteria, field_names):
        super().validate_fields(criteria, field_names)
        for criterion in criteria:
            if not _whole(criterion.maximum):
                raise EvaluationError(gettext(
                        'huinong_points.msg_criterion_maximum_whole',
                        criterion=criterion.rec_name))


class Cap(ModelSQL, ModelView):
    "Points Cap"
    __name__ = 'huinong.evaluation.cap'

    year = fields.Integer("Year", required=True,
        domain=[('year', '>=', 2000)])
    classification = fields.Selection(
        CLASSIFICATIONS, "Class", required=True, sort=False)
    monthly = fields.Numeric(
        "Monthly Cap", digits=(16, 0), required=True,
        domain=[('monthly', '>', 0)])
    yearly = fields.Numeric(
        "Yearly Cap", digits=(16, 0), required=True,
        domain=[('yearly', '>=', Eval('monthly', 0))])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('year_class_unique', Unique(t, t.year, t.classification),
                'huinong_points.msg_cap_unique'),
            ]
        cls._order = [
            ('year', 'DESC'), ('classification', 'ASC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        classes = dict(self.fields_get(
                ['classification'])['classification']['selection'])
        return '%s %s' % (self.year, classes.get(self.classification, ''))

    @classmethod
    def get_caps(cls, year):
        """Return {classification: (monthly, yearly)} in force for the
        year: the caps of the year, else of the latest earlier year, else
        the plan's."""
        caps = dict(DEFAULT_CAPS)
        found = set()
        with without_check_access():
            records = cls.search([('year', '<=', year)])
        for record in records:  # latest year first
            if record.classification not in found:
                caps[record.classification] = (record.monthly, record.yearly)
                found.add(record.classification)
        return caps


class Evaluation(ApprovalMixin, ModelSQL, ModelView):
    "Evaluation Sheet"
    __name__ = 'huinong.evaluation'
    _history = True

    village = fields.Many2One(
        'huinong.area', "Village", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'village')],
        states={
            'readonly': ~Eval('state').in_(EDITABLE) | Eval('lines', [0]),
            })
    township = fields.Function(fields.Many2One(
            'huinong.area', "Township"),
        'on_change_with_township', searcher='search_township')
    date = fields.Date(
        "Scoring Date", required=True,
        states={
            'readonly': ~Eval('state').in_(EDITABLE),
            },
        help="The day of the scoring session; its month and year are the "
        "ones whose caps apply.")
    month = fields.Function(fields.Char("Month"), 'get_month')
    evaluators = fields.Many2Many(
        'huinong.evaluation-res.user', 'evaluation', 'user', "Evaluators",
        states={
            'readonly': ~Eval('state').in_(EDITABLE),
            },
        help="At least three members of the village's evaluation group; "
        "never a member of its supervision group.")
    lines = fields.One2Many(
        'huinong.evaluation.line', 'evaluation', "Households",
        states={
            'readonly': ~Eval('state').in_(EDITABLE) | ~Eval('village'),
            })
    objections = fields.One2Many(
        'huinong.evaluation.objection', 'evaluation', "Objections",
        readonly=True)
    household_count = fields.Function(
        fields.Integer("Households Scored"), 'get_totals')
    total_points = fields.Function(
        fields.Numeric("Total Points", digits=(16, 0)), 'get_totals')
    opinion = fields.Text(
        "Evaluation Group Opinion",
        states={
            'readonly': ~Eval('state').in_(EDITABLE),
            },
        help="The group's opinion submitted with the sheet (attachment 11).")
    notice_start = fields.Date("Notice From", readonly=True)
    notice_end = fields.Date("Notice Until", readonly=True,
        help="The last day of the public notice; the points can be "
        "credited from the following day.")
    move = fields.Many2One(
        'account.move', "Points Move", readonly=True,
        states={
            'invisible': ~Eval('move'),
            })
    state = fields.Selection([
            ('draft', "Draft"),
            ('returned', "Returned"),
            ('submitted', "Submitted"),
            ('committee_reviewed', "Reviewed by Village Committee"),
            ('township_reviewed', "Reviewed by Township Office"),
            ('approved', "Approved by Township Government"),
            ('published', "Published"),
            ('posted', "Posted"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    submitted_by = approval_by_field("Submitted By")
    submitted_at = approval_at_field("Submitted At")
    committee_reviewed_by = approval_by_field("Village Committee Reviewer")
    committee_reviewed_at = approval_at_field("Village Committee Reviewed At")
    township_reviewed_by = approval_by_field("Township Office Reviewer")
    township_reviewed_at = approval_at_field("Township Office Reviewed At")
    approved_by = approval_by_field("Approved By")
    approved_at = approval_at_field("Approved At")
    published_by = approval_by_field("Published By")
    published_at = approval_at_field("Published At")
    posted_by = approval_by_field("Posted By")
    posted_at = approval_at_field("Posted At")

    _approval_steps = {
        'submit': ApprovalStep(
            ['huinong.group_evaluation'],
            'village', 'submitted_by', 'submitted_at'),
        'committee_review': ApprovalStep(
            ['huinong.group_village_committee'],
            'village', 'committee_reviewed_by', 'committee_reviewed_at'),
        'township_review': ApprovalStep(
            ['huinong.group_township_office'],
            'township', 'township_reviewed_by', 'township_reviewed_at'),
        'approve': ApprovalStep(
            ['huinong.group_township_government'],
            'township', 'approved_by', 'approved_at'),
        'publish': ApprovalStep(
            ['huinong.group_evaluation'],
            'village', 'published_by', 'published_at'),
        }
    _approval_first = 'submit'
    _approval_first_states = ('draft', 'returned')
    _approval_next = {
        'submitted': 'committee_review',
        'committee_reviewed': 'township_review',
        'township_reviewed': 'approve',
        'approved': 'publish',
        }
    # Steps that judge the evaluators' work: an evaluator may not do them
    _review_steps = {'committee_review', 'township_review', 'approve'}

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('date', 'DESC'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('returned', 'submitted'),
            ('submitted', 'committee_reviewed'),
            ('committee_reviewed', 'township_reviewed'),
            ('township_reviewed', 'approved'),
            ('approved', 'published'),
            ('published', 'posted'),
            ('submitted', 'returned'),
            ('committee_reviewed', 'returned'),
            ('township_reviewed', 'returned'),
            ('approved', 'returned'),
            ('published', 'returned'),
            ('draft', 'cancelled'),
            ('returned', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'fill_lines': {
                    'invisible': ~Eval('state').in_(EDITABLE),
                    'readonly': ~Eval('village'),
                    'depends': ['state', 'village'],
                    },
                'submit': {
                    'invisible': ~Eval('state').in_(EDITABLE),
                    'readonly': ~Eval('lines', []),
                    'depends': ['state', 'lines'],
                    },
                'committee_review': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'township_review': {
                    'invisible': Eval('state') != 'committee_reviewed',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'township_reviewed',
                    'depends': ['state'],
                    },
                'publish': {
                    'invisible': Eval('state') != 'approved',
                    'depends': ['state'],
                    },
                'post': {
                    'invisible': Eval('state') != 'published',
                    'depends': ['state'],
                    },
                'return_wizard': {
                    'invisible': ~Eval('state').in_(
                        list(cls._approval_next)),
                    'depends': ['state'],
                    },
                'objection_wizard': {
                    'invisible': Eval('state') != 'published',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(EDITABLE),
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_village(cls):
        User = Pool().get('res.user')
        villages = User.get_huinong_villages()
        if villages and len(villages) == 1:
            return list(villages)[0]

    def get_rec_name(self, name):
        return '%s %s' % (
            self.village.rec_name if self.village else '',
            self.date.strftime('%Y-%m') if self.date else '')

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('village.rec_name',) + tuple(clause[1:])]

    @fields.depends('village')
    def on_change_with_township(self, name=None):
        if self.village:
            return self.village.parent

    @classmethod
    def search_township(cls, name, clause):
        nested = clause[0][len(name):]
        return [('village.parent' + nested, *clause[1:])]

    def get_month(self, name):
        if self.date:
            return self.date.strftime('%Y-%m')

    @classmethod
    def get_totals(cls, evaluations, names):
        points = cls.line_points_by_evaluation([e.id for e in evaluations])
        result = {n: {} for n in names}
        for evaluation in evaluations:
            count, total = points.get(evaluation.id, (0, Decimal(0)))
            if 'household_count' in result:
                result['household_count'][evaluation.id] = count
            if 'total_points' in result:
                result['total_points'][evaluation.id] = total
        return result

    @fields.depends('lines')
    def on_change_with_total_points(self, name=None):
        "The sheet's total while it is scored"
        return sum((getattr(l, 'points', None) or Decimal(0)
                for l in (self.lines or [])), Decimal(0))

    @fields.depends('lines')
    def on_change_with_household_count(self, name=None):
        return len({l.household for l in (self.lines or [])
                if getattr(l, 'household', None)})

    @classmethod
    def line_points_by_evaluation(cls, ids):
        "Return {evaluation id: (households, points)} in one query a slice"
        pool = Pool()
        Line = pool.get('huinong.evaluation.line')
        Score = pool.get('huinong.evaluation.score')
        line = Line.__table__()
        score = Score.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            query = line.join(score, 'LEFT',
                condition=score.line == line.id
                ).select(
                    line.evaluation,
                    Count(line.household, distinct=True),
                    Sum(score.score),
                    where=fields.SQL_OPERATORS['in'](
                        line.evaluation, list(sub_ids)),
                    group_by=[line.evaluation])
            cursor.execute(*query)
            for evaluation_id, count, total in cursor:
                result[evaluation_id] = (
                    count or 0, Decimal(total or 0).quantize(Decimal(1)))
        return result

    def get_approval_area(self, scope):
        if scope == 'village':
            return self.village
        return self.village.parent if self.village else None

    @classmethod
    def check_approval(cls, records, step):
        super().check_approval(records, step)
        user_id = Transaction().user
        if step in cls._review_steps and user_id:
            for record in records:
                if user_id in {u.id for u in record.evaluators}:
                    raise EvaluationError(gettext(
                            'huinong_points.msg_evaluation_evaluator_review',
                            evaluation=record.rec_name))

    @classmethod
    def _approval_protected_fields(cls):
        return super()._approval_protected_fields() | {
            'notice_start', 'notice_end', 'move', 'posted_by', 'posted_at'}

    @classmethod
    def validate_fields(cls, evaluations, field_names):
        super().validate_fields(evaluations, field_names)
        cls.check_evaluators(evaluations, field_names)

    @classmethod
    def check_evaluators(cls, evaluations, field_names=None, submit=False):
        """The evaluators are members of the village's evaluation group and
        never of its supervision group (R-ORG-2); on submit at least
        three."""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Area = pool.get('huinong.area')
        if (not submit and field_names
                and not field_names & {'evaluators', 'village'}):
            return
        evaluation_group = ModelData.get_id('huinong', 'group_evaluation')
        supervision_group = ModelData.get_id('huinong', 'group_supervision')
        for evaluation in evaluations:
            if submit and len(evaluation.evaluators) < MIN_EVALUATORS:
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_evaluators_count',
                        evaluation=evaluation.rec_name,
                        minimum=MIN_EVALUATORS,
                        count=len(evaluation.evaluators)))
            for user in evaluation.evaluators:
                with without_check_access():
                    groups = {g.id for g in user.groups}
                    _, _, villages = Area.get_scope(
                        [a.id for a in user.huinong_areas])
                if supervision_group in groups and (
                        evaluation.village.id in villages):
                    raise EvaluationError(gettext(
                            'huinong_points.msg_evaluation_supervisor',
                            user=user.rec_name,
                            village=evaluation.village.rec_name))
                if (evaluation_group not in groups
                        or evaluation.village.id not in villages):
                    raise EvaluationError(gettext(
                            'huinong_points.msg_evaluation_evaluator_group',
                            user=user.rec_name,
                            village=evaluation.village.rec_name))

    @classmethod
    def check_modification(cls, mode, evaluations, values=None,
            external=False):
        super().check_modification(
            mode, evaluations, values=values, external=external)
        if mode == 'write' and external and values:
            pool = Pool()
            User = pool.get('res.user')
            ModelData = pool.get('ir.model.data')
            # The reviewers have write access for their buttons only: the
            # sheet itself is the evaluation group's
            if Transaction().user and ModelData.get_id(
                    'huinong', 'group_evaluation') not in User.get_groups():
                raise AccessError(gettext(
                        'huinong_points.msg_evaluation_write_group'))
            for evaluation in evaluations:
                if evaluation.state not in EDITABLE:
                    raise AccessError(gettext(
                            'huinong_points.msg_evaluation_write_state',
                            evaluation=evaluation.rec_name))
        if mode == 'delete':
            for evaluation in evaluations:
                if evaluation.state not in {'draft', 'cancelled'}:
                    raise EvaluationError(gettext(
                            'huinong_points.msg_evaluation_delete',
                            evaluation=evaluation.rec_name))

    @classmethod
    def copy(cls, evaluations, default=None):
        default = default.copy() if default is not None else {}
        for field in ['notice_start', 'notice_end', 'move', 'objections',
                'posted_by', 'posted_at']:
            default.setdefault(field)
        return super().copy(evaluations, default=default)

    # Lines ---------------------------------------------------------------

    @classmethod
    def eligible_households(cls, village, date):
        """Return the households of the village that can be scored at the
        date: active, with a class at that date"""
        pool = Pool()
        Party = pool.get('party.party')
        Class = pool.get('huinong.household.class')
        with without_check_access():
            households = Party.search([
                    ('huinong_household', '=', True),
                    ('huinong_village', '=', village.id),
                    ], order=[('name', 'ASC'), ('id', 'ASC')])
            classes = Class.get_classification(
                [h.id for h in households], date)
        return [(h, classes[h.id]) for h in households if h.id in classes]

    @classmethod
    @ModelView.button
    def fill_lines(cls, evaluations):
        """Add one line per eligible household of the village that has
        none, with a score of 0 for each active criterion"""
        pool = Pool()
        Line = pool.get('huinong.evaluation.line')
        Criterion = pool.get('huinong.evaluation.criterion')
        criteria = Criterion.search([])
        to_create = []
        for evaluation in evaluations:
            if evaluation.state not in EDITABLE:
                continue
            present = {l.household.id for l in evaluation.lines}
            for household, classification in cls.eligible_households(
                    evaluation.village, evaluation.date):
                if household.id in present:
                    continue
                to_create.append({
                        'evaluation': evaluation.id,
                        'household': household.id,
                        'classification': classification,
                        'scores': [('create', [{
                                        'criterion': c.id,
                                        'score': Decimal(0),
                                        } for c in criteria])],
                        })
        if to_create:
            Line.create(to_create)

    # Caps ------------------------------------------------------------------

    @classmethod
    def cap_usage(cls, household_ids, date, states, exclude=()):
        """Return {household: (points in the month of date, points in its
        year)} over the sheets in the states, except the excluded ones"""
        pool = Pool()
        Line = pool.get('huinong.evaluation.line')
        Score = pool.get('huinong.evaluation.score')
        evaluation = cls.__table__()
        line = Line.__table__()
        score = Score.__table__()
        cursor = Transaction().connection.cursor()
        first, last = month_bounds(date)
        year_start = dt.date(date.year, 1, 1)
        year_end = dt.date(date.year, 12, 31)
        result = {}
        exclude = list(exclude) or [-1]
        for sub_ids in grouped_slice(
                household_ids, backend.MAX_QUERY_PARAMS // 2):
            in_month = (evaluation.date >= first) & (evaluation.date <= last)
            query = (score
                .join(line, condition=score.line == line.id)
                .join(evaluation, condition=line.evaluation == evaluation.id)
                .select(
                    line.household,
                    Sum(Case((in_month, score.score), else_=Literal(0))),
                    Sum(score.score),
                    where=fields.SQL_OPERATORS['in'](
                        line.household, list(sub_ids))
                    & evaluation.state.in_(states)
                    & ~evaluation.id.in_(exclude)
                    & (evaluation.date >= year_start)
                    & (evaluation.date <= year_end),
                    group_by=[line.household]))
            cursor.execute(*query)
            for household, month_total, year_total in cursor:
                result[household] = (
                    Decimal(month_total or 0), Decimal(year_total or 0))
        return result

    @classmethod
    def sheet_points(cls, evaluations):
        """Return {evaluation id: [(household id, points)]} of the sheets'
        lines in line order, in one query a slice of sheets (month-end
        posting reads hundreds of lines a sheet: no record per line)"""
        pool = Pool()
        Line = pool.get('huinong.evaluation.line')
        Score = pool.get('huinong.evaluation.score')
        line = Line.__table__()
        score = Score.__table__()
        cursor = Transaction().connection.cursor()
        result = {e.id: [] for e in evaluations}
        for sub_ids in grouped_slice(list(result), backend.MAX_QUERY_PARAMS):
            cursor.execute(*line.join(score, 'LEFT',
                    condition=score.line == line.id
                    ).select(
                    line.evaluation, line.household, Sum(score.score),
                    where=fields.SQL_OPERATORS['in'](
                        line.evaluation, list(sub_ids)),
                    group_by=[line.evaluation, line.id, line.household],
                    order_by=[line.evaluation, line.id]))
            for evaluation_id, household_id, points in cursor:
                result[evaluation_id].append(
                    (household_id, Decimal(points or 0).quantize(Decimal(1))))
        return result

    @classmethod
    def check_caps(cls, evaluations, states, sheet_points=None):
        """Check that no household passes its monthly or yearly cap across
        the sheets in the states plus these sheets (R-PTS-2); raise naming
        the household, the cap and the points over it.
        sheet_points is what sheet_points() returns when the caller has it.
        A few queries for the whole batch; records only for the message."""
        pool = Pool()
        Cap = pool.get('huinong.evaluation.cap')
        Class = pool.get('huinong.household.class')
        Party = pool.get('party.party')
        lang = pool.get('ir.lang').get()
        # the class's name in the user's language
        classes_ = dict(pool.get('huinong.evaluation.line').fields_get(
                ['classification'])['classification']['selection'])
        if sheet_points is None:
            sheet_points = cls.sheet_points(evaluations)
        ids = [e.id for e in evaluations]
        evaluations = sorted(evaluations, key=lambda e: (e.date, e.id))
        # Sheets of one month are checked together, earlier ones first;
        # sheets of the batch in earlier months of the year count too.
        by_month = defaultdict(list)
        for evaluation in evaluations:
            by_month[(evaluation.date.year, evaluation.date.month)].append(
                evaluation)
        for (year, _), sheets in sorted(by_month.items()):
            caps = Cap.get_caps(year)
            date = sheets[0].date
            household_ids = list({h for e in sheets
                    for h, _ in sheet_points[e.id]})
            usage = cls.cap_usage(household_ids, date, states, exclude=ids)
            for other in evaluations:
                if other.date.year == year and other.date < month_bounds(
                        date)[0]:
                    for household_id, points in sheet_points[other.id]:
                        month_total, year_total = usage.get(
                            household_id, (Decimal(0), Decimal(0)))
                        usage[household_id] = (
                            month_total, year_total + points)
            for evaluation in sheets:
                classification = Class.get_classification(
                    [h for h, _ in sheet_points[evaluation.id]],
                    evaluation.date)
                for household_id, points in sheet_points[evaluation.id]:
                    class_ = classification.get(household_id)
                    if class_ is None:
                        raise CapError(gettext(
                                'huinong_points.msg_evaluation_no_class',
                                household=Party(household_id).rec_name,
                                date=lang.strftime(evaluation.date)))
                    monthly, yearly = caps[class_]
                    month_total, year_total = usage.get(
                        household_id, (Decimal(0), Decimal(0)))
                    month_total += points
                    year_total += points
                    for total, cap, message in [
                            (month_total, monthly,
                                'huinong_points.msg_cap_monthly'),
                            (year_total, yearly,
                                'huinong_points.msg_cap_yearly'),
                            ]:
                        if total > cap:
                            raise CapError(gettext(message,
                                    household=Party(household_id).rec_name,
                                    classification=classes_[class_],
                                    total=total, cap=cap,
                                    over=total - cap,
                                    month=evaluation.date.strftime('%Y-%m'),
                                    year=year,
                                    evaluation=evaluation.rec_name))
                    usage[household_id] = (month_total, year_total)

    @classmethod
    def check_zero_points(cls, evaluations):
        """Ask before submitting a sheet where households get 0 points: a
        household left unscored by mistake loses its month"""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        sheet_points = cls.sheet_points(evaluations)
        for evaluation in evaluations:
            zero = [h for h, points in sheet_points[evaluation.id]
                if not points]
            if not zero:
                continue
            key = Warning.format('huinong_evaluation_zero_points',
                [evaluation])
            if Warning.check(key):
                Party = pool.get('party.party')
                names = [p.rec_name for p in Party.browse(zero[:5])]
                if len(zero) > 5:
                    names.append('…')
                raise UserWarning(key, gettext(
                        'huinong_points.msg_evaluation_zero_points',
                        evaluation=evaluation.rec_name, count=len(zero),
                        households='、'.join(names)))

    # The chain --------------------------------------------------------------

    @classmethod
    def check_lines(cls, evaluations):
        pool = Pool()
        Criterion = pool.get('huinong.evaluation.criterion')
        criteria = Criterion.search([])
        for evaluation in evaluations:
            if not evaluation.lines:
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_no_lines',
                        evaluation=evaluation.rec_name))
            for line in evaluation.lines:
                scored = {s.criterion for s in line.scores}
                for criterion in criteria:
                    if criterion not in scored:
                        raise EvaluationError(gettext(
                                'huinong_points.msg_evaluation_line_criterion',
                                household=line.household.rec_name,
                                criterion=criterion.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    @approval_step('submit')
    def submit(cls, evaluations):
        cls.check_lines(evaluations)
        if Transaction().user:
            # The administrator (imports, the demo) is not an evaluator
            cls.check_evaluators(evaluations, submit=True)
        # The households' row locks, as posting takes them: a sheet of the
        # same household submitted at the same moment waits for this one
        # and then counts it, so that reviewers never get two sheets that
        # pass the cap only together (only one could ever be posted)
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Party = pool.get('party.party')
        sheet_points = cls.sheet_points(evaluations)
        Ledger.lock_households([Party(h)
                for e in evaluations for h, _ in sheet_points[e.id]])
        cls.check_caps(evaluations, CAP_STATES, sheet_points=sheet_points)
        # a warning the user may pass: last, after every refusal
        cls.check_zero_points(evaluations)
        with without_check_access():
            cls.write(evaluations, {'return_reason': None})

    @classmethod
    @ModelView.button
    @Workflow.transition('committee_reviewed')
    @approval_step('committee_review')
    def committee_review(cls, evaluations):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('township_reviewed')
    @approval_step('township_review')
    def township_review(cls, evaluations):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    @approval_step('approve')
    def approve(cls, evaluations):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('published')
    @approval_step('publish')
    def publish(cls, evaluations):
        "Start the public notice (公示) of the sheets"
        pool = Pool()
        Date = pool.get('ir.date')
        Configuration = pool.get('huinong.configuration')
        days = Configuration(1).evaluation_notice_days or 3
        today = Date.today()
        with without_check_access():
            cls.write(evaluations, {
                    'notice_start': today,
                    'notice_end': today + dt.timedelta(days=days - 1),
                    })

    @classmethod
    def return_(cls, evaluations):
        cls._return(evaluations)

    @classmethod
    @Workflow.transition('returned')
    def _return(cls, evaluations):
        with without_check_access():
            cls.write(evaluations, {
                    'notice_start': None,
                    'notice_end': None,
                    })

    @classmethod
    @ModelView.button_action('huinong.wizard_approval_return')
    def return_wizard(cls, evaluations):
        pass

    @classmethod
    @ModelView.button_action('huinong_points.wizard_evaluation_objection')
    def objection_wizard(cls, evaluations):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, evaluations):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, evaluations):
        pass

    @classmethod
    @ModelView.button
    def post(cls, evaluations):
        "Credit the points of the sheets whose notice is over"
        pool = Pool()
        Date = pool.get('ir.date')
        User = pool.get('res.user')
        lang = pool.get('ir.lang').get()
        today = Date.today()
        townships = None
        if not User.is_huinong_county_wide():
            townships = set(User.get_huinong_scope()[1])
        for evaluation in evaluations:
            if (townships is not None
                    and evaluation.village.parent.id not in townships):
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_post_area',
                        evaluation=evaluation.rec_name))
            if evaluation.state != 'published':
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_post_state',
                        evaluation=evaluation.rec_name))
            if evaluation.notice_end and evaluation.notice_end >= today:
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_notice_running',
                        evaluation=evaluation.rec_name,
                        date=lang.strftime(evaluation.notice_end)))
        cls._post(evaluations)

    @classmethod
    def _post(cls, evaluations, date=None, sheet_points=None):
        """Lock the households, check the caps against what is posted, and
        credit each sheet in one move (Dr points expense / Cr household
        points, one line per household) dated date (today by default)"""
        pool = Pool()
        Ledger = pool.get('huinong.points.ledger')
        Date = pool.get('ir.date')
        Party = pool.get('party.party')
        if not evaluations:
            return
        config = Ledger.config()
        today = date
        if today is None:
            with Transaction().set_context(
                    company=config.points_company.id):
                today = Date.today()
        # Every posting of a household's points takes its row lock; then
        # what is posted cannot change under the cap check (a second
        # transaction waits, restarts and sees this one's sheets).
        if sheet_points is None:
            sheet_points = cls.sheet_points(evaluations)
        Ledger.lock_households([Party(h)
                for e in evaluations for h, _ in sheet_points[e.id]])
        cls.check_caps(evaluations, ['posted'], sheet_points=sheet_points)
        now = dt.datetime.now()
        user_id = Transaction().user or None
        for evaluation in evaluations:
            credits = [(Party(h), p)
                for h, p in sheet_points[evaluation.id] if p > 0]
            move = None
            if credits:
                description = record_gettext(
                    'huinong_points.msg_evaluation_move_description',
                    evaluation=evaluation.rec_name)
                with without_check_access():
                    move = Ledger.credit(
                        credits, today, description, origin=evaluation)
            with without_check_access():
                cls.write([evaluation], {
                        'state': 'posted',
                        'move': move.id if move else None,
                        'posted_by': user_id,
                        'posted_at': now,
                        })
        cls.record_approval(evaluations, 'post', action='event')

    @classmethod
    def post_due(cls):
        """Credit every published sheet whose notice is over (scheduled
        task). A sheet that would pass a cap stays published for the
        township office to look at; the others are credited."""
        pool = Pool()
        Date = pool.get('ir.date')
        Ledger = pool.get('huinong.points.ledger')
        Party = pool.get('party.party')
        today = Date.today()
        with without_check_access():
            evaluations = cls.search([
                    ('state', '=', 'published'),
                    ('notice_end', '<', today),
                    ], order=[('date', 'ASC'), ('id', 'ASC')])
        # Every household of every due sheet is locked at once: trytond
        # takes record locks by restarting the transaction with them, and
        # one restart per sheet would redo the sheets before it.
        sheet_points = cls.sheet_points(evaluations)
        Ledger.lock_households([Party(h)
                for e in evaluations for h, _ in sheet_points[e.id]])
        for evaluation in evaluations:
            try:
                cls.check_caps(
                    [evaluation], ['posted'], sheet_points=sheet_points)
            except CapError:
                logger.warning(
                    "evaluation %s not credited: over a cap", evaluation.id)
                continue
            cls._post([evaluation], sheet_points=sheet_points)

    @classmethod
    def objection(cls, evaluations, description, household=None,
            raised_by=None):
        """Record an objection (异议) raised during the notice and send the
        sheets back to the evaluation group"""
        pool = Pool()
        Objection = pool.get('huinong.evaluation.objection')
        User = pool.get('res.user')
        if not description or not description.strip():
            raise EvaluationError(gettext(
                    'huinong_points.msg_objection_description'))
        villages = User.get_huinong_villages()
        for evaluation in evaluations:
            if evaluation.state != 'published':
                raise EvaluationError(gettext(
                        'huinong_points.msg_objection_state',
                        evaluation=evaluation.rec_name))
            if villages is not None and evaluation.village.id not in villages:
                raise EvaluationError(gettext(
                        'huinong_points.msg_objection_area',
                        evaluation=evaluation.rec_name))
        description = description.strip()
        with without_check_access():
            Objection.create([{
                        'evaluation': e.id,
                        'household': household.id if household else None,
                        'raised_by': raised_by,
                        'description': description,
                        } for e in evaluations])
        reason = record_gettext('huinong_points.msg_objection_reason',
            description=description)
        with without_check_access():
            cls.return_(evaluations)
        cls.record_approval(evaluations, 'objection', action='return',
            reason=reason)
        values = {'return_reason': reason}
        for definition in cls._approval_steps.values():
            values[definition.by_field] = None
            values[definition.at_field] = None
        with without_check_access():
            cls.write(list(evaluations), values)


class EvaluationEvaluator(ModelSQL):
    "Evaluation - Evaluator"
    __name__ = 'huinong.evaluation-res.user'

    evaluation = fields.Many2One(
        'huinong.evaluation', "Evaluation", required=True,
        ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('evaluation')


class EvaluationLine(ModelSQL, ModelView):
    "Evaluation Line"
    __name__ = 'huinong.evaluation.line'

    evaluation = fields.Many2One(
        'huinong.evaluation', "Evaluation", required=True,
        ondelete='CASCADE')
    household = fields.Many2One(
        'party.party', "Household", required=True, ondelete='RESTRICT',
        domain=[
            ('huinong_household', '=', True),
            ('huinong_village', '=', Eval('village', -1)),
            ])
    village = fields.Function(fields.Many2One('huinong.area', "Village"),
        'on_change_with_village')
    classification = fields.Selection(
        [(None, '')] + CLASSIFICATIONS, "Class", readonly=True, sort=False,
        help="The household's class on the scoring date.")
    scores = fields.One2Many(
        'huinong.evaluation.score', 'line', "Scores")
    points = fields.Function(
        fields.Numeric("Points", digits=(16, 0)), 'get_points')
    scores_text = fields.Function(
        fields.Char("Scores"), 'get_scores_text')
    note = fields.Char("Note")
    for _slot in SLOT_NAMES:
        locals()[_slot] = fields.Function(fields.Numeric(
                "Score %s" % _slot[len('score_'):], digits=(16, 0),
                states={
                    'readonly': ~Eval('evaluation_state').in_(EDITABLE),
                    }),
            'get_slots', setter='set_slots')
    del _slot
    evaluation_state = fields.Function(fields.Selection(
            'get_evaluation_states', "Sheet State"),
        'on_change_with_evaluation_state')
    cap_warning = fields.Function(fields.Char("Cap"),
        'get_cap_warning')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('household_unique', Unique(t, t.evaluation, t.household),
                'huinong_points.msg_evaluation_line_unique'),
            ]
        cls.__access__.add('evaluation')
        cls._order = [('evaluation', 'ASC'), ('id', 'ASC')]

    @fields.depends('evaluation', '_parent_evaluation.village')
    def on_change_with_village(self, name=None):
        if self.evaluation and self.evaluation.village:
            return self.evaluation.village

    @fields.depends('household', 'evaluation', '_parent_evaluation.date')
    def on_change_household(self):
        Class = Pool().get('huinong.household.class')
        if self.household and self.evaluation and self.evaluation.date:
            self.classification = Class.get_classification(
                [self.household.id], self.evaluation.date).get(
                    self.household.id)

    def get_rec_name(self, name):
        return self.household.rec_name

    @classmethod
    def get_points(cls, lines, name):
        pool = Pool()
        Score = pool.get('huinong.evaluation.score')
        score = Score.__table__()
        cursor = Transaction().connection.cursor()
        result = {l.id: Decimal(0) for l in lines}
        for sub_ids in grouped_slice(
                [l.id for l in lines], backend.MAX_QUERY_PARAMS):
            cursor.execute(*score.select(score.line, Sum(score.score),
                    where=fields.SQL_OPERATORS['in'](
                        score.line, list(sub_ids)),
                    group_by=[score.line]))
            for line_id, total in cursor:
                result[line_id] = Decimal(total or 0).quantize(Decimal(1))
        return result

    def get_scores_text(self, name):
        return ', '.join('%s %s' % (s.criterion.name, s.score)
            for s in self.scores)

    @classmethod
    def get_evaluation_states(cls):
        return Pool().get('huinong.evaluation').fields_get(
            ['state'])['state']['selection']

    @fields.depends('evaluation', '_parent_evaluation.state')
    def on_change_with_evaluation_state(self, name=None):
        if self.evaluation:
            return self.evaluation.state

    # The scoring grid ------------------------------------------------------

    @staticmethod
    def slot_criteria():
        "The criteria of the grid's columns, in order: [criterion]"
        Criterion = Pool().get('huinong.evaluation.criterion')
        return Criterion.search([], order=[
                ('sequence', 'ASC NULLS LAST'), ('id', 'ASC')],
            limit=SCORE_SLOTS)

    @classmethod
    def get_slots(cls, lines, names):
        criteria = cls.slot_criteria()
        slot_of = {c.id: 'score_%d' % i for i, c in enumerate(criteria, 1)}
        result = {n: {l.id: None for l in lines} for n in names}
        for line in lines:
            for score in line.scores:
                name = slot_of.get(score.criterion.id)
                if name in result:
                    result[name][line.id] = score.score
        return result

    @classmethod
    def set_slots(cls, lines, name, value):
        pool = Pool()
        Score = pool.get('huinong.evaluation.score')
        criteria = cls.slot_criteria()
        index = int(name[len('score_'):])
        if index > len(criteria):
            return
        criterion = criteria[index - 1]
        if value is None:
            raise EvaluationError(gettext(
                    'huinong_points.msg_evaluation_score_missing',
                    household=lines[0].household.rec_name,
                    criterion=criterion.rec_name))
        to_write, to_create = [], []
        for line in lines:
            score = next((s for s in line.scores
                    if s.criterion == criterion), None)
            if score:
                if score.score != value:
                    to_write.append(score)
            else:
                to_create.append({
                        'line': line.id,
                        'criterion': criterion.id,
                        'score': value,
                        })
        if to_write:
            Score.write(to_write, {'score': value})
        if to_create:
            Score.create(to_create)

    @fields.depends(*SLOT_NAMES, 'scores')
    def on_change_with_points(self, name=None):
        total = Decimal(0)
        for slot in SLOT_NAMES:
            value = getattr(self, slot, None)
            if value is not None:
                total += value
        # the scores of criteria beyond the grid's columns
        criteria = self.slot_criteria()
        for score in (self.scores or []):
            if (getattr(score, 'criterion', None) not in criteria
                    and getattr(score, 'score', None) is not None):
                total += score.score
        return total.quantize(Decimal(1))

    @classmethod
    def get_cap_warning(cls, lines, name):
        return cls.cap_warnings(lines)

    @fields.depends(
        *SLOT_NAMES, 'scores', 'household', 'classification', 'evaluation',
        '_parent_evaluation.date', '_parent_evaluation.id',
        methods=['on_change_with_points'])
    def on_change_with_cap_warning(self, name=None):
        if not self.household or not self.evaluation:
            return
        points = self.on_change_with_points()
        return self.cap_warnings([self], {self: points}).get(self.id)

    @classmethod
    def cap_warnings(cls, lines, points=None):
        """{line id: warning} for the lines whose household passes its
        monthly or yearly cap with these points (its other sheets in the
        states that count, CAP_STATES, plus this line): what submitting
        would refuse, said while the sheet is scored"""
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Cap = pool.get('huinong.evaluation.cap')
        result = {l.id: None for l in lines}
        if points is None:
            points = {l: l.points for l in lines}
        by_sheet = defaultdict(list)
        for line in lines:
            if (line.household and line.evaluation
                    and line.evaluation.date and line.classification):
                by_sheet[line.evaluation].append(line)
        for evaluation, sheet_lines in by_sheet.items():
            caps = Cap.get_caps(evaluation.date.year)
            exclude = [evaluation.id] if (evaluation.id or -1) >= 0 else []
            usage = Evaluation.cap_usage(
                [l.household.id for l in sheet_lines], evaluation.date,
                CAP_STATES, exclude=exclude)
            for line in sheet_lines:
                monthly, yearly = caps[line.classification]
                month_total, year_total = usage.get(
                    line.household.id, (Decimal(0), Decimal(0)))
                line_points = points.get(line) or Decimal(0)
                if month_total + line_points > monthly:
                    result[line.id] = gettext(
                        'huinong_points.msg_line_cap_monthly_warning',
                        cap=monthly, over=month_total + line_points - monthly)
                elif year_total + line_points > yearly:
                    result[line.id] = gettext(
                        'huinong_points.msg_line_cap_yearly_warning',
                        cap=yearly, over=year_total + line_points - yearly)
        return result

    @classmethod
    def fields_view_get(cls, view_id=None, view_type='form', level=None):
        """The grid's columns carry the criteria's names; the columns of
        slots without a criterion are left out"""
        result = super().fields_view_get(
            view_id=view_id, view_type=view_type, level=level)
        if not any(s in result['fields'] for s in SLOT_NAMES):
            return result
        from lxml import etree
        criteria = cls.slot_criteria()
        result = dict(result)
        fields_ = dict(result['fields'])
        arch = etree.fromstring(result['arch'])
        for node in list(arch.iter('field')):
            name = node.get('name')
            if name not in SLOT_NAMES:
                continue
            index = int(name[len('score_'):])
            if index > len(criteria):
                node.getparent().remove(node)
                fields_.pop(name, None)
            else:
                criterion = criteria[index - 1]
                label = '%s (%s)' % (criterion.name, criterion.maximum)
                node.set('string', label)
                fields_[name] = dict(fields_[name], string=label)
        result['arch'] = etree.tostring(arch, encoding='unicode')
        result['fields'] = fields_
        return result

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Evaluation = pool.get('huinong.evaluation')
        Class = pool.get('huinong.household.class')
        values = super().preprocess_values(mode, values)
        if (mode == 'create' and values.get('household')
                and values.get('evaluation')
                and not values.get('classification')):
            evaluation = Evaluation(values['evaluation'])
            values['classification'] = Class.get_classification(
                [values['household']], evaluation.date).get(
                    values['household'])
        return values

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        for line in lines:
            if line.evaluation.state not in EDITABLE:
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_line_state',
                        evaluation=line.evaluation.rec_name))

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        if field_names and not field_names & {'household', 'evaluation'}:
            return
        for line in lines:
            if line.household.huinong_village != line.evaluation.village:
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_line_village',
                        household=line.household.rec_name,
                        village=line.evaluation.village.rec_name))


class EvaluationScore(ModelSQL, ModelView):
    "Evaluation Score"
    __name__ = 'huinong.evaluation.score'

    line = fields.Many2One(
        'huinong.evaluation.line', "Line", required=True,
        ondelete='CASCADE')
    criterion = fields.Many2One(
        'huinong.evaluation.criterion', "Criterion", required=True,
        ondelete='RESTRICT')
    maximum = fields.Function(
        fields.Numeric("Maximum", digits=(16, 0)), 'on_change_with_maximum')
    score = fields.Numeric(
        "Score", digits=(16, 0), required=True,
        domain=[('score', '>=', 0)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('criterion_unique', Unique(t, t.line, t.criterion),
                'huinong_points.msg_evaluation_score_unique'),
            ]
        cls.__access__.add('line')
        cls._order = [
            ('line', 'ASC'), ('criterion', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_score(cls):
        return Decimal(0)

    @fields.depends('criterion')
    def on_change_with_maximum(self, name=None):
        if self.criterion:
            return self.criterion.maximum

    @classmethod
    def check_modification(cls, mode, scores, values=None, external=False):
        super().check_modification(
            mode, scores, values=values, external=external)
        for score in scores:
            if score.line.evaluation.state not in EDITABLE:
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_line_state',
                        evaluation=score.line.evaluation.rec_name))

    @classmethod
    def validate_fields(cls, scores, field_names):
        super().validate_fields(scores, field_names)
        for score in scores:
            if (not _whole(score.score) or score.score < 0
                    or score.score > score.criterion.maximum):
                raise EvaluationError(gettext(
                        'huinong_points.msg_evaluation_score_range',
                        household=score.line.household.rec_name,
                        criterion=score.criterion.rec_name,
                        score=score.score,
                        maximum=score.criterion.maximum))


class Objection(ModelSQL, ModelView):
    "Evaluation Objection"
    __name__ = 'huinong.evaluation.objection'

    evaluation = fields.Many2One(
        'huinong.evaluation', "Evaluation", required=True,
        ondelete='CASCADE', readonly=True)
    household = fields.Many2One(
        'party.party', "Household", readonly=True,
        domain=[('huinong_household', '=', True)])
    raised_by = fields.Char("Raised By", readonly=True,
        help="Who raised the objection (a villager, a member of the "
        "supervision group…).")
    description = fields.Text("Objection", required=True, readonly=True)
    recorded_by = fields.Many2One('res.user', "Recorded By", readonly=True)
    date = fields.DateTime("Recorded At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('evaluation')
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values['recorded_by'] = Transaction().user or None
            values['date'] = dt.datetime.now()
        return values

    @classmethod
    def check_modification(cls, mode, objections, values=None,
            external=False):
        super().check_modification(
            mode, objections, values=values, external=external)
        # A register: kept as recorded
        if mode in {'write', 'delete'}:
            raise AccessError(gettext(
                    'huinong_points.msg_objection_immutable'))


class ObjectionStart(ModelView):
    "Record an Objection"
    __name__ = 'huinong.evaluation.objection.start'

    evaluation = fields.Many2One(
        'huinong.evaluation', "Evaluation", readonly=True)
    household = fields.Many2One(
        'party.party', "Household",
        domain=[('huinong_household', '=', True),
            If(Eval('households'),
                ('id', 'in', Eval('households', [])),
                ()),
            ],
        help="The household the objection is about, if any.")
    households = fields.Many2Many(
        'party.party', None, None, "Households", readonly=True)
    raised_by = fields.Char("Raised By")
    description = fields.Text("Objection", required=True)


class ObjectionWizard(Wizard):
    "Record an Objection"
    __name__ = 'huinong.evaluation.objection.record'

    start = StateView('huinong.evaluation.objection.start',
        'huinong_points.evaluation_objection_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Record and Return", 'record_', 'tryton-back',
                default=True),
            ])
    record_ = StateTransition()

    def default_start(self, fields):
        return {
            'evaluation': self.record.id,
            'households': [l.household.id for l in self.record.lines],
            }

    def transition_record_(self):
        self.model.objection(
            self.records, self.start.description,
            household=self.start.household,
            raised_by=self.start.raised_by)
        return 'end'


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['huinong.evaluation']


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('huinong.evaluation|post_due',
                "Credit Evaluation Sheets after their Notice"))
