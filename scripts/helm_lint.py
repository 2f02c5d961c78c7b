#!/usr/bin/env python3
"""Lints helm/tradeport with the real Helm engine for the default values and the variants
tests/deploy renders, and compares Helm's rendering of every template with the rendering of
that test's own Go-template renderer (printed by its ignored test `print_rendered`).

No helm binary can be installed on the development machines; the PyPI package helm-sdkpy
ships Helm's Go code as a shared library with `lint` (it renders every template and parses
the output, as `helm lint` does), but neither `template` nor custom values, so each variant is
linted as a copy of the chart whose values.yaml has the variant merged in. To see what Helm
rendered, the copy gets one more template that passes each template's output to `fail`: in
lint mode Helm only logs a `fail` message, so the log carries every rendered file. `lint`
renders an upgrade of `test-release` in no namespace and without the Prometheus operator's
API, so the ServiceMonitor branch is not compared here, and the test's renderer is run the same way.

    # helm-sdkpy declares Python >= 3.12, but its FFI wrapper runs on 3.11 as well
    pip install --ignore-requires-python --no-deps --target /tmp/helm-sdkpy helm-sdkpy==0.1.32
    pip install cffi pyyaml
    python3 scripts/helm_lint.py        # HELM_SDKPY=<dir> if not /tmp/helm-sdkpy

Exit status 0 when every variant lints without errors; 2 when helm-sdkpy is not installed.
"""
import asyncio
import copy
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "tradeport"

VARIANTS = {
    "defaults": {},
    "ingress and autoscaling off": {"ingress": {"enabled": False}, "autoscaling": {"web": {"enabled": False}}},
    "existing claim": {"persistence": {"existingClaim": "shared-files"}},
    "persistence off": {"persistence": {"enabled": False}},
    "worker off": {"worker": {"enabled": False}},
    "example": yaml.safe_load((CHART / "values-example.yaml").read_text()),
    "everything on": {
        "ingress": {"customDomains": ["shop.acme-supplies.ru"], "certManager": {"enabled": True}},
        "meilisearch": {"enabled": True},
        "stripe": {"enabled": True, "publishableKey": "pk_live_123"},
        "smtp": {"enabled": True},
        "autoscaling": {"worker": {"enabled": True}},
        "podDisruptionBudget": {"worker": {"enabled": True}},
        "settings": {"database": {"pool_max_size": 16}},
        "extraEnv": [{"name": "RUST_LOG", "value": "info"}],
    },
}

# Operator mistakes the chart refuses with `fail`/`required`. Helm's lint mode only logs those
# (it renders on), so the check is that Helm's log carries the chart's message.
REFUSED = {
    "short grace period": (
        {"web": {"terminationGracePeriodSeconds": 30}},
        "must exceed web.drainSecs + web.shutdownTimeoutSecs (35)",
    ),
    "no base domain": ({"baseDomain": ""}, "baseDomain is required"),
}


def merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else v
        return out
    return copy.deepcopy(over)


def main():
    sys.path.insert(0, os.environ.get("HELM_SDKPY", "/tmp/helm-sdkpy"))
    try:
        from helm_sdkpy import Configuration, Lint
    except ImportError as e:
        print(f"helm-sdkpy is not installed ({e}); see this script's docstring", file=sys.stderr)
        return 2
    config = Configuration(namespace="commerce")
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    failed = 0
    for name, over in VARIANTS.items():
        errors, log = lint(Lint, config, defaults, over, dump=True)
        helm = dumped(log)
        ours = ours_rendered(over)
        same_text = [f for f in helm if ours.get(f) == helm[f]]
        same_yaml = [f for f in helm if f not in same_text and same_documents(ours.get(f), helm[f])]
        differ = [f for f in helm if f not in same_text and f not in same_yaml]
        missing = sorted(set(ours) ^ set(helm))
        bad = bool(errors) or bool(differ) or bool(missing) or not helm
        failed += bad
        print(
            f"{'BAD' if bad else 'ok '} {name}: " + (json.dumps(errors) + " " if errors else "lints clean, ")
            + f"{len(same_text)} of {len(helm)} templates rendered byte-identical to Helm's"
            + (f", {len(same_yaml)} as the same YAML ({', '.join(same_yaml)})" if same_yaml else "")
            + (f", DIFFERENT: {', '.join(differ)}" if differ else "")
            + (f", rendered by one side only: {missing}" if missing else "")
        )
        for f in differ:
            diff = difflib.unified_diff(helm[f].splitlines(), (ours.get(f) or "").splitlines(), "helm", "tests/deploy", lineterm="")
            print("\n".join(list(diff)[:40]))
    for name, (over, message) in REFUSED.items():
        _, log = lint(Lint, config, defaults, over)
        ok = message in log
        failed += not ok
        print(f"{'ok ' if ok else 'BAD'} {name}: " + ("refused with the chart's message" if ok else f"no {message!r} in {log!r}"))
    total = len(VARIANTS) + len(REFUSED)
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


DUMP = """{{- range $name := list %s }}
{{- fail (printf "DUMP %%s\\n%%s" $name (include (printf "tradeport/templates/%%s" $name) $)) }}
{{- end }}
"""


def lint(Lint, config, defaults, over, dump=False):
    """Lints a copy of the chart with `over` merged into its values; (errors, Helm's log)."""
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp) / "tradeport"
        shutil.copytree(CHART, chart)
        (chart / "values.yaml").write_text(yaml.safe_dump(merge(defaults, over), sort_keys=False))
        if dump:
            names = sorted(p.name for p in (CHART / "templates").iterdir() if not p.name.startswith("_"))
            (chart / "templates" / "zz-dump.yaml").write_text(DUMP % " ".join(json.dumps(n) for n in names))
        log_path = Path(tmp) / "helm.log"
        sys.stderr.flush()
        saved = os.dup(2)
        with open(log_path, "w") as log_file:
            os.dup2(log_file.fileno(), 2)
            try:
                result = asyncio.run(Lint(config).run(str(chart)))
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        log = log_path.read_text()
    errors = [m for m in result.get("Messages") or [] if m.get("Severity", 0) >= 3]
    return errors, log


def dumped(log):
    """The templates Helm rendered, from the `fail` messages of its log."""
    out = {}
    for m in re.finditer(r'message="((?:[^"\\]|\\.)*)"', log):
        text = json.loads('"' + m.group(1) + '"')
        if text.startswith("DUMP "):
            name, _, body = text[5:].partition("\n")
            out[name] = body
    return out


def ours_rendered(over):
    """The same templates rendered by tests/deploy's renderer, as Helm's lint renders them."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(yaml.safe_dump(over))
        f.flush()
        env = dict(os.environ, DEPLOY_VALUES=f.name, DEPLOY_RELEASE="test-release", DEPLOY_NAMESPACE="",
                   DEPLOY_UPGRADE="1", DEPLOY_PROMETHEUS="0")
        out = subprocess.run(
            ["cargo", "test", "-q", "--test", "deploy", "--", "--ignored", "--nocapture", "--exact", "print_rendered"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        ).stdout
    body = out[out.index("=== ") : out.index("=== END")]
    files = {}
    for chunk in body.split("=== ")[1:]:
        name, _, text = chunk.partition("\n")
        files[name] = text[:-1] if text.endswith("\n") else text
    return files


def same_documents(a, b):
    if a is None:
        return False
    try:
        return list(yaml.safe_load_all(a)) == list(yaml.safe_load_all(b))
    except yaml.YAMLError:
        return False


if __name__ == "__main__":
    sys.exit(main())
