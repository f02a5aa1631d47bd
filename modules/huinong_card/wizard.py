# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Wizards of the card: issue with a PIN, lock, unlock, change and reset the
PIN. PINs typed in a wizard are cleared before the wizard's session is
saved: they are never stored."""
from trytond.model import ModelView, fields
from trytond.wizard import Button, StateTransition, StateView, Wizard


class _PINMixin:
    __slots__ = ()

    def _clear_pins(self, *names):
        for name in names:
            setattr(self.start, name, None)


class IssueStart(ModelView):
    "Issue Card"
    __name__ = 'huinong.card.issue.start'

    card = fields.Many2One('huinong.card', "Card", readonly=True)
    head = fields.Char("Head of Household", readonly=True)
    pin = fields.Char("PIN", required=True, size=6, strip=False,
        help="Six digits chosen by the household, typed by the household.")
    confirm = fields.Char("Confirm PIN", required=True, size=6, strip=False)


class Issue(_PINMixin, Wizard):
    "Issue Card"
    __name__ = 'huinong.card.issue'

    start = StateView('huinong.card.issue.start',
        'huinong_card.issue_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Issue", 'issue', 'tryton-ok', default=True),
            ])
    issue = StateTransition()

    def default_start(self, fields):
        return {
            'card': self.record.id,
            'head': self.record.household.name,
            }

    def transition_issue(self):
        pin, confirm = self.start.pin, self.start.confirm
        self._clear_pins('pin', 'confirm')
        self.model.issue([self.record], pin, confirm)
        return 'end'


class ReasonStart(ModelView):
    "Card Reason"
    __name__ = 'huinong.card.reason.start'

    reason = fields.Text("Reason", required=True)


class Lock(Wizard):
    "Lock Card"
    __name__ = 'huinong.card.lock'

    start = StateView('huinong.card.reason.start',
        'huinong_card.reason_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Lock", 'lock', 'huinong-lock', default=True),
            ])
    lock = StateTransition()

    def transition_lock(self):
        self.model.lock_card(self.records, self.start.reason)
        return 'end'


class Unlock(Wizard):
    "Unlock Card"
    __name__ = 'huinong.card.unlock'

    start = StateView('huinong.card.reason.start',
        'huinong_card.reason_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Unlock", 'unlock', 'huinong-unlock', default=True),
            ])
    unlock = StateTransition()

    def transition_unlock(self):
        self.model.unlock(self.records, self.start.reason)
        return 'end'


class ChangePINStart(ModelView):
    "Change PIN"
    __name__ = 'huinong.card.change_pin.start'

    old = fields.Char("Current PIN", required=True, size=6, strip=False)
    pin = fields.Char("New PIN", required=True, size=6, strip=False)
    confirm = fields.Char("Confirm New PIN", required=True, size=6,
        strip=False)


class ChangePIN(_PINMixin, Wizard):
    "Change PIN"
    __name__ = 'huinong.card.change_pin'

    start = StateView('huinong.card.change_pin.start',
        'huinong_card.change_pin_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Change", 'change', 'tryton-ok', default=True),
            ])
    change = StateTransition()

    def transition_change(self):
        old, pin, confirm = self.start.old, self.start.pin, self.start.confirm
        self._clear_pins('old', 'pin', 'confirm')
        self.record.change_pin(old, pin, confirm)
        return 'end'


class ResetPINStart(ModelView):
    "Reset PIN"
    __name__ = 'huinong.card.reset_pin.start'

    pin = fields.Char("New PIN", required=True, size=6, strip=False,
        help="Typed by the household.")
    confirm = fields.Char("Confirm New PIN", required=True, size=6,
        strip=False)
    reason = fields.Text("Reason", required=True)


class ResetPIN(_PINMixin, Wizard):
    "Reset PIN"
    __name__ = 'huinong.card.reset_pin'

    start = StateView('huinong.card.reset_pin.start',
        'huinong_card.reset_pin_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reset", 'reset', 'tryton-ok', default=True),
            ])
    reset = StateTransition()

    def transition_reset(self):
        pin, confirm = self.start.pin, self.start.confirm
        self._clear_pins('pin', 'confirm')
        self.record.reset_pin(pin, confirm, self.start.reason)
        return 'end'
