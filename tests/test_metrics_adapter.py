"""MetricsAdapter: each source's exporter, the uniform endpoint, discovery, and every bad input."""

import types
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import constructs
import pytest
import yaml

from constructs_lib import (
    CollisionError,
    JmxMetricType,
    JmxRule,
    JsonMetric,
    MetricsAdapter,
    MetricsDiscovery,
    MetricsSource,
    PropsError,
    RedisAmbassador,
    SidecarGitSync,
    StatsdMapping,
    StatsdMatchType,
    StatsdMetricType,
    StatsdObserver,
    metrics_defaults,
)

from .helpers import (
    K8S_NEWEST,
    K8S_OLDEST,
    chart,
    containers,
    kind,
    pod,
    pod_monitor_errors,
    pod_monitor_schema_errors,
    synth,
    validate,
    web,
)

JMX_IMAGE = "bitnamilegacy/jmx-exporter:1.1.0"
TOMCAT_PATTERN = r'Catalina<type=GlobalRequestProcessor, name="(?<connector>[^"]+)"><>processingTime'
DJANGO = StatsdMapping(
    match="django.view.*.duration",
    name="django_view_duration_seconds",
    labels={"view": "$1"},
    observer_type=StatsdObserver.HISTOGRAM,
    buckets=[0.05, 0.1, 0.5, 1],
)


def attach(
    source: MetricsSource | None = None,
    c: cdk8s.Chart | None = None,
    dep: kplus.Deployment | None = None,
    **kw: Any,
) -> tuple[cdk8s.Chart, MetricsAdapter]:
    c = c or chart()
    dep = dep or web(c)
    return c, MetricsAdapter(
        c, "metrics", deployment=dep, source=source or MetricsSource.statsd(mappings=[DJANGO]), **kw
    )


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """metav1.LabelSelector semantics (apimachinery LabelSelectorAsSelector), as the Prometheus
    Operator applies podMonitorSelector: a nil selector selects nothing, an empty one everything;
    matchLabels and every matchExpressions requirement must all hold."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for req in selector.get("matchExpressions", []):
        key, op, values = req["key"], req["operator"], req.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def adapter(c: cdk8s.Chart, name: str = "metrics-adapter") -> dict[str, Any]:
    return containers(synth(c))[name]


def annotations(c: cdk8s.Chart) -> dict[str, str]:
    (dep,) = kind(synth(c), "Deployment")
    return dict(dep["spec"]["template"]["metadata"].get("annotations", {}))


def statsd_yaml(*mappings: StatsdMapping) -> dict[str, Any]:
    c, _ = attach(MetricsSource.statsd(mappings=list(mappings)))
    (cm,) = kind(synth(c), "ConfigMap")
    return dict(yaml.safe_load(cm["data"]["mapping.yaml"]))


class TestStatsd:
    def test_exporter_container(self) -> None:
        c, m = attach()
        ad = adapter(c)
        assert ad["image"] == "prom/statsd-exporter:v0.28.0"
        assert ad["args"] == [
            "--web.listen-address=:9102",
            "--web.telemetry-path=/metrics",
            "--statsd.listen-udp=127.0.0.1:9125",
            "--statsd.listen-tcp=127.0.0.1:9125",
            "--statsd.mapping-config=/etc/metrics-adapter/mapping.yaml",
        ]
        # StatsD listens on 127.0.0.1 only: a declared port would promise what no Service,
        # probe or scraper on the pod IP could reach. It is reserved in the pod instead.
        assert ad["ports"] == [{"containerPort": 9102, "name": "metrics", "protocol": "TCP"}]
        assert ad["securityContext"]["runAsUser"] == 65534
        assert ad["readinessProbe"]["httpGet"] == {"path": "/metrics", "port": 9102, "scheme": "HTTP"}
        assert ad["resources"] == {
            "limits": {"cpu": "200m", "memory": "64Mi"},
            "requests": {"cpu": "10m", "memory": "32Mi"},
        }
        assert ad["volumeMounts"] == [
            {"mountPath": "/etc/metrics-adapter", "name": "metrics-adapter-config", "readOnly": True}
        ]
        assert m.port == 9102
        validate(synth(c), K8S_OLDEST)
        validate(synth(c), K8S_NEWEST)

    def test_the_app_is_told_where_to_send_statsd(self) -> None:
        c, _ = attach()
        assert containers(synth(c))["app"]["env"] == [
            {"name": "STATSD_HOST", "value": "127.0.0.1"},
            {"name": "STATSD_PORT", "value": "9125"},
        ]

    def test_mapping_yaml(self) -> None:
        assert statsd_yaml(DJANGO) == {
            "mappings": [
                {
                    "match": "django.view.*.duration",
                    "name": "django_view_duration_seconds",
                    "labels": {"view": "$1"},
                    "observer_type": "histogram",
                    "histogram_options": {"buckets": [0.05, 0.1, 0.5, 1.0]},
                }
            ]
        }

    def test_every_mapping_option(self) -> None:
        rules = statsd_yaml(
            StatsdMapping(
                match=r"^app\.(\w+)\.hits$",
                match_type=StatsdMatchType.REGEX,
                name="app_hits_total",
                labels={"page": "$1"},
                match_metric_type=StatsdMetricType.COUNTER,
                ttl=cdk8s.Duration.minutes(5),
                help="Page hits.",
            ),
            StatsdMapping(match="debug.*", drop=True),
            StatsdMapping(
                match="job.*.time",
                name="job_seconds",
                labels={"job": "$1"},
                observer_type=StatsdObserver.SUMMARY,
            ),
        )["mappings"]
        assert rules == [
            {
                "match": r"^app\.(\w+)\.hits$",
                "name": "app_hits_total",
                "match_type": "regex",
                "labels": {"page": "$1"},
                "match_metric_type": "counter",
                "ttl": "300s",
                "help": "Page hits.",
            },
            {"match": "debug.*", "name": "dropped", "action": "drop"},
            {
                "match": "job.*.time",
                "name": "job_seconds",
                "labels": {"job": "$1"},
                "observer_type": "summary",
            },
        ]

    def test_mapping_change_rolls_the_pods(self) -> None:
        c1, _ = attach(MetricsSource.statsd(mappings=[DJANGO]))
        c2, _ = attach(MetricsSource.statsd(mappings=[StatsdMapping(match="a.*", name="a_total")]))
        assert annotations(c1)["checksum/metrics-adapter"] != annotations(c2)["checksum/metrics-adapter"]

    def test_enum_values_as_strings(self) -> None:
        rules = statsd_yaml(
            StatsdMapping(match="a.*", name="a_seconds", observer_type="histogram", buckets=[1, 2])
        )
        assert rules["mappings"][0]["histogram_options"] == {"buckets": [1.0, 2.0]}

    def test_same_name_same_shape_is_fine(self) -> None:
        rules = statsd_yaml(
            StatsdMapping(match="a.*.hits", name="hits_total", labels={"src": "a"}),
            StatsdMapping(match="b.*.hits", name="hits_total", labels={"src": "b"}),
        )["mappings"]
        assert [r["name"] for r in rules] == ["hits_total", "hits_total"]

    @pytest.mark.parametrize(
        ("mapping", "match"),
        [
            (
                StatsdMapping(match="app..hits", name="x_total"),
                r"mappings\[0\].match='app..hits': not a statsd_exporter glob",
            ),
            (StatsdMapping(match="app.hits/s", name="x_total"), "not a statsd_exporter glob"),
            # Go's regexp (RE2 syntax): tests/test_regex_rules.py has the rest.
            (
                StatsdMapping(match="(a", match_type=StatsdMatchType.REGEX, name="x"),
                r"match='\(a': not a Go regular expression \(RE2\): missing \): \(a\. Fix: ",
            ),
            (
                StatsdMapping(match="a(?=b)", match_type=StatsdMatchType.REGEX, name="x"),
                r"not a Go regular expression \(RE2\): invalid perl operator: \(\?=",
            ),
            (
                StatsdMapping(match="a.*", name="x", labels={"outcome": "$2"}),
                r"labels.outcome='\$2': \$2 refers to '\*' number 2, but the glob has 1 '\*'",
            ),
            (StatsdMapping(match="a.*"), r"mappings\[0\].name=None: a mapping needs a metric name"),
            (StatsdMapping(match="a.*", name="app.hits"), "not a valid Prometheus metric name"),
            (StatsdMapping(match="a.*", name="app:hits"), "not a valid Prometheus metric name"),
            (StatsdMapping(match="a.*", name="x", labels={"v": "$1"}), r"labels='v': not a label name"),
            (StatsdMapping(match="a.*", name="x", buckets=[1, 2]), "buckets need a histogram observer"),
            (
                StatsdMapping(match="a.*", name="x", observer_type=StatsdObserver.HISTOGRAM, buckets=[2, 1]),
                "not strictly ascending",
            ),
            (StatsdMapping(match="a.*", name="x", ttl=cdk8s.Duration.millis(10)), "at least 1000ms"),
            (StatsdMapping(match="a.*", name="x", scale=0), "not a non-zero number"),
            # statsd_exporter already divides |ms timers by 1000; 0.001 would convert them twice.
            (
                StatsdMapping(match="a.*", name="x", scale=0.001),
                r"scale=0.001: .*already exports \|ms timers",
            ),
            (
                StatsdMapping(
                    match="a.*", name="x", scale=0.001, match_metric_type=StatsdMetricType.OBSERVER
                ),
                "would become 0.000123 s",
            ),
        ],
    )
    def test_bad_mapping(self, mapping: StatsdMapping, match: str) -> None:
        with pytest.raises(PropsError, match=match):
            attach(MetricsSource.statsd(mappings=[mapping]))

    def test_scale_for_values_the_exporter_does_not_convert(self) -> None:
        """Gauges in KiB, say: a scale on a non-timer mapping is the user's unit choice."""
        rule = StatsdMapping(
            match="app.heap_kib", name="app_heap_bytes", scale=1024, match_metric_type=StatsdMetricType.GAUGE
        )
        assert statsd_yaml(rule)["mappings"][0]["scale"] == 1024.0
        ms_gauge = StatsdMapping(
            match="app.lag_ms", name="app_lag_seconds", scale=0.001, match_metric_type=StatsdMetricType.GAUGE
        )
        assert statsd_yaml(ms_gauge)["mappings"][0]["scale"] == 0.001

    @pytest.mark.parametrize(
        "second",
        [
            StatsdMapping(match="b.*", name="hits_total", match_metric_type=StatsdMetricType.GAUGE),
            StatsdMapping(match="b.*", name="hits_total", observer_type=StatsdObserver.HISTOGRAM),
            StatsdMapping(match="b.*", name="hits_total", labels={"other": "x"}),
        ],
    )
    def test_duplicate_names_statsd_exporter_would_drop_as_conflicts(self, second: StatsdMapping) -> None:
        first = StatsdMapping(match="a.*", name="hits_total", labels={"src": "a"})
        with pytest.raises(
            PropsError, match=r"mappings\[1\].name='hits_total': mappings\[0\] already defines"
        ):
            attach(MetricsSource.statsd(mappings=[first, second]))

    def test_statsd_port_collision(self) -> None:
        with pytest.raises(PropsError, match="same as the metrics port"):
            attach(MetricsSource.statsd(statsd_port=9102))


class TestOtherSources:
    def test_nginx(self) -> None:
        c, m = attach(MetricsSource.nginx(scrape_uri="http://127.0.0.1:8081/nginx_status"))
        ad = adapter(c)
        assert ad["image"] == "nginx/nginx-prometheus-exporter:1.4.2"
        assert ad["args"] == [
            "--nginx.scrape-uri=http://127.0.0.1:8081/nginx_status",
            "--web.listen-address=:9113",
            "--web.telemetry-path=/metrics",
        ]
        assert ad["securityContext"]["runAsUser"] == 65534
        assert "volumeMounts" not in ad
        assert m.port == 9113
        assert annotations(c) == {
            "prometheus.io/path": "/metrics",
            "prometheus.io/port": "9113",
            "prometheus.io/scrape": "true",
        }

    def test_redis_with_a_password_map_from_a_secret(self) -> None:
        c = chart()
        pw = kplus.SecretValue(
            secret=kplus.Secret.from_secret_name(c, "pw", "redis-exporter"), key="passwords.json"
        )
        c, _ = attach(MetricsSource.redis(address="redis://127.0.0.1:6380", password_map=pw), c)
        docs = synth(c)
        ad = adapter(c)
        assert ad["args"] == [
            "--redis.addr=redis://127.0.0.1:6380",
            "--web.listen-address=:9121",
            "--web.telemetry-path=/metrics",
            # Per-address passwords: /scrape?target=elsewhere gets none (redis_exporter#1104).
            "--redis.password-file=/etc/metrics-adapter-auth/passwords.json",
        ]
        assert "env" not in ad
        assert {
            "mountPath": "/etc/metrics-adapter-auth",
            "name": "metrics-adapter-auth",
            "readOnly": True,
        } in ad["volumeMounts"]
        (vol,) = [v for v in pod(docs)["volumes"] if v["name"] == "metrics-adapter-auth"]
        assert vol["secret"] == {
            "defaultMode": 0o440,
            "items": [{"key": "passwords.json", "path": "passwords.json"}],
            "secretName": "redis-exporter",
        }
        assert pod(docs)["securityContext"]["fsGroup"] == 59000
        assert ad["securityContext"]["runAsUser"] == 59000
        validate(docs, K8S_OLDEST)

    def test_json(self) -> None:
        source = MetricsSource.json(
            url="http://127.0.0.1:8080/stats",
            metrics=[
                JsonMetric(name="app_queue_depth", path="{.queue.depth}", help="Jobs waiting."),
                JsonMetric(
                    name="app_worker",
                    path="{.workers[*]}",
                    type="object",
                    labels={"id": "{.id}"},
                    values={"busy": "{.busy}"},
                ),
            ],
        )
        c, m = attach(source, discovery=MetricsDiscovery.BOTH)
        docs = synth(c)
        (cm,) = kind(docs, "ConfigMap")
        assert yaml.safe_load(cm["data"]["config.yml"]) == {
            "modules": {
                "default": {
                    "metrics": [
                        {
                            "name": "app_queue_depth",
                            "path": "{.queue.depth}",
                            "type": "value",
                            "valuetype": "gauge",
                            "help": "Jobs waiting.",
                        },
                        {
                            "name": "app_worker",
                            "path": "{.workers[*]}",
                            "type": "object",
                            "valuetype": "gauge",
                            "labels": {"id": "{.id}"},
                            "values": {"busy": "{.busy}"},
                        },
                    ]
                }
            }
        }
        assert adapter(c)["args"] == [
            "--config.file=/etc/metrics-adapter/config.yml",
            "--web.listen-address=:7979",
        ]
        # json_exporter is multi-target: discovery carries module and target.
        assert m.metrics_path == "/probe"
        assert m.metrics_params == {"module": "default", "target": "http://127.0.0.1:8080/stats"}
        assert annotations(c)["prometheus.io/path"] == "/probe"
        assert annotations(c)["prometheus.io/param_target"] == "http://127.0.0.1:8080/stats"
        (pm,) = kind(docs, "PodMonitor")
        assert pm["spec"]["podMetricsEndpoints"] == [
            {
                "port": "metrics",
                "path": "/probe",
                "params": {"module": ["default"], "target": ["http://127.0.0.1:8080/stats"]},
            }
        ]
        validate(docs, K8S_OLDEST)

    def test_jmx(self) -> None:
        c, m = attach(
            MetricsSource.jmx(
                image=JMX_IMAGE,
                jmx_port=5555,
                rules=[
                    JmxRule(
                        pattern=r"java.lang<type=Memory><HeapMemoryUsage>(\w+)",
                        name="jvm_heap_$1_bytes",
                        type=JmxMetricType.GAUGE,
                        help="Heap $1",
                    ),
                    JmxRule(
                        pattern=TOMCAT_PATTERN,
                        name="tomcat_processing_seconds_total",
                        labels={"connector": "${connector}"},
                        value_factor=0.001,
                        type="COUNTER",
                        cache=True,
                    ),
                    JmxRule(attr_name_snake_case=True),
                ],
            )
        )
        docs = synth(c)
        (cm,) = kind(docs, "ConfigMap")
        assert cm["data"]["config.yaml"] == (
            "hostPort: 127.0.0.1:5555\n"
            "lowercaseOutputName: true\n"
            "rules:\n"
            "- help: Heap $1\n"
            "  name: jvm_heap_$1_bytes\n"
            "  pattern: java.lang<type=Memory><HeapMemoryUsage>(\\w+)\n"
            "  type: GAUGE\n"
            "- cache: true\n"
            "  labels:\n"
            "    connector: ${connector}\n"
            "  name: tomcat_processing_seconds_total\n"
            f"  pattern: {TOMCAT_PATTERN}\n"
            "  type: COUNTER\n"
            "  valueFactor: 0.001\n"
            "- attrNameSnakeCase: true\n"
        )
        ad = adapter(c)
        assert ad["args"] == ["9404", "/etc/metrics-adapter/config.yaml"]
        assert ad["image"] == JMX_IMAGE
        # A JVM: JVM-sized memory, and a heap of half the limit (the entrypoint is `java -jar`,
        # so only the JVM's own JAVA_TOOL_OPTIONS reaches it).
        assert ad["resources"] == {
            "limits": {"cpu": "500m", "memory": "256Mi"},
            "requests": {"cpu": "50m", "memory": "128Mi"},
        }
        assert ad["env"] == [
            {"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=50.0 -XX:-UsePerfData"}
        ]
        # The app's JVM opens remote JMX on loopback, where the exporter connects.
        assert containers(docs)["app"]["env"] == [
            {
                "name": "JAVA_TOOL_OPTIONS",
                "value": "-Dcom.sun.management.jmxremote.port=5555 "
                "-Dcom.sun.management.jmxremote.rmi.port=5555 "
                "-Dcom.sun.management.jmxremote.host=127.0.0.1 "
                "-Djava.rmi.server.hostname=127.0.0.1 "
                "-Dcom.sun.management.jmxremote.authenticate=false "
                "-Dcom.sun.management.jmxremote.ssl=false",
            }
        ]
        # Not declared (only loopback), but reserved in the pod.
        assert [p["containerPort"] for p in ad["ports"]] == [9404]
        assert m.metrics_path == "/metrics"
        validate(docs, K8S_OLDEST)

    def test_jmx_rules_as_jmx_exporter_dicts(self) -> None:
        c, _ = attach(
            MetricsSource.jmx(
                image=JMX_IMAGE,
                jmx_port=5555,
                rules=[
                    {
                        "pattern": "java.lang<type=Threading><>ThreadCount",
                        "name": "jvm_threads",
                        "valueFactor": 1,
                    }
                ],
                lowercase_output_name=False,
            )
        )
        (cm,) = kind(synth(c), "ConfigMap")
        assert yaml.safe_load(cm["data"]["config.yaml"]) == {
            "hostPort": "127.0.0.1:5555",
            "lowercaseOutputName": False,
            "rules": [
                {
                    "name": "jvm_threads",
                    "pattern": "java.lang<type=Threading><>ThreadCount",
                    "valueFactor": 1.0,
                }
            ],
        }

    def test_jmx_without_rules_exports_everything(self) -> None:
        c, _ = attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555))
        (cm,) = kind(synth(c), "ConfigMap")
        assert yaml.safe_load(cm["data"]["config.yaml"])["rules"] == [{"pattern": ".*"}]

    def test_jmx_typo_in_a_rule_dict_names_the_key(self) -> None:
        source = MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555, rules=[{"patern": ".*", "name": "x"}])
        with pytest.raises(PropsError) as err:
            attach(source)
        assert str(err.value) == (
            "test/metrics: source.rules[0]='patern': not a jmx_exporter rule key. Fix: did you mean "
            "'pattern'? a rule takes pattern, name, value, valueFactor, labels, help, type, "
            "attrNameSnakeCase, cache (or build it with JmxRule(...))"
        )

    def test_jmx_typo_in_a_rule_field_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="unexpected keyword argument 'patern'"):
            JmxRule(patern=".*")  # type: ignore[call-arg]

    def test_jmx_port_is_required(self) -> None:
        with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'jmx_port'"):
            MetricsSource.jmx(image=JMX_IMAGE)  # type: ignore[call-arg]
        with pytest.raises(PropsError, match=r"source.jmx_port=None: not a TCP/UDP port number"):
            attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=None))  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("rule", "match"),
        [
            # Issue 12: a Duration used to reach the YAML dumper (yaml.RepresenterError).
            ({"pattern": ".*", "cache": cdk8s.Duration.seconds(1)}, r"rules\[0\].cache=.*not True or False"),
            (JmxRule(pattern="java.lang<(type=Memory"), r"rules\[0\].pattern=.*invalid regex"),
            (JmxRule(pattern="(?P<t>\\w+)", name="x"), "Python syntax; Java rejects it"),
            (JmxRule(pattern="a(b)", name="x_$2"), r"\$2 but the pattern has 1 group"),
            (JmxRule(pattern="a", name="x", help="costs $5"), r"rules\[0\].help=.*\$5 but the pattern has 0"),
            (JmxRule(pattern="a(b)", name="x", value="$x"), "a '\\$' that is not a group reference"),
            (JmxRule(pattern="a", name="jvm.heap"), "not a Prometheus metric name"),
            (JmxRule(pattern="a", name="x", labels={"bad-label": "v"}), "not a Prometheus label name"),
            (JmxRule(pattern="a", name="x", labels={"__name__": "v"}), "not a Prometheus label name"),
            (JmxRule(pattern="a", labels={"l": "v"}), r"rules\[0\].labels=.*ignores it without a name"),
            (JmxRule(pattern="a", name="x", type="gauge"), r"not a JmxMetricType.*'GAUGE'"),  # type: ignore[arg-type]
            (JmxRule(pattern="a", value_factor=0), "not a non-zero number"),
            ({"pattern": "a", "valueFactor": "1e-3"}, r"rules\[0\].valueFactor='1e-3'"),
            ("pattern: .*", r"rules\[0\]='str': not a JmxRule"),
        ],
    )
    def test_bad_jmx_rule(self, rule: Any, match: str) -> None:
        with pytest.raises(PropsError, match=match):
            attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555, rules=[rule]))

    def test_java_only_regex_syntax_is_accepted(self) -> None:
        rule = JmxRule(pattern=r"\Qkafka.server\E<type=(?<type>\p{Alpha}+)>(\w+)", name="kafka_${type}_$2")
        c, _ = attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555, rules=[rule]))
        (cm,) = kind(synth(c), "ConfigMap")
        assert yaml.safe_load(cm["data"]["config.yaml"])["rules"][0]["name"] == "kafka_${type}_$2"

    def test_jmx_port_collisions(self) -> None:
        with pytest.raises(PropsError, match=r"source.jmx_port=9404: same as the metrics port"):
            attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=9404))
        with pytest.raises(CollisionError, match=r"source.jmx_port=8080: container 'app' already uses TCP"):
            attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=8080))

    def test_jmx_options_env_collision_and_alternatives(self) -> None:
        c = chart()
        dep = web(c)
        dep.containers[0].env.add_variable("JAVA_TOOL_OPTIONS", kplus.EnvValue.from_value("-Xmx1g"))
        with pytest.raises(CollisionError, match=r"JAVA_TOOL_OPTIONS.*already has an env variable"):
            attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555), c=c, dep=dep)
        c, _ = attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555, options_env="CATALINA_OPTS"))
        assert [e["name"] for e in containers(synth(c))["app"]["env"]] == ["CATALINA_OPTS"]
        c, _ = attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555, options_env=None))
        assert "env" not in containers(synth(c))["app"]
        with pytest.raises(PropsError, match=r"source.options_env='JAVA OPTS': not an environment variable"):
            attach(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555, options_env="JAVA OPTS"))

    def test_custom(self) -> None:
        c, _ = attach(
            MetricsSource.custom(
                image="example/exporter:2.0", port=9200, args=["--x"], path="/prom", uid=1234
            )
        )
        ad = adapter(c)
        assert ad["args"] == ["--x"]
        assert ad["ports"][0] == {"containerPort": 9200, "name": "metrics", "protocol": "TCP"}
        assert annotations(c)["prometheus.io/path"] == "/prom"

    @pytest.mark.parametrize(
        ("source", "match"),
        [
            (
                MetricsSource.nginx(scrape_uri="http://nginx.web.svc/stub_status"),
                "not a URL of the main container on localhost",
            ),
            (
                MetricsSource.redis(address="redis://user:pw@127.0.0.1:6379"),
                "not a redis:// address without credentials",
            ),
            (MetricsSource.redis(password_map="hunter2"), r"source.password_map='<literal>'"),  # type: ignore[arg-type]
            (MetricsSource.json(url="http://127.0.0.1/stats", metrics=[]), "no metrics"),
            (
                MetricsSource.json(url="http://127.0.0.1/s", metrics=[JsonMetric(name="x", path=".a")]),
                "JSONPath",
            ),
            # The path is copied into the ConfigMap: the credential check applies (issue 19).
            (
                MetricsSource.json(
                    url="http://127.0.0.1/s", metrics=[JsonMetric(name="x", path='{"password": "hunter2"}')]
                ),
                r"source.metrics\[0\].path=.*which would be in the manifest",
            ),
            (MetricsSource.custom(image="example/e:1", port=9200, uid=0), "must not run as root"),
            (MetricsSource.custom(image="example/e", port=9200), "not pinned"),
        ],
    )
    def test_bad_source(self, source: MetricsSource, match: str) -> None:
        with pytest.raises(PropsError, match=match):
            attach(source)


class TestDiscovery:
    def test_annotations_by_default(self) -> None:
        c, _ = attach()
        assert annotations(c) == {
            "checksum/metrics-adapter": annotations(c)["checksum/metrics-adapter"],
            "prometheus.io/path": "/metrics",
            "prometheus.io/port": "9102",
            "prometheus.io/scrape": "true",
        }
        assert not kind(synth(c), "PodMonitor")

    @pytest.mark.parametrize(
        ("kw", "expected"),
        [
            ({}, MetricsDiscovery.ANNOTATIONS),
            # One mechanism: a Prometheus that reads both would scrape the pod twice.
            ({"pod_monitor": True}, MetricsDiscovery.POD_MONITOR),
            ({"pod_monitor": True, "annotations": True}, MetricsDiscovery.BOTH),
            ({"annotations": False}, MetricsDiscovery.NONE),
            ({"discovery": MetricsDiscovery.POD_MONITOR}, MetricsDiscovery.POD_MONITOR),
            ({"discovery": "both"}, MetricsDiscovery.BOTH),
            ({"discovery": MetricsDiscovery.NONE, "service": True}, MetricsDiscovery.NONE),
        ],
    )
    def test_one_discovery_mechanism_unless_both_are_asked_for(
        self, kw: dict[str, Any], expected: MetricsDiscovery
    ) -> None:
        c, m = attach(**kw)
        docs = synth(c)
        assert m.discovery is expected
        has_annotations = "prometheus.io/scrape" in annotations(c)
        has_monitor = bool(kind(docs, "PodMonitor"))
        assert (has_annotations, has_monitor) == {
            MetricsDiscovery.ANNOTATIONS: (True, False),
            MetricsDiscovery.POD_MONITOR: (False, True),
            MetricsDiscovery.BOTH: (True, True),
            MetricsDiscovery.NONE: (False, False),
        }[expected]

    def test_discovery_and_the_older_switches_together(self) -> None:
        with pytest.raises(PropsError, match=r"pod_monitor=True: discovery= already chooses the mechanism"):
            attach(discovery=MetricsDiscovery.POD_MONITOR, pod_monitor=True)
        with pytest.raises(PropsError, match=r"discovery='podmonitor': not a MetricsDiscovery"):
            attach(discovery="podmonitor")

    def test_pod_monitor_yaml(self) -> None:
        c, _ = attach(
            discovery=MetricsDiscovery.POD_MONITOR,
            pod_monitor_labels={"release": "kube-prometheus-stack", "team": "shop"},
            scrape_interval=cdk8s.Duration.seconds(30),
        )
        docs = synth(c)
        (pm,) = kind(docs, "PodMonitor")
        (dep,) = kind(docs, "Deployment")
        assert pm == {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {
                "labels": {"release": "kube-prometheus-stack", "team": "shop"},
                "name": pm["metadata"]["name"],
            },
            "spec": {
                "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
                "selector": {"matchLabels": {"cdk8s.io/metadata.addr": "test-web-c8694308"}},
            },
        }
        assert dep["spec"]["selector"]["matchLabels"] == pm["spec"]["selector"]["matchLabels"]
        assert pod_monitor_schema_errors(pm) == []
        validate(docs, K8S_NEWEST)

    def test_the_schema_check_catches_what_the_crd_refuses(self) -> None:
        """Negative control: the CRD-derived check is not a no-op."""
        c, _ = attach(discovery=MetricsDiscovery.POD_MONITOR)
        (pm,) = kind(synth(c), "PodMonitor")
        pm["spec"]["podMetricsEndpoints"][0].update(
            {"interval": "30 seconds", "scheme": "ftp", "portName": "x"}
        )
        pm["spec"]["selector"]["matchExpressions"] = [{"key": "app"}]
        assert sorted(pod_monitor_schema_errors(pm)) == [
            "spec.podMetricsEndpoints.0.interval: String should match pattern "
            "'^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'",
            "spec.podMetricsEndpoints.0.scheme: Input should be 'http' or 'https'",
            "spec.selector.matchExpressions.0.operator: Field required",
        ]
        del pm["spec"]["selector"]["matchExpressions"]
        pm["spec"]["podMetricsEndpoints"][0].update({"interval": "30s", "scheme": "http"})
        assert pod_monitor_schema_errors(pm) == [
            ".spec.podMetricsEndpoints[0].portName: not in the CRD schema"
        ]

    def test_a_pod_monitor_picked_up_by_kube_prometheus_stack(self) -> None:
        """kube-prometheus-stack's Prometheus (podMonitorSelectorNilUsesHelmValues: true, the
        chart's default) selects PodMonitors labelled release=<Helm release name>, in every
        namespace (podMonitorNamespaceSelector: {})."""
        prometheus_spec = {
            "podMonitorSelector": {"matchLabels": {"release": "kube-prometheus-stack"}},
            "podMonitorNamespaceSelector": {},
        }
        c = chart()
        dep = web(c)
        labelled = MetricsAdapter(
            c,
            "labelled",
            workload=dep,
            source=MetricsSource.nginx(),
            discovery=MetricsDiscovery.POD_MONITOR,
            pod_monitor_labels={"release": "kube-prometheus-stack"},
        )
        MetricsAdapter(
            c,
            "unlabelled",
            workload=dep,
            source=MetricsSource.redis(),
            name="redis-exporter",
            port_name="redis-metrics",
            discovery=MetricsDiscovery.POD_MONITOR,
        )
        monitors = kind(synth(c), "PodMonitor")
        picked = [
            m["metadata"]["name"]
            for m in monitors
            if selector_matches(prometheus_spec["podMonitorSelector"], m["metadata"].get("labels", {}))
        ]
        assert picked == [labelled.pod_monitor.name if labelled.pod_monitor else None]
        assert len(monitors) == 2

    @pytest.mark.parametrize(
        ("selector", "labels", "matches"),
        [
            ({"matchLabels": {"release": "k"}}, {"release": "k", "x": "y"}, True),
            ({"matchLabels": {"release": "k"}}, {"release": "other"}, False),
            ({}, {}, True),  # an empty selector selects everything
            (
                {"matchExpressions": [{"key": "release", "operator": "In", "values": ["a", "k"]}]},
                {"release": "k"},
                True,
            ),
            ({"matchExpressions": [{"key": "release", "operator": "NotIn", "values": ["k"]}]}, {}, True),
            ({"matchExpressions": [{"key": "release", "operator": "Exists"}]}, {}, False),
            ({"matchExpressions": [{"key": "release", "operator": "DoesNotExist"}]}, {"release": "k"}, False),
        ],
    )
    def test_selector_semantics(
        self, selector: dict[str, Any], labels: dict[str, str], matches: bool
    ) -> None:
        assert selector_matches(selector, labels) is matches

    def test_pod_monitor_lists_every_metrics_port_of_the_pod(self) -> None:
        c = chart()
        dep = web(c)
        site = SidecarGitSync(c, "site", deployment=dep, repo="https://github.com/example/site.git")
        cache = RedisAmbassador(c, "cache", deployment=dep, primary="redis.data.svc:6379")
        c, _ = attach(
            c=c,
            dep=dep,
            pod_monitor=True,
            also_scrape=[site, cache],
            scrape_interval=cdk8s.Duration.seconds(15),
            pod_monitor_labels={"release": "kube-prometheus-stack"},
        )
        docs = synth(c)
        (pm,) = kind(docs, "PodMonitor")
        assert pm["apiVersion"] == "monitoring.coreos.com/v1"
        assert pm["metadata"]["labels"] == {"release": "kube-prometheus-stack"}
        (dep_doc,) = kind(docs, "Deployment")
        assert pm["spec"]["selector"] == {"matchLabels": dep_doc["spec"]["selector"]["matchLabels"]}
        assert pm["spec"]["podMetricsEndpoints"] == [
            {"port": "metrics", "path": "/metrics", "interval": "15s"},
            {"port": "git-sync", "path": "/metrics", "interval": "15s"},
            {"port": "envoy-stats", "path": "/metrics", "interval": "15s"},
        ]
        assert not pod_monitor_errors(pm, docs)
        validate(docs, K8S_OLDEST)
        validate(docs, K8S_NEWEST)

    def test_also_scrape_needs_the_pod_monitor(self) -> None:
        c = chart()
        dep = web(c)
        site = SidecarGitSync(c, "site", deployment=dep, repo="https://github.com/example/site.git")
        with pytest.raises(PropsError, match=r"annotations can name one port per pod.*pod_monitor=True"):
            attach(c=c, dep=dep, also_scrape=[site])

    def test_also_scrape_leaves_out_a_peer_without_metrics(self) -> None:
        c = chart()
        dep = web(c)
        site = SidecarGitSync(
            c, "site", deployment=dep, repo="https://github.com/example/site.git", metrics=False
        )
        # Development mode runs the same Envoy, so its stats port is listed in both modes.
        cache = RedisAmbassador(c, "cache", deployment=dep, development=True)
        c, _ = attach(c=c, dep=dep, pod_monitor=True, also_scrape=[site, cache, site])
        (pm,) = kind(synth(c), "PodMonitor")
        assert pm["spec"]["podMetricsEndpoints"] == [
            {"port": "metrics", "path": "/metrics"},
            {"port": "envoy-stats", "path": "/metrics"},
        ]

    def test_also_scrape_a_pattern_of_another_deployment(self) -> None:
        c = chart()
        other = kplus.Deployment(c, "other")
        other.add_container(name="x", image="example/x:1")
        site = SidecarGitSync(c, "site", deployment=other, repo="https://github.com/example/site.git")
        with pytest.raises(
            PropsError, match=r"also_scrape\[0\]='SidecarGitSync': it is not attached to this Deployment"
        ):
            attach(c=c, pod_monitor=True, also_scrape=[site])

    def test_also_scrape_something_that_is_not_a_pattern(self) -> None:
        """Issue 12: an object whose workload is a str used to raise AttributeError."""
        fake = types.SimpleNamespace(
            workload="web", deployment="web", metrics_port_name="x", metrics_path="/m"
        )
        with pytest.raises(
            PropsError, match=r"also_scrape\[0\]='SimpleNamespace': it is not attached to this Deployment"
        ):
            attach(pod_monitor=True, also_scrape=[fake])
        c = chart()
        dep = web(c)
        odd = types.SimpleNamespace(workload=dep, metrics_port_name=7, metrics_path="/m")
        with pytest.raises(PropsError, match=r"also_scrape\[0\]='SimpleNamespace': not a MetricsEndpoint"):
            attach(c=c, dep=dep, pod_monitor=True, also_scrape=[odd])

    def test_a_second_statsd_adapter_on_other_ports(self) -> None:
        c = chart()
        dep = web(c)
        MetricsAdapter(
            c, "a", deployment=dep, source=MetricsSource.statsd(), pod_monitor=True, annotations=False
        )
        MetricsAdapter(
            c,
            "b",
            deployment=dep,
            name="jobs-statsd",
            port=9103,
            port_name="jobs-metrics",
            source=MetricsSource.statsd(
                statsd_port=9126,
                host_env="JOBS_STATSD_HOST",
                port_env="JOBS_STATSD_PORT",
            ),
            pod_monitor=True,
            annotations=False,
        )
        docs = synth(c)
        assert [p["name"] for p in containers(docs)["jobs-statsd"]["ports"]] == ["jobs-metrics"]
        validate(docs, K8S_OLDEST)

    def test_the_statsd_port_is_reserved_though_not_declared(self) -> None:
        c = chart()
        dep = web(c)
        MetricsAdapter(c, "a", deployment=dep, source=MetricsSource.statsd())
        with pytest.raises(
            CollisionError, match=r"port=9125: container 'metrics-adapter' already uses UDP port"
        ):
            MetricsAdapter(
                c, "b", deployment=dep, name="b", port=9103, source=MetricsSource.statsd(), annotations=False
            )

    def test_two_adapters_cannot_both_own_the_annotations(self) -> None:
        c = chart()
        dep = web(c)
        MetricsAdapter(c, "a", deployment=dep, source=MetricsSource.nginx())
        with pytest.raises(
            CollisionError, match=r"prometheus.io/scrape.*test/a already sets this pod annotation"
        ):
            MetricsAdapter(
                c,
                "b",
                deployment=dep,
                source=MetricsSource.redis(),
                name="redis-exporter",
                port_name="redis-metrics",
            )

    def test_two_adapters_with_a_pod_monitor(self) -> None:
        c = chart()
        dep = web(c)
        a = MetricsAdapter(c, "a", deployment=dep, source=MetricsSource.nginx(), annotations=False)
        MetricsAdapter(
            c,
            "b",
            deployment=dep,
            source=MetricsSource.redis(),
            name="redis-exporter",
            port_name="redis-metrics",
            annotations=False,
            pod_monitor=True,
            also_scrape=[a],
        )
        docs = synth(c)
        (pm,) = kind(docs, "PodMonitor")
        assert [e["port"] for e in pm["spec"]["podMetricsEndpoints"]] == ["redis-metrics", "metrics"]
        validate(docs, K8S_OLDEST)

    def test_service(self) -> None:
        c, m = attach(service=True)
        (svc,) = kind(synth(c), "Service")
        assert svc["spec"]["ports"] == [{"name": "metrics", "port": 9102, "targetPort": 9102}]
        assert m.service is not None


class TestErrors:
    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"port_name": "application-metrics"}, r"port_name='application-metrics'"),
            ({"port": 8080}, r"port=8080: container 'app' already uses TCP port 8080"),
            ({"port": 0}, "not a TCP/UDP port"),
            ({"name": "Metrics"}, "DNS-1123"),
            ({"source": "statsd"}, "not a MetricsSource"),
            ({"pod_monitor": True, "pod_monitor_labels": {"release": "a b"}}, "not a label value"),
            ({"pod_monitor": True, "scrape_interval": cdk8s.Duration.millis(10)}, "scrape_interval"),
            # Python's `$` matches before a final newline: the checks must use fullmatch.
            (
                {"pod_monitor": True, "pod_monitor_labels": {"release\n": "k"}},
                r"'release\\n': not a single-line string",
            ),
            ({"pod_monitor": True, "pod_monitor_labels": {"release": "k\n"}}, r"'k\\n': not a single-line"),
            ({"pod_monitor": True, "pod_monitor_labels": {"Example.com/team": "a"}}, "not a label key"),
            ({"pod_monitor": True, "pod_monitor_labels": {"x" * 64: "a"}}, "not a label key"),
            ({"pod_monitor": True, "pod_monitor_labels": {"release": "-k"}}, "not a label value"),
            (
                {"scrape_interval": cdk8s.Duration.seconds(30)},
                r"scrape_interval=.*only used by the PodMonitor",
            ),
            ({"pod_monitor_labels": {"release": "x"}}, "only used by the PodMonitor"),
            ({"annotations": "yes"}, "not True or False"),
            (
                {"source": MetricsSource.custom(image="e/x:1", port=9200), "port": 9300},
                "the custom exporter listens on 9200",
            ),
            ({"source": MetricsSource.custom(image="e/x:1", port=9200, path="/m?x=1")}, "without a query"),
            ({"source": MetricsSource.jmx(image="e/j:1", jmx_port=5555, uid=0)}, "must not run as root"),
            (
                {
                    "source": MetricsSource.statsd(
                        mappings=[StatsdMapping(match="a.*", name="x", observer_type="hist")]
                    )
                },
                "not a StatsdObserver",
            ),
        ],
    )
    def test_bad_props(self, kw: dict[str, Any], match: str) -> None:
        source = kw.pop("source", None)
        c = chart()
        with pytest.raises(PropsError, match=match):
            MetricsAdapter(c, "metrics", deployment=web(c), source=source or MetricsSource.statsd(), **kw)


class TestShapes:
    @pytest.mark.parametrize(
        ("source", "kw", "match"),
        [
            (
                MetricsSource.custom(image="e/x:1", port=9200, args="--web.listen=:9200"),
                {},
                "not a list of strings",
            ),  # type: ignore[arg-type]
            (MetricsSource.jmx(image="e/j:1", jmx_port=5555, command="java"), {}, "not a list of strings"),  # type: ignore[arg-type]
            (
                MetricsSource.jmx(image="e/j:1", jmx_port=5555, rules={"pattern": ".*"}),  # type: ignore[arg-type]
                {},
                "source.rules='dict': not a list of JmxRule",
            ),
            (
                MetricsSource.custom(
                    image="e/x:1", port=9200, args=["--redis.addr=redis://:hunter2@127.0.0.1:6379"]
                ),
                {},
                "a URL carries credentials",
            ),
            (
                MetricsSource.statsd(mappings=[{"match": "a.*"}]),
                {},
                r"mappings\[0\]='dict': not a StatsdMapping",
            ),  # type: ignore[list-item]
            (MetricsSource.statsd(host_env="S", port_env="S"), {}, "host_env has the same name"),
            (MetricsSource.json(url="http://127.0.0.1/s", metrics=[{"name": "x"}]), {}, "not a JsonMetric"),  # type: ignore[list-item]
            (MetricsSource.nginx(), {"also_scrape": "site"}, "also_scrape='str': not a list"),
            (
                MetricsSource.nginx(),
                {"pod_monitor": True, "pod_monitor_labels": [("a", "b")]},
                "not a mapping",
            ),
            (MetricsSource.nginx(), {"resources": "small"}, "not a kplus.ContainerResources"),
        ],
    )
    def test_bad_shapes(self, source: MetricsSource, kw: dict[str, Any], match: str) -> None:
        with pytest.raises(PropsError, match=match) as err:
            attach(source, **kw)
        assert "hunter2" not in str(err.value)

    def test_pod_monitor_follows_a_later_select_and_refuses_an_empty_selector(self) -> None:
        c = chart()
        dep = kplus.Deployment(c, "web", select=False)
        dep.add_container(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
        MetricsAdapter(
            c, "m", deployment=dep, source=MetricsSource.nginx(), pod_monitor=True, annotations=False
        )
        with pytest.raises(PropsError, match="selects its pods by no label"):
            synth(c)
        dep.select(kplus.LabelSelector.of(labels={"app": "web"}))
        (pm,) = kind(synth(c), "PodMonitor")
        assert pm["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_the_pod_monitor_selects_by_cdk8s_plus_address_label_known_at_attach() -> None:
    """With cdk8s-plus's default selector the PodMonitor is written when the adapter attaches
    (no synth-time callback): the address label names this workload's pods alone, so a label
    selected later is not needed to find them, and is not added."""
    c = chart()
    dep = kplus.Deployment(c, "web")
    dep.add_container(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
    adapter = MetricsAdapter(c, "m", workload=dep, source=MetricsSource.nginx(), pod_monitor=True)
    dep.select(kplus.LabelSelector.of(labels={"tier": "web"}))
    docs = synth(c)
    (pm,) = kind(docs, "PodMonitor")
    (deployment,) = kind(docs, "Deployment")
    addr = deployment["spec"]["selector"]["matchLabels"]["cdk8s.io/metadata.addr"]
    assert deployment["spec"]["selector"]["matchLabels"] == {"cdk8s.io/metadata.addr": addr, "tier": "web"}
    assert pm["spec"]["selector"] == {"matchLabels": {"cdk8s.io/metadata.addr": addr}}
    assert type(adapter.pod_monitor).to_json is cdk8s.ApiObject.to_json  # no override: no callback


class TestMetricsDefaults:
    """metrics_defaults: the discovery defaults set once for a chart or an app."""

    @staticmethod
    def two_adapters(c: cdk8s.Chart, **second: Any) -> tuple[MetricsAdapter, MetricsAdapter]:
        made = []
        for i, kw in enumerate(({}, second)):
            dep = web(constructs.Construct(c, f"app{i}"))
            made.append(MetricsAdapter(c, f"metrics{i}", workload=dep, source=MetricsSource.nginx(), **kw))
        return made[0], made[1]

    def test_chart_labels_reach_every_pod_monitor_and_the_adapters_own_win(self) -> None:
        c = chart()
        metrics_defaults(
            c,
            discovery=MetricsDiscovery.POD_MONITOR,
            pod_monitor_labels={"release": "kube-prometheus-stack", "team": "web"},
        )
        plain, own = self.two_adapters(c, pod_monitor_labels={"team": "shop"})
        monitors = {m["metadata"]["name"]: m["metadata"]["labels"] for m in kind(synth(c), "PodMonitor")}
        assert plain.pod_monitor is not None
        assert own.pod_monitor is not None
        assert monitors[plain.pod_monitor.name] == {"release": "kube-prometheus-stack", "team": "web"}
        assert monitors[own.pod_monitor.name] == {"release": "kube-prometheus-stack", "team": "shop"}

    def test_default_interval_and_the_adapters_own_discovery(self) -> None:
        c = chart()
        metrics_defaults(
            c,
            discovery=MetricsDiscovery.POD_MONITOR,
            pod_monitor_labels={"release": "prom"},
            scrape_interval=cdk8s.Duration.seconds(30),
        )
        by_default, annotated = self.two_adapters(c, annotations=True)
        assert by_default.discovery is MetricsDiscovery.POD_MONITOR
        assert annotated.discovery is MetricsDiscovery.ANNOTATIONS  # its own choice; no label error
        (pm,) = kind(synth(c), "PodMonitor")
        assert pm["metadata"]["labels"] == {"release": "prom"}
        assert [e["interval"] for e in pm["spec"]["podMetricsEndpoints"]] == ["30s"]

    def test_the_nearest_scope_wins(self) -> None:
        app = cdk8s.App()
        metrics_defaults(
            app, discovery=MetricsDiscovery.POD_MONITOR, pod_monitor_labels={"release": "app-wide"}
        )
        near = cdk8s.Chart(app, "near")
        metrics_defaults(
            near, discovery=MetricsDiscovery.POD_MONITOR, pod_monitor_labels={"release": "chart"}
        )
        far = cdk8s.Chart(app, "far")
        for c in (near, far):
            MetricsAdapter(c, "metrics", workload=web(c), source=MetricsSource.nginx())
        assert kind(synth(near), "PodMonitor")[0]["metadata"]["labels"] == {"release": "chart"}
        assert kind(synth(far), "PodMonitor")[0]["metadata"]["labels"] == {"release": "app-wide"}

    def test_bad_defaults_are_refused_where_they_are_set(self) -> None:
        c = chart()
        with pytest.raises(
            PropsError, match=r"^metrics_defaults\(test\): pod_monitor_labels='not a label value'"
        ):
            metrics_defaults(c, pod_monitor_labels={"release": "not a label value"})
        with pytest.raises(PropsError, match=r"discovery='scrape': not a MetricsDiscovery"):
            metrics_defaults(c, discovery="scrape")  # type: ignore[arg-type]
