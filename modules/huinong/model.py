# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Model mixins the huinong modules share"
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction


class EditGroupsMixin:
    """Only the members of _edit_groups create, change or delete these
    records, on every path a user takes (the record, its parent's
    one2many, an import, a wizard): what the system writes itself (a
    redemption's uses, a scheduled task) is not a user's edit.

    For the records whose access comes through __access__ from a parent
    (a household's class, its counted entitlements): trytond then grants
    the HIGHEST access of the record's model and of the parent's, so whoever
    may change a household (the village committee) could change its class
    or grant it goods.  _edit_groups: XML ids 'module.group'; empty: no
    user.  _edit_groups_message: the ir.message of the refusal."""
    __slots__ = ()
    _edit_groups = ()
    _edit_groups_message = 'huinong.msg_edit_groups'

    @classmethod
    def create(cls, vlist):
        # before anything is written (trytond checks a creation's
        # modification after inserting and validating the rows)
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            cls.check_edit_groups()
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if external and mode != 'create':
            cls.check_edit_groups()

    @classmethod
    def check_edit_groups(cls):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        allowed = {ModelData.get_id(*g.split('.')) for g in cls._edit_groups}
        if not allowed & set(User.get_groups()):
            raise AccessError(gettext(cls._edit_groups_message))
