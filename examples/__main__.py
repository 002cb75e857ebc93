"""The app that `cdk8s synth` runs (see cdk8s.yaml): every example, one file per chart."""

import cdk8s

from . import build_all

app = cdk8s.App()
build_all(app)
app.synth()
