"""The app that `cdk8s synth` runs (see cdk8s.yaml): every example, one file per chart."""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
import constructs_lib  # noqa: F401

# isort: split
import cdk8s

from . import build_all

app = cdk8s.App()
build_all(app)
app.synth()
