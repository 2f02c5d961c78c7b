#!/usr/bin/env python3
"""Lints helm/tradeport with the real Helm engine for the default values and the variants
tests/deploy renders (a cross-check of that test's own renderer).

No helm binary can be installed on the development machines; the PyPI package helm-sdkpy
ships Helm's Go code as a shared library with `lint` (it renders every template and parses
the output, as `helm lint` does), but neither `template` nor custom values, so each variant is
linted as a copy of the chart whose values.yaml has the variant merged in. `lint` renders
without the Prometheus operator's API, so the ServiceMonitor branch is not exercised here.

    pip install --python-version 3.12 --only-binary=:all: --no-deps --target /tmp/helm-sdkpy helm-sdkpy
    pip install cffi pyyaml
    HELM_SDKPY=/tmp/helm-sdkpy python3 scripts/helm_lint.py

Exit status 0 when every variant lints without errors; 2 when helm-sdkpy is not installed.
"""
import asyncio
import copy
import json
import os
import shutil
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
        errors, _ = lint(Lint, config, defaults, over)
        failed += bool(errors)
        print(f"{'BAD' if errors else 'ok '} {name}: " + (json.dumps(errors) if errors else "lints clean"))
    for name, (over, message) in REFUSED.items():
        _, log = lint(Lint, config, defaults, over)
        ok = message in log
        failed += not ok
        print(f"{'ok ' if ok else 'BAD'} {name}: " + ("refused with the chart's message" if ok else f"no {message!r} in {log!r}"))
    total = len(VARIANTS) + len(REFUSED)
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


def lint(Lint, config, defaults, over):
    """Lints a copy of the chart with `over` merged into its values; (errors, Helm's log)."""
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp) / "tradeport"
        shutil.copytree(CHART, chart)
        (chart / "values.yaml").write_text(yaml.safe_dump(merge(defaults, over), sort_keys=False))
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


if __name__ == "__main__":
    sys.exit(main())
