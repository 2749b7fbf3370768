#!/usr/bin/env bash
# One backfill as a Cloud Run Job: N tasks, each the shard CLOUD_RUN_TASK_INDEX of
# CLOUD_RUN_TASK_COUNT (read by --shard auto). A failed task is retried with the same index and
# resumes its shard from the state in GCS (--state-to), so it never launches its job twice.
# Usage: PROJECT=acme REGION=europe-west1 IMAGE=…/lp-backfill:0.1.0 TASKS=16 \
#        IMPORT_AT=2026-11-30T08:00:00Z bash deploy/cloud-run-job.sh
# Needs: a secret "leanplum-dev-key" in Secret Manager, and a service account that may read the
# export and write the import bucket and the state prefix.
# Memory: a Cloud Run task's disk is memory. The clean parts and the sort's spilled runs of one
# shard (≈70 bytes a row written) live there, beside --sort-memory and ~150 MB for the process:
# choose TASKS so that a shard writes at most ~30M rows (≈2 GB) with 4 GiB, or give more memory.
# Retries: a failed task is retried and resumes its shard; an exit 3 (rejects) or 5 (job FAILED)
# repeats the same answer, so look at the logs before raising --max-retries.
set -euo pipefail
: "${PROJECT:?}" "${REGION:?}" "${IMAGE:?}" "${IMPORT_AT:?pin the import time for every shard}"
TASKS="${TASKS:-16}"
JOB="${JOB:-leanplum-backfill}"

args=(
  run 'gs://acme-exports/events/2019-2026/*.csv.gz'
  --out=/tmp/run
  --shard=auto
  --state-to=gs://acme-leanplum-imports/state/"$JOB"
  --to=gs://acme-leanplum-imports/backfills
  --import-at="$IMPORT_AT"
  --app-id=5678
  --sort-memory=512MB
  --yes
  --log-format=json
  --timeout=12h
)

gcloud run jobs create "$JOB" \
  --project="$PROJECT" --region="$REGION" --image="$IMAGE" \
  --tasks="$TASKS" --parallelism="$TASKS" --max-retries=3 --task-timeout=24h \
  --cpu=1 --memory=4Gi \
  --service-account="lp-backfill@$PROJECT.iam.gserviceaccount.com" \
  --set-secrets=LEANPLUM_DEV_KEY=leanplum-dev-key:latest \
  --args="$(IFS=,; echo "${args[*]}")"

gcloud run jobs execute "$JOB" --project="$PROJECT" --region="$REGION" --wait
# then: lp-backfill status gs://acme-leanplum-imports/state/$JOB
