# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the tests of the card module and of later modules"
from trytond.modules.huinong_household.tests.tools import resident_id
from trytond.pool import Pool
from trytond.transaction import Transaction


def create_user(login, group, areas):
    "Create a user in the huinong group (xml id) answering for the areas"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user, = User.create([{
                'login': login,
                'name': login,
                'groups': [('add', [ModelData.get_id('huinong', group)])],
                'huinong_areas': [('add', [a.id for a in areas])],
                }])
    return user


def create_household(village, serial, **values):
    pool = Pool()
    Party = pool.get('party.party')
    values.setdefault('name', "户主%s" % serial)
    values.setdefault('huinong_resident_id', resident_id(serial))
    party, = Party.create([{
                'huinong_household': True,
                'huinong_village': village.id,
                **values}])
    return party


def issue_card(household, pin='135790'):
    "Create and issue a card as the root user (no approval checks)"
    pool = Pool()
    Card = pool.get('huinong.card')
    with Transaction().set_user(0):
        card, = Card.create([{'household': household.id}])
        Card.apply([card])
        Card.village_review([card])
        Card.committee_review([card])
        Card.township_review([card])
        Card.issue([card], pin, pin)
    return Card(card.id)


def in_transaction(func, *args, commit=False, user=None, context=None,
        check=False, busy_retries=0, alone=False):
    """Run func in a transaction of its own, as a request: retried with the
    locks it asks for (as trytond's dispatcher does), then committed or
    rolled back. Exceptions of func propagate after a rollback.

    context is set around func, check runs it with access checks, and
    busy_retries times a lock that another transaction holds (trytond
    takes them without waiting) is retried, as a client sends again.
    alone: no other transaction runs (a test's set-up), so none of trytond's
    locks is needed and func runs once instead of once per lock it asks
    for (huinong.tests.tools.with_transaction)."""
    import time

    from trytond import backend
    from trytond.modules.huinong.tests.tools import every_table
    from trytond.tests.test_tryton import DB_NAME, USER
    from trytond.transaction import TransactionError, check_access
    extras = {}
    busy = 0
    while True:
        try:
            with Transaction().start(
                    DB_NAME, USER if user is None else user, context={},
                    **extras) as transaction:
                if alone:
                    transaction._locked_tables = every_table()
                try:
                    with Transaction().set_context(context or {}):
                        if check:
                            with check_access():
                                result = func(*args)
                        else:
                            result = func(*args)
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
                    continue
                except Exception:
                    transaction.rollback()
                    raise
                if commit:
                    transaction.commit()
                else:
                    transaction.rollback()
                return result
        except backend.DatabaseOperationalError:
            if busy >= busy_retries:
                raise
            busy += 1
            time.sleep(0.02)
