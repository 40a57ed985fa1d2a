"""Write examples/exploration.ipynb from the cells below (keeps the notebook reviewable)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# Exploring pipelines and runs\n\n"
        "The sync API (`dynamodb_wrapper_sync`) works in a notebook even though the kernel's "
        "own event loop is running; the async API (`dynamodb_wrapper_async`) works with "
        "top-level `await`. This notebook uses an embedded local DynamoDB unless "
        "`DYNAMODB_ENDPOINT_URL` is set."
    ),
    new_code_cell(
        "import os\n"
        "import statistics\n"
        "from datetime import datetime, timedelta, timezone\n\n"
        "import dynamodb_wrapper_async as aio\n"
        "from dynamodb_wrapper_sync import (\n"
        "    DynamoDBConfig, EmbeddedDynamoDB, PipelineConfigReadApi, PipelineConfigUpsert,\n"
        "    PipelineConfigWriteApi, PipelineRunLogsReadApi, PipelineRunLogsWriteApi,\n"
        "    PipelineRunLogUpsert, RunStatus, create_tables,\n"
        ")\n\n"
        "embedded = None\n"
        "if os.environ.get('DYNAMODB_ENDPOINT_URL'):\n"
        "    config = DynamoDBConfig.from_env()\n"
        "else:\n"
        "    embedded = EmbeddedDynamoDB()\n"
        "    config = embedded.start()\n"
        "for table in create_tables(config):\n"
        "    print(table)"
    ),
    new_markdown_cell("## Load sample pipelines and runs (sync API, batch writes)"),
    new_code_cell(
        "pipelines = PipelineConfigWriteApi(config)\n"
        "pipelines.batch_upsert(\n"
        "    PipelineConfigUpsert(pipeline_id=f'nb-pipe-{n}', pipeline_name=f'Pipeline {n}',\n"
        "                         source_type='s3', destination_type='warehouse')\n"
        "    for n in range(3)\n"
        ")\n"
        "start = datetime(2024, 1, 31, 8, 0, tzinfo=timezone.utc)\n"
        "result = PipelineRunLogsWriteApi(config).batch_upsert(\n"
        "    PipelineRunLogUpsert(\n"
        "        run_id=f'nb-run-{n:03d}', pipeline_id=f'nb-pipe-{n % 3}',\n"
        "        status=RunStatus.FAILED if n % 7 == 0 else RunStatus.SUCCESS,\n"
        "        start_time=start + timedelta(hours=n),\n"
        "        duration_seconds=30 + (n * 37) % 240, records_processed=1000 + n,\n"
        "    )\n"
        "    for n in range(60)\n"
        ")\n"
        "print(f'{result.processed} runs written')"
    ),
    new_markdown_cell("## Query with the sync API while the kernel's loop runs"),
    new_code_cell(
        "active, next_key = PipelineConfigReadApi(config).query_active_pipelines(limit=10)\n"
        "print(sorted(p.pipeline_id for p in active if p.pipeline_id.startswith('nb-')))\n"
        "runs = PipelineRunLogsReadApi(config)\n"
        "failed = list(runs.query_by_status_iter(RunStatus.FAILED))\n"
        "print(f'{sum(r.run_id.startswith(\"nb-\") for r in failed)} failed runs')"
    ),
    new_markdown_cell("## The same through the async API with top-level `await`"),
    new_code_cell(
        "aruns = aio.PipelineRunLogsReadApi(config)\n"
        "page, token = await aruns.query_runs_for_pipeline('nb-pipe-1', limit=5)\n"
        "print([r.run_id for r in page], token is not None)\n"
        "streamed = [r async for r in aruns.query_runs_for_pipeline_iter('nb-pipe-1')]\n"
        "print(f'{len(streamed)} runs of nb-pipe-1')\n"
        "await aio.close_clients()  # clients pooled on the kernel's loop"
    ),
    new_markdown_cell("## Run durations per pipeline"),
    new_code_cell(
        "rows = []\n"
        "for n in range(3):\n"
        "    name = f'nb-pipe-{n}'\n"
        "    durations = [r.duration_seconds for r in runs.query_runs_for_pipeline_iter(name)]\n"
        "    rows.append((name, len(durations), statistics.mean(durations), max(durations)))\n"
        "print(f\"{'pipeline':<12}{'runs':>6}{'mean s':>9}{'max s':>8}  mean\")\n"
        "for name, count, mean, longest in rows:\n"
        "    bar = '#' * round(mean / 10)\n"
        "    print(f'{name:<12}{count:>6}{mean:>9.1f}{longest:>8.0f}  {bar}')"
    ),
    new_code_cell("if embedded is not None:\n    embedded.stop()"),
]


def main() -> None:
    notebook = new_notebook(
        cells=CELLS,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    target = Path(__file__).resolve().parents[1] / "examples" / "exploration.ipynb"
    nbformat.write(notebook, target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
