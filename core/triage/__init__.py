"""Bulk triage of invocations: select by filter, preview one action, approve, run, report.

* ``filter``: the typed filter and its SQL condition (every value through ``literal()``).
* ``select``: the capped selection and its true total; the per-item re-check query.
* ``models``: the readout, offers, stored action, per-item report, request bodies.
* ``actions``: what each action applies to, from which Restate version; one admin call each.
* ``store``: the previewed action in Redis, with atomic approve / claim / cancel.
* ``execute``: bounded concurrency, re-check per item, stop flag, per-item outcomes.
* ``audited``: one audited attempt per call, as a context manager (fail closed for writes).
* ``service``: the use cases every surface calls (:class:`~core.triage.service.Triage`).
"""
