# This file is part of huinong.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The opening hours notice posted on the store's door (营业时间公示,
R-OPS-1)."""
from trytond.pool import Pool
from trytond.report import Report

from .store import WEEKDAYS, format_time


class OpeningHoursNotice(Report):
    "Opening Hours Notice"
    __name__ = 'huinong.store.opening_hours.notice'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['opening_hours'] = cls.opening_hours
        context['clerks'] = cls.clerks
        return context

    @classmethod
    def opening_hours(cls, store):
        """Return the (weekday label, intervals) of the store from Monday to
        Sunday, the intervals as "08:00-12:00  14:00-18:30" """
        pool = Pool()
        OpeningHours = pool.get('huinong.store.opening_hours')
        labels = dict(
            OpeningHours.fields_get(['weekday'])['weekday']['selection'])
        days = []
        for weekday, _ in WEEKDAYS:
            lines = sorted(
                (l for l in store.huinong_opening_hours
                    if l.weekday == weekday),
                key=lambda l: l.opens)
            days.append((labels[weekday], '  '.join(
                        '%s-%s' % (format_time(l.opens),
                            format_time(l.closes))
                        for l in lines)))
        return days

    @classmethod
    def clerks(cls, store):
        return '、'.join(c.name for c in store.huinong_clerks if c.name)
