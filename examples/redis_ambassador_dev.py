"""Ambassador, development mode: the same app, but "skip the proxy and connect directly".

One switch replaces Envoy with a real Redis in the pod, on the same localhost port; the
app's REDIS_URL is identical, so its code does not change between environments.
"""

import cdk8s

from constructs_lib import RedisAmbassador

from .redis_ambassador import add_app


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "redis-ambassador-dev", namespace="shop-dev")
    RedisAmbassador(
        chart, "cache", deployment=add_app(chart), primary="unused.invalid:6379", development=True
    )
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
