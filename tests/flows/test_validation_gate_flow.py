"""The fine-tune flow refuses prepared data that failed validation, and registers nothing."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient
from train_support import FAST_PARAMS, append_to_first, save_tiny_base, set_finetune_params

from ragtune.config import load_settings
from ragtune.data.load import load_all, write_jsonl
from ragtune.errors import DataNotValidated, ValidationFailed
from ragtune.flows.finetune import finetune_flow
from ragtune.stages import prepare_stage, validate_stage

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("harness")]


def test_finetune_flow_refuses_failed_then_unvalidated_data(validated_project) -> None:
    save_tiny_base(validated_project / "models" / "tiny")
    set_finetune_params(validated_project, base_model="models/tiny", **FAST_PARAMS)
    settings = load_settings(validated_project)
    raw_dir = settings.path(settings.data.raw_dir)
    rows = load_all(raw_dir)["behaviour"]
    append_to_first("answer", " (no citation at the end)")(rows)
    write_jsonl(raw_dir / "behaviour.jsonl", rows)
    prepare_stage(settings)
    with pytest.raises(ValidationFailed):
        validate_stage(settings)

    state = finetune_flow(project_dir=str(validated_project), if_needed=False, return_state=True)
    assert state.is_failed()
    with pytest.raises(DataNotValidated, match="failed validation.*ragtune validate"):
        state.result()

    # Prepared again after the failed validation: no record of *this* data passing either.
    prepare_stage(settings)
    state = finetune_flow(project_dir=str(validated_project), if_needed=True, return_state=True)
    with pytest.raises(DataNotValidated, match="failed validation|changed since"):
        state.result()
    assert MlflowClient().search_model_versions("name='ragtune-generator'") == []
    assert not (validated_project / "data" / "finetune").exists()
