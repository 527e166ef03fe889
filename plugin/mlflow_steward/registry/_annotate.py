"""Notes on a model version that are not gate decisions: an overused test set, a version a killed
retrain left behind. Tags for machines, a description section (first, so it is never cut) for people."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mlflow_steward import names
from mlflow_steward.registry._client import alias_version, delete_alias, get_client, get_version
from mlflow_steward.registry._describe import fit_description

if TYPE_CHECKING:
    from mlflow import MlflowClient

SECTION_TESTSET = "testset"
SECTION_DEPLOYABLE = "deployable"


def _put_first(text: str | None, section: str, markdown: str) -> str:
    start, end = f"<!-- steward:{section} -->", f"<!-- /steward:{section} -->"
    rest = re.sub(re.escape(start) + r".*?" + re.escape(end) + r"\n*", "", text or "", flags=re.DOTALL)
    return fit_description(f"{start}\n{markdown.strip()}\n{end}\n\n{rest.lstrip()}".rstrip())


def warn_testset_overused(
    name: str, version: str, warning: str, *, gate_run_id: str | None = None, client: MlflowClient | None = None
) -> None:
    """Record on version ``version`` (tag ``steward.testset_warning`` + a description section) and on
    its gate run that its gate decision was made on an overused test set."""
    client = get_client(client)
    mv = get_version(client, name, version)
    client.set_model_version_tag(name, mv.version, names.TAG_TESTSET_WARNING, warning[:5000])
    description = _put_first(mv.description, SECTION_TESTSET, f"⚠️ **Test set overused.** {warning}")
    client.update_model_version(name, mv.version, description=description)
    if gate_run_id:
        client.set_tag(gate_run_id, names.TAG_TESTSET_WARNING, warning[:5000])


def mark_not_deployable(name: str, version: str, reason: str, *, client: MlflowClient | None = None) -> None:
    """Tag version ``version`` ``steward.deployable=false`` (``promote`` then refuses it), say why in
    its description, and take the ``staging`` alias off it."""
    client = get_client(client)
    mv = get_version(client, name, version)
    client.set_model_version_tag(name, mv.version, names.TAG_DEPLOYABLE, "false")
    client.set_model_version_tag(name, mv.version, "steward.not_deployable_reason", reason[:5000])
    description = _put_first(mv.description, SECTION_DEPLOYABLE, f"⛔ **Not deployable.** {reason}")
    client.update_model_version(name, mv.version, description=description)
    if alias_version(client, name, names.ALIAS_STAGING) == str(mv.version):
        delete_alias(client, name, names.ALIAS_STAGING)
