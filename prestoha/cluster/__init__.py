"""The cluster as one process sees it: topology, per-node health and the prober.

:class:`Cluster` (``_cluster``) joins a discovery source to a
:class:`~prestoha.routing.Router` and is shared by every connection of the process to that
source (:meth:`Cluster.shared`; :func:`reset_shared` for test fixtures). :class:`Prober`
(``_prober``) asks each coordinator ``/v1/info`` in the background. :class:`Coordinator`
(``_coordinator``) names one node.
"""

from __future__ import annotations

from prestoha.cluster._cluster import HANG_CHECK_TIMEOUT, Cluster, reset_shared
from prestoha.cluster._coordinator import Coordinator
from prestoha.cluster._prober import Prober

__all__ = ["HANG_CHECK_TIMEOUT", "Cluster", "Coordinator", "Prober", "reset_shared"]
