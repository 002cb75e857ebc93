"""Ambassador, development mode: the same app and the same proxy, with a Redis in the pod.

One switch points the Envoy ambassador at a scratch redis-server in the pod instead of the
remote primary and replicas. The app's env (REDIS_URL...) is byte-for-byte the same, and it
meets the same proxy (RESP2, the same supported commands, the same AUTH), so whatever works
in development works in production.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import RedisAmbassador

# isort: split
import cdk8s

from .redis_ambassador import add_app


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "redis-ambassador-dev", namespace="shop-dev")
    RedisAmbassador(chart, "cache", workload=add_app(chart), primary="unused.invalid:6379", development=True)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
