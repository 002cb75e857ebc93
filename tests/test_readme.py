"""The README's Python snippets run as written (in a scratch directory), so docs cannot drift."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_snippets() -> None:
    assert SNIPPETS


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs(index: int, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(SNIPPETS[index])
    env = {**os.environ, "CDK8S_OUTDIR": str(tmp_path / "dist")}
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "dist").glob("*.k8s.yaml")), "the snippet synthesized nothing"


def test_error_example_is_the_real_message() -> None:
    import cdk8s
    import cdk8s_plus_27 as kplus

    from constructs_lib import PropsError, SidecarGitSync

    chart = cdk8s.Chart(cdk8s.App(), "shop")
    web = kplus.Deployment(chart, "web")
    web.add_container(image="nginx:1.27")
    with pytest.raises(PropsError) as err:
        SidecarGitSync(
            chart, "site", deployment=web, repo="https://x.example/s.git", period=cdk8s.Duration.millis(5)
        )
    assert str(err.value) in README.read_text()
