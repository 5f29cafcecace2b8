"""SQLAlchemy support: the ``prestoha://`` dialect (see docs/sqlalchemy.md).

::

    engine = sqlalchemy.create_engine("prestoha://me@/tpch/tiny?zk=zk1:2181,zk2:2181")

The dialect is registered through the ``sqlalchemy.dialects`` entry point, so importing this
package is not needed; :mod:`prestoha.sqlalchemy.dialect` holds it and
:mod:`prestoha.sqlalchemy.url` says how a URL maps to :func:`prestoha.connect` options.
"""

from __future__ import annotations
