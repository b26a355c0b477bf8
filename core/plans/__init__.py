"""Plan, then apply: each write is a pure planner (server facts in, typed plan out) and an executor.

The plan is both what a preview shows and exactly what the write executes. At execution the
executor reads the facts again, plans again, and compares: a step whose world changed since the
preview is skipped with its reason, or the write is refused, and the response says what changed.

* ``rules``: the shared rules (URL identity, drain state, active run), decided once.
* ``redeploy``: force-redeploy. ``cleanup``: cleanup-stale-deployments.
  ``recover``: recover-stuck-workflow.

The submodules are imported by name (``core.plans.cleanup``); this package re-exports nothing, so
``core.restate.queries`` can use ``core.plans.rules`` without an import cycle.
"""
