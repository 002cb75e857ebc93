"""Adapter: a Tomcat (any JVM) gets Prometheus metrics from JMX without a Java agent.

The adapter gives the app's JVM the flags that open remote JMX on 127.0.0.1:9010
(JAVA_TOOL_OPTIONS here; Tomcat's start script also reads CATALINA_OPTS), and runs
jmx_exporter's standalone server next to it, which reads those MBeans and serves /metrics.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import (
    JmxMetricType,
    JmxRule,
    MetricsAdapter,
    MetricsSource,
    container_resources,
    restricted_pod_security,
)

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "metrics-jmx", namespace="shop")
    tomcat = kplus.Deployment(chart, "catalog")
    tomcat.add_container(
        name="tomcat",
        image="example/catalog-tomcat:10.1.0",
        ports=[kplus.ContainerPort(number=8080, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=10001, group=10001),
        resources=container_resources(250, 2000, 512, 1024),
    )
    MetricsAdapter(
        chart,
        "metrics",
        workload=tomcat,
        source=MetricsSource.jmx(
            # jmx_exporter ships no image; this one runs `java -jar jmx_prometheus_standalone.jar`.
            image="bitnamilegacy/jmx-exporter:1.1.0",
            jmx_port=9010,
            rules=[
                JmxRule(
                    pattern=r'Catalina<type=GlobalRequestProcessor, name="(?<connector>[^"]+)">'
                    r"<>requestCount",
                    name="tomcat_requests_total",
                    labels={"connector": "${connector}"},
                    type=JmxMetricType.COUNTER,
                ),
                JmxRule(
                    pattern=r"java.lang<type=Memory><HeapMemoryUsage>used",
                    name="jvm_heap_used_bytes",
                    type=JmxMetricType.GAUGE,
                ),
            ],
        ),
    )
    restricted_pod_security(tomcat)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
