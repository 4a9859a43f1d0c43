//! Reindex jobs: copy every document of one index into another in the background
//! (`POST /api/v2/reindex` `{"sourceIndexName","targetIndexName"}`), list and get them. The job list
//! keeps the newest [`crate::state::MAX_JOBS`]; creation and listing take one short mutex. A
//! running job writes each batch under a restore-gate permit and stops, writing nothing more, once
//! a snapshot restore replaced the state it was copying into.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::engine::store;
use crate::error::{CellError, CellResult};
use crate::http::auth::{Admin, Auth, AuthJson, Read};
use crate::persist::Record;
use crate::state::{Cell, Index, Job, now_rfc3339};

const BATCH: usize = 128;

pub async fn create(
    State(cell): State<Arc<Cell>>,
    AuthJson(caller, body, _): AuthJson<Admin>,
) -> CellResult<Response> {
    let field = |k: &str| -> CellResult<String> {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| CellError::unprocessable(&["body", k], "field required"))
    };
    let (source, target) = (field("sourceIndexName")?, field("targetIndexName")?);
    let src = cell.index_for(&caller, &source)?;
    let dst = cell.index_for(&caller, &target)?;
    if Arc::ptr_eq(&src, &dst) {
        return Err(CellError::InvalidArgument(
            "source and target must differ".into(),
        ));
    }
    cell.check_writable()?;
    let job = Job {
        id: format!("job_{}", uuid::Uuid::new_v4().simple()),
        account_id: caller.account_id.clone(),
        source,
        target,
        status: "queued".into(),
        copied: 0,
        total: src.data.read().len() as u64,
        created_at: now_rfc3339(),
        finished_at: None,
        error: None,
    };
    let ticket = {
        let mut jobs = cell.jobs.lock();
        let t = cell.submit(&Record::Job { v: job.clone() });
        jobs.push_back(job.clone());
        while jobs.len() > crate::state::MAX_JOBS {
            jobs.pop_front();
        }
        t
    };
    cell.commit(ticket).await?;
    // Taken while this request holds its permit, so no restore can slip in before the job sees it.
    let epoch = cell.restore_gate.epoch();
    tokio::spawn(run_job(cell.clone(), job.clone(), src, dst, epoch));
    Ok((StatusCode::ACCEPTED, Json(json!(job))).into_response())
}

/// Record the job's progress, unless a restore replaced the state since the job began.
async fn update(cell: &Cell, job: &Job, epoch: u64) {
    let _permit = cell.restore_gate.write_unbounded().await;
    if cell.restore_gate.epoch() != epoch {
        return;
    }
    let ticket = {
        let mut jobs = cell.jobs.lock();
        if let Some(j) = jobs.iter_mut().find(|j| j.id == job.id) {
            *j = job.clone();
        }
        cell.submit(&Record::Job { v: job.clone() })
    };
    let _ = cell.commit(ticket).await;
}

/// Put one prepared batch into `dst` and journal it, behind the restore gate. `Ok(false)`: a
/// restore replaced the state since the job began, so nothing was written and the job ends.
async fn write_batch(
    cell: &Cell,
    dst: &Index,
    batch: &[store::DocRecord],
    prepared: Vec<store::Prepared>,
    epoch: u64,
) -> Result<bool, String> {
    let _permit = cell.restore_gate.write_unbounded().await;
    if cell.restore_gate.epoch() != epoch {
        return Ok(false);
    }
    let ticket = {
        let mut data = dst.data.write();
        if dst.deleted.load(Ordering::SeqCst) {
            return Err("target index was deleted".to_string());
        }
        if data.len() + prepared.len() > cell.cfg.max_docs_per_index {
            return Err("target index reached its document limit".to_string());
        }
        // The target takes the documents as an add would: within Marqo's field limits.
        if !dst.settings.structured {
            data.fields.check(&prepared, &cell.cfg.limits, &dst.name)?;
        }
        for p in prepared {
            data.put(p);
        }
        cell.submit(&Record::Docs {
            index: dst.name.clone(),
            put: batch.to_vec(),
            del: Vec::new(),
        })
    };
    cell.commit(ticket).await.map_err(|e| e.to_string())?;
    Ok(true)
}

async fn run_job(cell: Arc<Cell>, mut job: Job, src: Arc<Index>, dst: Arc<Index>, epoch: u64) {
    job.status = "running".into();
    update(&cell, &job, epoch).await;
    let records = src.data.read().records();
    job.total = records.len() as u64;
    for batch in records.chunks(BATCH) {
        let prepared: Vec<_> = batch
            .iter()
            .map(|r| store::prepare(r.clone(), &dst.settings))
            .collect();
        match write_batch(&cell, &dst, batch, prepared, epoch).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                job.status = "failed".into();
                job.error = Some(e);
                job.finished_at = Some(now_rfc3339());
                update(&cell, &job, epoch).await;
                return;
            }
        }
        job.copied += batch.len() as u64;
        // Let other tasks run between batches.
        tokio::task::yield_now().await;
    }
    job.status = "succeeded".into();
    job.finished_at = Some(now_rfc3339());
    update(&cell, &job, epoch).await;
}

pub async fn list(
    State(cell): State<Arc<Cell>>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    let jobs: Vec<Job> = cell
        .jobs
        .lock()
        .iter()
        .filter(|j| caller.open || j.account_id == caller.account_id)
        .cloned()
        .collect();
    Ok(Json(json!({ "results": jobs })))
}

pub async fn get_one(
    State(cell): State<Arc<Cell>>,
    Path(job_id): Path<String>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    let job = cell
        .jobs
        .lock()
        .iter()
        .find(|j| j.id == job_id && (caller.open || j.account_id == caller.account_id))
        .cloned()
        .ok_or_else(|| CellError::NotFound(format!("reindex job {job_id} not found")))?;
    Ok(Json(json!(job)))
}
