"""The all-patterns app as a Pulumi program: the same chart `cdk8s synth` writes, as Pulumi resources."""

import sys
from pathlib import Path

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib.pulumi import Cdk8sChart

# isort: split
import cdk8s
import pulumi

# Pulumi runs this file from examples/pulumi/; the chart's builder lives in the repository's examples.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from examples import all_patterns

web = Cdk8sChart("all-patterns", all_patterns.build(cdk8s.App()))

pulumi.export("deployment", web.patterns["site"]["workload_name"])
pulumi.export("content_path", web.patterns["site"]["content_path"])
pulumi.export("redis_url", web.patterns["cache"]["url"])
pulumi.export("metrics_port", web.patterns["metrics"]["port"])
