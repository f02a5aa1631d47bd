# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Import of the scores of a sheet from the paper sheet typed in a
spreadsheet (XLSX or CSV).

The whole file is read and checked first; the sheet's lines and scores are
written only when no row has an error, so a rejected file changes
nothing."""
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.modules.huinong_household.household_import import (
    RowError, _text, read_rows)
from trytond.modules.huinong_household.tools import compact_resident_id
from trytond.pool import Pool
from trytond.transaction import (
    Transaction, check_access, without_check_access)
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .evaluation import EDITABLE
from .exceptions import EvaluationError

HOUSEHOLD_HEADERS = {
    '户主身份证号', '身份证号', '户主', '农户', '户主姓名', '姓名',
    'head_resident_id', 'resident_id', 'household', 'name'}
NOTE_HEADERS = {'备注', 'note'}


def _score(value):
    "Return the score of a cell as a whole Decimal or None"
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = Decimal(str(value))
    else:
        text = _text(value)
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None
    if not value.is_finite() or value % 1 or value < 0:
        return None
    return value.quantize(Decimal(1))


class EvaluationImportStart(ModelView):
    "Import Scores"
    __name__ = 'huinong.evaluation.import.start'

    file = fields.Binary("File", required=True, filename='filename')
    filename = fields.Char("File Name")
    columns = fields.Text("Columns", readonly=True)

    @classmethod
    def default_columns(cls):
        Criterion = Pool().get('huinong.evaluation.criterion')
        criteria = Criterion.search([])
        return gettext('huinong_points.msg_score_import_columns_help',
            criteria='、'.join(
                '%s (%s)' % (c.code, c.name) for c in criteria))


class EvaluationImportResult(ModelView):
    "Import Scores Result"
    __name__ = 'huinong.evaluation.import.result'

    success = fields.Boolean("Success", readonly=True)
    created = fields.Integer("Lines Created", readonly=True)
    updated = fields.Integer("Lines Updated", readonly=True)
    errors = fields.Text("Errors", readonly=True)


class EvaluationImport(Wizard):
    "Import Scores"
    __name__ = 'huinong.evaluation.import'

    start = StateView(
        'huinong.evaluation.import.start',
        'huinong_points.evaluation_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView(
        'huinong.evaluation.import.result',
        'huinong_points.evaluation_import_result_view_form', [
            Button("Choose Another File", 'start', 'tryton-back'),
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_import_(self):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        evaluation = self.record
        if Transaction().user:
            # The sheet is the village's evaluation group's (R-ORG-2)
            villages = User.get_huinong_villages()
            if (ModelData.get_id('huinong', 'group_evaluation')
                    not in User.get_groups()
                    or (villages is not None
                        and evaluation.village.id not in villages)):
                raise AccessError(gettext(
                        'huinong_points.msg_score_import_access',
                        evaluation=evaluation.rec_name))
        if evaluation.state not in EDITABLE:
            raise EvaluationError(gettext(
                    'huinong_points.msg_evaluation_line_state',
                    evaluation=evaluation.rec_name))
        rows, errors = self.check(
            evaluation, self.start.file, self.start.filename)
        if errors:
            self.result.success = False
            self.result.created = self.result.updated = 0
            self.result.errors = '\n'.join(errors)
        else:
            with check_access():
                created, updated = self.apply(evaluation, rows)
            self.result.success = True
            self.result.created = created
            self.result.updated = updated
            self.result.errors = ''
        return 'result'

    def default_result(self, fields):
        return {
            'success': self.result.success,
            'created': self.result.created,
            'updated': self.result.updated,
            'errors': self.result.errors,
            }

    @classmethod
    def check(cls, evaluation, data, filename):
        """Read and check the whole file for the sheet.
        Return the rows to import [(household, classification, {criterion:
        score}, note)] and the list of translated error lines."""
        pool = Pool()
        Party = pool.get('party.party')
        Criterion = pool.get('huinong.evaluation.criterion')
        Evaluation = pool.get('huinong.evaluation')

        errors = []

        def error(row, message_id, **kwargs):
            errors.append((row, gettext(
                        'huinong_points.msg_score_import_row', row=row,
                        message=gettext(message_id, **kwargs))))

        try:
            header, body = read_rows(data, filename)
        except RowError as e:
            return [], [gettext(e.message_id, **e.kwargs)]
        if not body:
            return [], [gettext('huinong_household.msg_import_empty')]

        # Header: the household column, a column per criterion, a note
        criteria = Criterion.search([])
        by_header = {}
        for criterion in criteria:
            by_header.setdefault(criterion.code.strip().lower(), criterion)
            by_header.setdefault(criterion.name.strip().lower(), criterion)
        household_index = note_index = None
        columns = {}
        header_errors = []
        for index, cell in enumerate(header):
            text = _text(cell)
            key = text.lower()
            if not text:
                continue
            if key in HOUSEHOLD_HEADERS and household_index is None:
                household_index = index
            elif key in NOTE_HEADERS and note_index is None:
                note_index = index
            elif key in by_header:
                criterion = by_header[key]
                if criterion in columns.values():
                    header_errors.append(gettext(
                            'huinong_points.msg_score_import_column_twice',
                            column=text))
                columns[index] = criterion
            else:
                header_errors.append(gettext(
                        'huinong_points.msg_score_import_unknown_column',
                        column=text))
        if household_index is None:
            header_errors.append(gettext(
                    'huinong_points.msg_score_import_no_household_column'))
        missing = [c for c in criteria if c not in columns.values()]
        if missing:
            header_errors.append(gettext(
                    'huinong_points.msg_score_import_missing_criteria',
                    criteria='、'.join(c.rec_name for c in missing)))
        if header_errors:
            return [], header_errors

        village = evaluation.village
        with without_check_access():
            eligible = dict(
                Evaluation.eligible_households(village, evaluation.date))
            in_village = Party.search([
                    ('huinong_household', '=', True),
                    ('huinong_village', '=', village.id),
                    ])
        by_name = {}
        for party in in_village:
            by_name.setdefault(party.name.strip(), []).append(party)

        resident_ids = {}
        for number, row in body:
            value = row[household_index] if household_index < len(row) \
                else None
            code = compact_resident_id(_text(value))
            if code:
                resident_ids[number] = code
        by_id = {}
        if resident_ids:
            with without_check_access():
                parties = Party.search([
                        ('huinong_household', '=', True),
                        ('huinong_resident_id', 'in',
                            list(set(resident_ids.values()))),
                        ])
            for party in parties:
                by_id[compact_resident_id(party.huinong_resident_id)] = party

        rows, seen = [], {}
        for number, row in body:
            def cell(index):
                return row[index] if index is not None and index < len(
                    row) else None
            text = _text(cell(household_index))
            if isinstance(cell(household_index), float) and len(text) >= 15:
                error(number, 'huinong_household.msg_import_id_as_number')
                continue
            party = None
            if number in resident_ids:
                party = by_id.get(resident_ids[number])
                if not party:
                    error(number,
                        'huinong_points.msg_score_import_unknown_household',
                        household=text)
                    continue
            elif text:
                matches = by_name.get(text, [])
                if len(matches) > 1:
                    error(number,
                        'huinong_points.msg_score_import_ambiguous_name',
                        household=text, village=village.rec_name)
                    continue
                if not matches:
                    error(number,
                        'huinong_points.msg_score_import_unknown_household',
                        household=text)
                    continue
                party, = matches
            else:
                error(number, 'huinong_points.msg_score_import_no_household')
                continue
            if party.huinong_village != village:
                error(number, 'huinong_points.msg_score_import_other_village',
                    household=party.rec_name, village=village.rec_name)
                continue
            if party.id in seen:
                error(number, 'huinong_points.msg_score_import_duplicate',
                    household=party.rec_name, first=seen[party.id])
                continue
            seen[party.id] = number
            if party not in eligible:
                error(number, 'huinong_points.msg_score_import_no_class',
                    household=party.rec_name)
                continue
            scores, ok = {}, True
            for index, criterion in sorted(columns.items()):
                score = _score(cell(index))
                if score is None:
                    error(number, 'huinong_points.msg_score_import_bad_score',
                        household=party.rec_name,
                        criterion=criterion.rec_name,
                        value=_text(cell(index)))
                    ok = False
                elif score > criterion.maximum:
                    error(number,
                        'huinong_points.msg_score_import_above_maximum',
                        household=party.rec_name,
                        criterion=criterion.rec_name, score=score,
                        maximum=criterion.maximum)
                    ok = False
                scores[criterion] = score
            if ok:
                rows.append((party, eligible[party], scores,
                        _text(cell(note_index)) or None))
        errors.sort(key=lambda e: e[0])
        return rows, [text for _, text in errors]

    @classmethod
    def apply(cls, evaluation, rows):
        """Create or update the lines of the sheet from the checked rows.
        Return the numbers of lines created and updated."""
        pool = Pool()
        Line = pool.get('huinong.evaluation.line')
        Score = pool.get('huinong.evaluation.score')
        existing = {l.household: l for l in evaluation.lines}
        to_create, to_save = [], []
        for party, classification, scores, note in rows:
            line = existing.get(party)
            if line is None:
                to_create.append({
                        'evaluation': evaluation.id,
                        'household': party.id,
                        'classification': classification,
                        'note': note,
                        'scores': [('create', [{
                                        'criterion': c.id,
                                        'score': s,
                                        } for c, s in scores.items()])],
                        })
                continue
            current = {s.criterion: s for s in line.scores}
            for criterion, value in scores.items():
                score = current.get(criterion)
                if score is None:
                    score = Score(line=line, criterion=criterion)
                if score.id is None or score.score != value:
                    score.score = value
                    to_save.append(score)
            if note and line.note != note:
                line.note = note
                line.save()
        Score.save(to_save)
        if to_create:
            Line.create(to_create)
        return len(to_create), len(rows) - len(to_create)
