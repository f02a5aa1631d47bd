# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Demo evaluations: three posted months for every village, and the
current month's sheet of 罗任村 in draft for the demo users to walk."""
import datetime as dt
import random
from decimal import Decimal

from trytond.transaction import Transaction

from .evaluation import month_bounds

# The demo users of 罗任村 and 七坊镇 who sign each step of its sheets
LUOREN_STEPS = [
    ('submit', 'luoren_evaluation'),
    ('committee_review', 'luoren_committee'),
    ('township_review', 'qifang_office'),
    ('approve', 'qifang_gov'),
    ('publish', 'luoren_evaluation2'),
    ]
LUOREN_EVALUATORS = [
    'luoren_evaluation', 'luoren_evaluation2', 'luoren_evaluation3']


def previous_months(today, count):
    "Return the first day of each of the count months before today's"
    months = []
    first = today.replace(day=1)
    for _ in range(count):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        months.append(first)
    return sorted(months)


def demo_scores(rng, classification, criteria):
    """Scores within the criteria's maxima whose total stays under the
    monthly cap of the class (110 poor, 68 ordinary)"""
    cap = 110 if classification == 'poor' else 68
    total = sum(c.maximum for c in criteria)
    scores = []
    for criterion in criteria:
        share = Decimal(cap) * criterion.maximum / total
        low = int(share * Decimal('0.4'))
        scores.append(Decimal(rng.randint(low, int(share))))
    return scores


def create_demo_evaluations(pool, today=None, months=3, seed=20190213):
    """Create and post a sheet per village for each of the months before
    today's (idempotent: a village's month with a sheet is skipped), and a
    draft of this month for 罗任村. Return statistics."""
    Evaluation = pool.get('huinong.evaluation')
    Line = pool.get('huinong.evaluation.line')
    Criterion = pool.get('huinong.evaluation.criterion')
    Area = pool.get('huinong.area')
    User = pool.get('res.user')
    Ledger = pool.get('huinong.points.ledger')
    Date = pool.get('ir.date')
    transaction = Transaction()
    config = Ledger.config()
    company = config.points_company
    if today is None:
        with transaction.set_context(company=company.id):
            today = Date.today()
    rng = random.Random(seed)
    criteria = Criterion.search([])
    users = {u.login: u for u in User.search([
                ('login', 'in', [l for _, l in LUOREN_STEPS]
                    + LUOREN_EVALUATORS)])}
    luoren = Area.search([('code', '=', '469025101201')], limit=1)
    luoren = luoren[0] if luoren else None
    villages = Area.search([('type', '=', 'village')],
        order=[('code', 'ASC')])
    stats = {'evaluations_posted': 0, 'evaluation_lines': 0}
    for month in previous_months(today, months):
        _, last = month_bounds(month)
        scoring = month.replace(day=25)
        published = min(scoring + dt.timedelta(days=1), last)
        posting = last + dt.timedelta(days=4)
        Ledger.create_fiscalyear(company, posting)
        done = {e.village.id for e in Evaluation.search([
                    ('date', '>=', month), ('date', '<=', last),
                    ('state', '!=', 'cancelled'),
                    ])}
        sheets = []
        for village in villages:
            if village.id in done:
                continue
            households = Evaluation.eligible_households(village, scoring)
            if not households:
                continue
            evaluators = []
            if village == luoren:
                evaluators = [users[l].id for l in LUOREN_EVALUATORS
                    if l in users]
            sheet, = Evaluation.create([{
                        'village': village.id,
                        'date': scoring,
                        'evaluators': [('add', evaluators)],
                        'opinion': "经评比组评议，同意上报。",
                        }])
            Line.create([{
                        'evaluation': sheet.id,
                        'household': household.id,
                        'classification': classification,
                        'scores': [('create', [{
                                        'criterion': c.id,
                                        'score': s,
                                        } for c, s in zip(criteria,
                                        demo_scores(
                                            rng, classification,
                                            criteria))])],
                        } for household, classification in households])
            stats['evaluation_lines'] += len(households)
            sheets.append(sheet)
        if not sheets:
            continue
        # 罗任村's sheet is signed by its demo users, the others go through
        # the same steps as the administrator (no sign-off recorded)
        with transaction.set_context(company=company.id):
            for step, login in LUOREN_STEPS:
                luoren_sheets = [s for s in sheets if s.village == luoren]
                others = [s for s in sheets if s.village != luoren]
                if luoren_sheets and login in users:
                    with transaction.set_user(users[login].id):
                        getattr(Evaluation, step)(luoren_sheets)
                else:
                    others = sheets
                if others:
                    getattr(Evaluation, step)(others)
            Evaluation.write(sheets, {
                    'notice_start': published,
                    'notice_end': published + dt.timedelta(days=2),
                    })
            Evaluation._post(sheets, date=posting)
        stats['evaluations_posted'] += len(sheets)
    # This month's sheet of 罗任村, filled, for the demo users
    if luoren:
        first, last = month_bounds(today)
        if not Evaluation.search([
                    ('village', '=', luoren.id),
                    ('date', '>=', first), ('date', '<=', last),
                    ]):
            sheet, = Evaluation.create([{
                        'village': luoren.id,
                        'date': today,
                        'evaluators': [('add', [users[l].id
                                        for l in LUOREN_EVALUATORS
                                        if l in users])],
                        }])
            Evaluation.fill_lines([sheet])
            stats['evaluations_draft'] = 1
    return stats
