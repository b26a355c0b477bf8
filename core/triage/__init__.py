"""Bulk triage of invocations: select by filter, preview one action, approve, run, report.

* ``filter``: the typed filter and its SQL condition (every value through ``literal()``).
* ``select``: the capped selection and its true total; the per-item re-check query.
* ``actions``: what each action applies to, from which Restate version; one admin call each.
* ``store``: the previewed action in Redis, with atomic approve / claim / cancel.
* ``execute``: bounded concurrency, re-check per item, stop flag, per-item outcomes.
* ``service``: the audited use cases every surface calls (:class:`~core.triage.service.Triage`).
"""
