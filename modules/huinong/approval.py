# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One approval chain for every document of the programme.

Card issuance, the monthly evaluation sheet, the price review and the
settlement are approved the same way: ordered steps, each done by one group
within one area, who and when recorded, a return with a required reason,
and nobody doing two steps of one document. A document inherits
``ApprovalMixin`` (a ``Workflow``), declares its steps in
``_approval_steps`` and decorates each step's transition with
``approval_step``::

    @classmethod
    @ModelView.button
    @Workflow.transition('township_reviewed')
    @approval_step('township_review')
    def township_review(cls, cards):
        pass

Every step and return is kept as a ``huinong.approval`` sign-off.
"""
import datetime as dt
import functools
from collections import namedtuple

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import ApprovalError

# groups: XML ids of the groups that may do the step ('module.id');
# scope: 'village', 'township' or 'county': the area of the document that
# the user must answer for (see ApprovalMixin.get_approval_area);
# by_field / at_field: fields of the document that keep who and when.
ApprovalStep = namedtuple(
    'ApprovalStep', ['groups', 'scope', 'by_field', 'at_field'])


def approval_by_field(string):
    "A field for the user who did a step"
    return fields.Many2One('res.user', string, readonly=True)


def approval_at_field(string):
    "A field for when a step was done"
    return fields.DateTime(string, readonly=True)


def approval_step(step):
    """Decorate a transition: check who may do the step, then record it.

    Put it under ``Workflow.transition`` so that it sees only the records
    that make the transition."""
    def decorator(func):
        @functools.wraps(func)
        def wrapper(cls, records, *args, **kwargs):
            cls.check_approval(records, step)
            result = func(cls, records, *args, **kwargs)
            cls.record_approval(records, step)
            return result
        return wrapper
    return decorator


class Approval(ModelSQL, ModelView):
    "Sign-off"
    __name__ = 'huinong.approval'

    document = fields.Reference(
        "Document", selection='get_documents', required=True, readonly=True)
    step = fields.Char("Step Name", readonly=True)
    step_string = fields.Function(fields.Char("Step"), 'get_step_string')
    action = fields.Selection([
            ('approve', "Approved"),
            ('return', "Returned"),
            ('event', "Done"),
            ], "Action", required=True, readonly=True)
    user = fields.Many2One(
        'res.user', "User", required=True, readonly=True,
        ondelete='RESTRICT')
    date = fields.DateTime("Date", required=True, readonly=True)
    reason = fields.Text("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def get_documents(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        models = [
            name for name, klass in pool.iterobject()
            if issubclass(klass, ApprovalMixin)]
        return [(None, '')] + [
            (m, Model.get_name(m)) for m in models]

    @classmethod
    def get_step_string(cls, approvals, name):
        strings, result = {}, {}
        for approval in approvals:
            if approval.action == 'return':
                result[approval.id] = gettext(
                    'huinong.msg_approval_return_step')
                continue
            document = approval.document
            key = (document.__name__ if document else None, approval.step)
            if key not in strings:
                if document and hasattr(document, '_step_string'):
                    strings[key] = document._step_string(approval.step)
                else:
                    strings[key] = approval.step
            result[approval.id] = strings[key]
        return result

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        # Sign-offs are a register: never changed, never removed
        if mode in {'write', 'delete'}:
            raise AccessError(gettext('huinong.msg_approval_immutable'))


class ApprovalMixin(Workflow):
    "A document approved by an ordered chain of steps"
    __slots__ = ()

    approvals = fields.One2Many(
        'huinong.approval', 'document', "Sign-offs", readonly=True)
    return_reason = fields.Text(
        "Return Reason", readonly=True,
        states={
            'invisible': ~Eval('return_reason'),
            },
        help="Why the document was last returned.")

    awaiting_me = fields.Function(fields.Boolean("Waiting for Me",
            help="The documents whose next step is one the user may do "
            "(and who did no other step of them)."),
        'get_awaiting_me', searcher='search_awaiting_me')

    # step name: ApprovalStep; filled by the documents
    _approval_steps = {}
    # state: name of the step that acts next, who may return the document
    _approval_next = {}
    # the first step and the states that wait for it (a draft, a returned
    # document): they are waiting for whoever prepares the document
    _approval_first = None
    _approval_first_states = ('draft',)

    def get_approval_area(self, scope):
        "Return the area (village or township) of the document for the scope"
        raise NotImplementedError

    @classmethod
    def _step_string(cls, step):
        "The translated name of a step: the label of its button"
        pool = Pool()
        Button = pool.get('ir.model.button')
        with without_check_access():
            buttons = Button.search([
                    ('model', '=', cls.__name__),
                    ('name', '=', step),
                    ], limit=1)
        if buttons and buttons[0].string:
            return buttons[0].string
        return step

    @classmethod
    def _approval_waiting(cls):
        "{state: step} of every state that waits for a step"
        waiting = {}
        if cls._approval_first:
            waiting.update((s, cls._approval_first)
                for s in cls._approval_first_states)
        waiting.update(cls._approval_next)
        return waiting

    @classmethod
    def _my_waiting_states(cls):
        "The states waiting for a step of one of the user's groups"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        groups = set(User.get_groups())
        states = []
        for state, step in cls._approval_waiting().items():
            definition = cls._approval_steps[step]
            allowed = {ModelData.get_id(*g.split('.'))
                for g in definition.groups}
            if groups & allowed:
                states.append(state)
        return states

    @classmethod
    def _my_other_steps_query(cls, step):
        """The ids of the documents the user approved another step of than
        step, as SQL"""
        pool = Pool()
        Approval = pool.get('huinong.approval')
        approval = Approval.__table__()
        return approval.select(
            Approval.document.sql_id(approval.document, cls),
            where=approval.document.like(cls.__name__ + ',%')
            & (approval.action == 'approve')
            & (approval.step != step)
            & (approval.user == Transaction().user))

    @classmethod
    def get_awaiting_me(cls, records, name):
        states = set(cls._my_waiting_states())
        user_id = Transaction().user
        result = {r.id: False for r in records}
        candidates = [r for r in records
            if getattr(r, cls._transition_state) in states]
        if not candidates or not user_id:
            return result
        pool = Pool()
        Approval = pool.get('huinong.approval')
        waiting = cls._approval_waiting()
        with without_check_access():
            done = Approval.search([
                    ('document', 'in', [str(r) for r in candidates]),
                    ('action', '=', 'approve'),
                    ('user', '=', user_id),
                    ])
        did = {}
        for approval in done:
            did.setdefault(approval.document.id, set()).add(approval.step)
        for record in candidates:
            step = waiting[getattr(record, cls._transition_state)]
            # nobody does two steps of one document
            if not (did.get(record.id, set()) - {step}):
                result[record.id] = True
        return result

    @classmethod
    def search_awaiting_me(cls, name, clause):
        _, operator, value = clause[:3]
        positive = bool(value) if operator == '=' else not bool(value)
        waiting = cls._approval_waiting()
        domain = ['OR']
        for state in cls._my_waiting_states():
            domain.append([
                    (cls._transition_state, '=', state),
                    ('id', 'not in', cls._my_other_steps_query(
                            waiting[state])),
                    ])
        if len(domain) == 1:
            domain = [('id', '=', -1)]
        if positive:
            return domain
        return [('id', 'not in', cls.search(domain, query=True))]

    @classmethod
    def check_approval(cls, records, step):
        """Check that the current user may do the step on the records:
        a member of the step's groups, answering for the document's area,
        who did no other step of the document."""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Approval = pool.get('huinong.approval')
        transaction = Transaction()
        user_id = transaction.user
        if not user_id or not records:
            return
        definition = cls._approval_steps[step]
        groups = set(User.get_groups())
        allowed = {ModelData.get_id(*g.split('.')) for g in definition.groups}
        if not groups & allowed:
            raise ApprovalError(gettext(
                    'huinong.msg_approval_group',
                    step=cls._step_string(step),
                    document=records[0].rec_name))
        if definition.scope != 'county' and not User.is_huinong_county_wide():
            _, townships, villages = User.get_huinong_scope()
            scope = set(villages if definition.scope == 'village'
                else townships)
            for record in records:
                area = record.get_approval_area(definition.scope)
                if not area or area.id not in scope:
                    raise ApprovalError(gettext(
                            'huinong.msg_approval_area',
                            step=cls._step_string(step),
                            document=record.rec_name,
                            area=area.rec_name if area else ''))
        with without_check_access():
            others = Approval.search([
                    ('document', 'in', [str(r) for r in records]),
                    ('action', '=', 'approve'),
                    ('user', '=', user_id),
                    ('step', '!=', step),
                    ], limit=1)
        if others:
            other, = others
            raise ApprovalError(gettext(
                    'huinong.msg_approval_two_steps',
                    document=other.document.rec_name,
                    step=cls._step_string(step),
                    other=cls._step_string(other.step)))

    @classmethod
    def record_approval(cls, records, step, action='approve', reason=None):
        "Keep the sign-off and who did the step when"
        pool = Pool()
        Approval = pool.get('huinong.approval')
        if not records:
            return
        now = dt.datetime.now()
        user_id = Transaction().user or None
        if user_id:
            with without_check_access():
                Approval.create([{
                            'document': str(r),
                            'step': step,
                            'action': action,
                            'user': user_id,
                            'date': now,
                            'reason': reason,
                            } for r in records])
        definition = cls._approval_steps.get(step)
        if action == 'approve' and definition:
            values = {}
            if definition.by_field:
                values[definition.by_field] = user_id
            if definition.at_field:
                values[definition.at_field] = now
            if values:
                with without_check_access():
                    cls.write(list(records), values)

    @classmethod
    def approval_return(cls, records, reason):
        """Send the records back to the start with the reason.
        Only who may do the next step of a record may return it."""
        if not reason or not reason.strip():
            raise ApprovalError(gettext('huinong.msg_approval_reason'))
        by_step = {}
        for record in records:
            step = cls._approval_next.get(getattr(
                    record, cls._transition_state))
            if not step:
                raise ApprovalError(gettext(
                        'huinong.msg_approval_not_returnable',
                        document=record.rec_name))
            by_step.setdefault(step, []).append(record)
        for step, step_records in by_step.items():
            cls.check_approval(step_records, step)
        # Checked above: the transition writes the protected state
        with without_check_access():
            cls.return_(records)
        cls.record_approval(records, 'return', action='return',
            reason=reason.strip())
        values = {'return_reason': reason.strip()}
        for definition in cls._approval_steps.values():
            if definition.by_field:
                values[definition.by_field] = None
            if definition.at_field:
                values[definition.at_field] = None
        with without_check_access():
            cls.write(list(records), values)

    @classmethod
    def return_(cls, records):
        "The transition back to the start; defined by each document"
        raise NotImplementedError

    @classmethod
    def _approval_protected_fields(cls):
        "Fields that only the workflow may write"
        fields_ = {cls._transition_state, 'approvals', 'return_reason'}
        for definition in cls._approval_steps.values():
            fields_.update(f for f in [
                    definition.by_field, definition.at_field] if f)
        return fields_

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        # A client writing the state or a sign-off would skip the chain:
        # buttons and wizards write them without access checks instead
        if mode == 'write' and external and values:
            protected = set(values) & cls._approval_protected_fields()
            if protected:
                raise AccessError(gettext(
                        'huinong.msg_approval_protected_field',
                        fields=', '.join(sorted(protected))))

    @classmethod
    def copy(cls, records, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('approvals')
        default.setdefault('return_reason')
        for definition in cls._approval_steps.values():
            for field in [definition.by_field, definition.at_field]:
                if field:
                    default.setdefault(field)
        return super().copy(records, default=default)


class ApprovalReturnStart(ModelView):
    "Return for Correction"
    __name__ = 'huinong.approval.return.start'

    reason = fields.Text("Reason", required=True,
        help="Why the document goes back; the people who prepared it "
        "will read it.")


class ApprovalReturn(Wizard):
    "Return for Correction"
    __name__ = 'huinong.approval.return'

    start = StateView(
        'huinong.approval.return.start',
        'huinong.approval_return_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Return", 'return_', 'tryton-back', default=True),
            ])
    return_ = StateTransition()

    def transition_return_(self):
        self.model.approval_return(self.records, self.start.reason)
        return 'end'
