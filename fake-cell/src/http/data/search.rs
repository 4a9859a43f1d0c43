//! Search, recommend and embed routes: parse the request (engine), check the caller and the
//! index, run it under the index's read lock and write the answer straight from the stored
//! documents. A search's hits are cached, serialised, per index version.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::engine::model::body_object;
use crate::engine::search::index_data::IndexData;
use crate::engine::search::interpolate::{self, Interp};
use crate::engine::search::model;
use crate::engine::search::pipeline::Extras;
use crate::engine::search::request::{SearchReq, parse_request};
use crate::engine::search::topk::Cand;
use crate::engine::search::{execute, execute_full, recommend, response};
use crate::engine::{bodies, embed};
use crate::error::{CellError, CellResult};
use crate::http::auth::{AuthJson, AuthJsonBytes, Read};
use crate::state::Cell;
use crate::timings;

/// A 200 with an already serialised JSON body.
fn json_response(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The answer of a search or recommend, its hits serialised while the caller holds the read
/// lock.
fn answer(
    data: &IndexData,
    page: &[Cand],
    req: &SearchReq,
    query: Option<&Value>,
    extras: &Extras,
    started: Instant,
) -> CellResult<Vec<u8>> {
    let hits = response::hits_bytes(&response::Hits { data, page, req })?;
    response::answer_bytes(&hits, &envelope(req, query, extras, started))
}

fn envelope<'a>(
    req: &SearchReq,
    query: Option<&'a Value>,
    extras: &'a Extras,
    started: Instant,
) -> response::Envelope<'a> {
    response::Envelope {
        query,
        limit: req.limit,
        offset: req.offset,
        processing_time_ms: started.elapsed().as_millis() as u64,
        facets: extras.facets.as_ref(),
        total_hits: extras.total_hits,
    }
}

pub async fn search(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJsonBytes(caller, mut body, raw, _): AuthJsonBytes<Read>,
) -> CellResult<Response> {
    let started = Instant::now();
    // Marqo's `SearchQuery` model first (422), then the engine's own parsing and bounds (400).
    model::check(body_object(&mut body)?)?;
    let _route = timings::Guard::new(|| format!("POST /indexes/{name}/search"));
    let mut req = parse_request(&body, &cell.cfg.limits)?;
    let t = req.method.timers();
    timings::start(t.processing);
    let idx = cell.index_for(&caller, &name)?;
    if req.method != crate::engine::search::request::Method::Lexical {
        // Embedding the query loads the index's model, as in Marqo.
        cell.models.used(&idx.settings.model);
        cell.media.check_query(&idx.settings, &req.q, &body).await?;
    }
    idx.searches.fetch_add(1, Ordering::Relaxed);
    let body = if req.post.cacheable() {
        // The whole body is the cache key: anything that changes the hits is in it. Its bytes
        // as they came (parsed, so UTF-8): a body written out again cost 2% of a search.
        let key = String::from_utf8_lossy(&raw).into_owned();
        let hits = {
            let data = idx.data.read();
            match data.results.get(data.version, &key) {
                Some(hits) => {
                    // Nothing is embedded or retrieved, but the answer keeps Marqo's phases.
                    t.infer(|| ());
                    t.retrieving();
                    t.postprocessing();
                    hits
                }
                None => {
                    let exclude = recommend::add_context_documents(&mut req, &data, &idx.settings)?;
                    let page = execute(&req, &data, &idx.settings, &exclude, None)?;
                    t.postprocessing();
                    let hits: Arc<[u8]> = response::hits_bytes(&response::Hits {
                        data: &data,
                        page: &page,
                        req: &req,
                    })?
                    .into();
                    data.results.put(data.version, key, hits.clone());
                    hits
                }
            }
        };
        let extras = Extras::default();
        response::answer_bytes(&hits, &envelope(&req, Some(&req.q), &extras, started))?
    } else {
        let data = idx.data.read();
        let exclude = recommend::add_context_documents(&mut req, &data, &idx.settings)?;
        let (page, extras) = execute_full(&req, &data, &idx.settings, &exclude, None)?;
        t.postprocessing();
        answer(&data, &page, &req, Some(&req.q), &extras, started)?
    };
    timings::stop(t.postprocess);
    Ok(json_response(body))
}

pub async fn recommend(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, mut body, _): AuthJson<Read>,
) -> CellResult<Response> {
    let started = Instant::now();
    let o = body_object(&mut body)?;
    bodies::check_recommend_body(o)?;
    let docs = recommend::parse_documents(o)?;
    let req = recommend::search_request(o, &cell.cfg.limits)?;
    let _route = timings::Guard::new(|| format!("POST /indexes/{name}/search"));
    let idx = cell.index_for(&caller, &name)?;
    recommend::check_tensor_fields(o, &idx.settings, &idx.name)?;
    let opts = recommend::Opts {
        exclude_inputs: o
            .get("excludeInputDocuments")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        allow_missing_documents: o
            .get("allowMissingDocuments")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        allow_missing_embeddings: o
            .get("allowMissingEmbeddings")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        method: Interp::parse(o.get("interpolationMethod")),
    };
    // Marqo's recommender runs a TENSOR search for the documents' vectors: its phases.
    let t = req.method.timers();
    timings::start(t.processing);
    let body = {
        let data = idx.data.read();
        let (qv, exclude) =
            t.infer(|| recommend::query(&data, &req, &docs, &opts, &idx.settings))?;
        let page = execute(&req, &data, &idx.settings, &exclude, Some(qv))?;
        t.postprocessing();
        // Marqo's recommender runs its search with `text=None`, which answers `"query": null`.
        answer(
            &data,
            &page,
            &req,
            Some(&Value::Null),
            &Extras::default(),
            started,
        )?
    };
    timings::stop(t.postprocess);
    Ok(json_response(body))
}

pub async fn embed_route(
    State(cell): State<Arc<Cell>>,
    Path(name): Path<String>,
    AuthJson(caller, mut body, _): AuthJson<Read>,
) -> CellResult<Json<Value>> {
    let started = Instant::now();
    bodies::check_embed_body(body_object(&mut body)?)?;
    let _route = timings::Guard::new(|| format!("POST /indexes/{name}/embed"));
    timings::start("embed.query_preprocessing");
    // As the body model's union coerced it (a number is its text, weights are floats).
    let content = body
        .get("content")
        .map(|c| crate::engine::unions::embed_content(c).unwrap_or_else(|_| c.clone()))
        .ok_or_else(|| CellError::unprocessable(&["body", "content"], "field required"))?;
    let idx = cell.index_for(&caller, &name)?;
    // Embedding loads the index's model, as in Marqo.
    cell.models.used(&idx.settings.model);
    let s = &idx.settings;
    let items: Vec<Value> = match &content {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    if items.is_empty() {
        return Err(CellError::InvalidArgument("content cannot be empty".into()));
    }
    for item in &items {
        cell.media.check_query(s, item, &body).await?;
    }
    // Marqo's embed: `content_type` "query" (the default) takes the index's query prefix,
    // "document" its chunk prefix, `null` none.
    let prefix_key = match body.get("content_type") {
        None => Some("textQueryPrefix"),
        Some(Value::String(t)) if t == "document" => Some("textChunkPrefix"),
        Some(Value::String(t)) if t == "query" => Some("textQueryPrefix"),
        _ => None,
    };
    let prefix = prefix_key
        .and_then(|k| s.json[k].as_str())
        .unwrap_or_default();
    let with_prefix = |t: &str| format!("{prefix}{t}");
    timings::stop("embed.query_preprocessing");
    let out = timings::time("embed.vector_inference_full_pipeline", || {
        items
            .iter()
            .map(|item| {
                let v = match item {
                    Value::String(t) => embed::embed_text(&with_prefix(t), s.dim),
                    // A weighted map is combined as a search's `q` is (`nlerp` / `lerp` by default).
                    Value::Object(m) if !m.is_empty() => {
                        let keyed: serde_json::Map<String, Value> =
                            m.iter().map(|(k, w)| (with_prefix(k), w.clone())).collect();
                        interpolate::query_vector(&Value::Object(keyed), &[], None, s)?
                    }
                    _ => {
                        return Err(CellError::InvalidArgument(
                            "content items must be strings or non-empty {text: weight} maps".into(),
                        ));
                    }
                };
                Ok(embed::dense(&v, s.dim))
            })
            .collect::<CellResult<Vec<_>>>()
    })?;
    Ok(Json(json!({
        "content": content, "embeddings": out,
        "processingTimeMs": started.elapsed().as_secs_f64() * 1000.0,
    })))
}
