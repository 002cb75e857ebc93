import os

# Node 20 is past its end of life for jsii; silence the banner before cdk8s starts node.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
