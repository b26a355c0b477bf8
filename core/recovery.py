"""The three write routes, one module each; import them from here.

* :func:`force_redeploy` (``core.redeploy``): register the live service URL.
* :func:`cleanup_stale_deployments` (``core.cleanup``): keep one deployment, delete drained others.
* :func:`recover_stuck_workflow` (``core.recover``): reset one terminal-failed workflow key.
"""

from core.cleanup import cleanup_stale_deployments
from core.recover import recover_stuck_workflow
from core.redeploy import force_redeploy

__all__ = ["cleanup_stale_deployments", "force_redeploy", "recover_stuck_workflow"]
