# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers shared by the huinong modules"
from trytond.model import fields

_NOT_DEFAULTED = {'id', 'create_uid', 'create_date', 'write_uid',
    'write_date', 'rec_name'}


def stored_defaults(Model, exclude=()):
    """The defaults of Model's stored columns, every module's, for rows
    written in bulk by SQL (the counter's stock moves, the ledger's lines):
    {field name: default or None}, without the audit columns, the id and
    the names in exclude"""
    names = []
    for name, field in Model._fields.items():
        if (isinstance(field, (fields.Function, fields.One2Many,
                        fields.Many2Many))
                or name in _NOT_DEFAULTED or name in exclude):
            continue
        names.append(name)
    defaults = Model.default_get(names, with_rec_name=False)
    return {n: defaults.get(n) for n in names}


def record_gettext(message_id, **variables):
    """A message as it is stored in a record (a move's description, an
    invoice's, a lock reason, a location's name): in the programme's
    language, [huinong] language of the configuration (zh_CN), whoever
    writes it (the administrator, a scheduled task, a user with another
    language); the source text when the language is not loaded."""
    from trytond.config import config
    from trytond.i18n import gettext
    language = config.get('huinong', 'language', default='zh_CN')
    return gettext(message_id, language, **variables)
