"""Alert fixtures: real local SMTP and HTTP receivers; configs isolated by pipeline name on shared buckets."""

from tests.alerts.receivers import dead_port, http_receiver, smtp_receiver  # noqa: F401 (fixtures)
from tests.alerts.stores import make_config, shared_buckets  # noqa: F401 (fixtures)
