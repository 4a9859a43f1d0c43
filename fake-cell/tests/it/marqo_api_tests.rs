//! What Marqo's own API test suite (marqo-ai/marqo-api-tests, run with py-marqo against a live
//! Marqo) asserts and fake-cell first answered differently, checked in-process and over HTTP:
//! Marqo's model registry, a structured index's typed values (Marqo's messages, Vespa's 32-bit
//! `float`), structured partial updates, the filter error and a list body read as pydantic 1
//! reads it.

use serde_json::{Value, json};

use crate::in_process::cell_with_index;
use crate::search_params::Target;
use crate::support::CellProc;

/// Add documents to `index`; every one must be written.
async fn added(t: &Target, index: &str, body: Value) {
    let (_, r) = t
        .req("POST", &format!("/indexes/{index}/documents"), body)
        .await;
    assert_eq!(r["errors"], false, "{r}");
}

fn message(r: &Value) -> &str {
    r["message"].as_str().unwrap_or_default()
}

async fn model_registry(t: &Target) {
    // A registry name Marqo knows, with the registry's dimensions: a custom vector of 384 fits.
    t.create("mini", json!({"type": "structured", "model": "sentence-transformers/all-MiniLM-L6-v2",
                   "allFields": [{"name": "v", "type": "custom_vector", "features": ["lexical_search", "filter"]}],
                   "tensorFields": ["v"]})).await;
    let doc = |n: usize| json!({"documents": [{"_id": "1", "v": {"content": "custom vector text", "vector": vec![0.5; n]}}]});
    let (_, r) = t.req("POST", "/indexes/mini/documents", doc(384)).await;
    assert_eq!(r["errors"], false, "{r}");
    // A custom vector field with `filter` is filtered by its content.
    let r = t
        .search(
            "mini",
            json!({"q": "x", "filter": "v:(custom vector text)"}),
        )
        .await;
    assert_eq!(r["hits"][0]["_id"], "1", "{r}");
    let (s, r) = t.req("POST", "/indexes/mini/documents", doc(512)).await;
    assert_eq!(s, 400, "{r}");
    assert!(
        message(&r).contains(
            "Custom vector must have dimension of 384, but given vector is of length 512"
        )
    );
    // A name outside the registry without properties: Marqo's 400.
    let (s, r) = t
        .req("POST", "/indexes/own", json!({"model": "hf/my-own-model"}))
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (400, Some("invalid_argument")),
        "{r}"
    );
    assert!(message(&r).starts_with(
        "Could not find model properties for model=hf/my-own-model. Please check that the model name is correct."
    ));
    // With properties it is a custom model, checked by validate_model_properties.
    let own = |dims: i64| json!({"model": "hf/my-own-model", "modelProperties": {"type": "hf", "dimensions": dims}});
    let (s, r) = t.req("POST", "/indexes/own", own(0)).await;
    assert_eq!(s, 400, "{r}");
    assert!(
        message(&r).contains("'dimensions' must be a positive integer, but received 0."),
        "{r}"
    );
    t.create("own", own(16)).await;
}

async fn typed_values(t: &Target) {
    t.create(
        "typed",
        json!({"type": "structured", "model": "random/small",
                   "allFields": [{"name": "title", "type": "text", "features": ["lexical_search"]},
                                 {"name": "f", "type": "float", "features": ["filter"]},
                                 {"name": "i", "type": "int"},
                                 {"name": "fs", "type": "array<float>"}],
                   "tensorFields": ["title"]}),
    )
    .await;
    let (_, r) = t
        .req(
            "POST",
            "/indexes/typed/documents",
            json!({"documents": [
                {"_id": "1", "title": "a", "f": 1e-50, "fs": [0.1, 1.0000001234]},
                {"_id": "2", "i": 2147483648_i64},
                {"_id": "3", "i": "7"},
                {"_id": "4", "nope": 1}
            ]}),
        )
        .await;
    let errors: Vec<&str> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["error"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(errors[0], "", "{r}");
    assert!(errors[1].starts_with(
        "Invalid value 2147483648 for int field. Expected a value in the range [-2147483647, 2147483647]"
    ), "{r}");
    assert_eq!(
        errors[2],
        "Invalid value 7 for field i with Marqo type int. Expected a value of type <class 'int'>, but found <class 'str'>"
    );
    assert_eq!(
        errors[3],
        "Field nope is not a valid field for structured index typed. Valid fields are: title, f, i, fs"
    );
    // Vespa refuses a string with a control character: Marqo's item carries its words.
    let (_, r) = t
        .req(
            "POST",
            "/indexes/typed/documents",
            json!({"documents": [{"_id": "5", "title": "bell\u{7}"}]}),
        )
        .await;
    assert_eq!(
        (
            r["items"][0]["status"].as_u64(),
            r["items"][0]["code"].as_str()
        ),
        (Some(400), Some("vespa_error")),
        "{r}"
    );
    assert!(
        r["items"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("could not parse field"),
        "{r}"
    );
    // Vespa keeps a `float` in 32 bits.
    let (s, d) = t.get("/indexes/typed/documents/1").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["f"].clone(), d["fs"].clone()),
        (json!(0.0), json!([0.1, 1.0000001]))
    );
    // Marqo 2.17 dropped re-rankers: the search runs (its own errors first), then is refused;
    // recommend, which searches with it, too.
    let reranked = |body: Value| async move {
        let (s, r) = t.req("POST", "/indexes/typed/search", body).await;
        assert_eq!(s, 400, "{r}");
        (
            r["code"].as_str().unwrap_or_default().to_string(),
            message(&r).to_string(),
        )
    };
    let refused = "Reranker is no longer supported in Marqo version 2.17 and later";
    for body in [
        json!({"q": "a", "reRanker": "owl/ViT-B/32"}),
        json!({"q": "a", "reRanker": "owl/ViT-B/32", "searchableAttributes": ["title"]}),
        json!({"q": "a", "reRanker": "google/owlvit-base-patch32", "searchMethod": "LEXICAL"}),
    ] {
        assert_eq!(
            reranked(body).await,
            ("invalid_argument".into(), refused.into())
        );
    }
    let (code, _) = reranked(json!({"q": "a", "reRanker": "owl/ViT-B/32", "filter": "i:3"})).await;
    assert_eq!(code, "invalid_field_name");
    let (s, r) = t
        .req(
            "POST",
            "/indexes/typed/recommend",
            json!({"documents": ["1"], "reRanker": "owl/ViT-B/32"}),
        )
        .await;
    assert_eq!((s, message(&r)), (400, refused), "{r}");
    t.search("typed", json!({"q": "a", "reRanker": null})).await;
    // A filter on a field without the filter feature: Marqo's message.
    let (s, r) = t
        .req(
            "POST",
            "/indexes/typed/search",
            json!({"q": "a", "filter": "i:3"}),
        )
        .await;
    assert_eq!(s, 400, "{r}");
    assert_eq!(
        message(&r),
        "Index 'typed' has no filterable field 'i'. Available filterable fields are: 'f, _id'"
    );
}

async fn partial_updates(t: &Target) {
    let patch = |docs: Value| t.req("PATCH", "/indexes/typed/documents", docs);
    let (s, r) = patch(json!({"documents": [
        {"title": "x"},
        {"_id": "1", "title": "b"},
        {"_id": "1", "zz": 1},
        {"_id": "1", "f": 2.5}
    ]}))
    .await;
    assert_eq!(s, 200, "{r}");
    let errors: Vec<&str> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["error"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        errors,
        [
            "'_id' is a required field but it does not exist",
            "You cannot modify 'title' field as this is a tensor field",
            "Invalid field name zz for index typed. Valid field names are title, f, i, fs",
            "",
        ],
        "{r}"
    );
    // A parse error is reported even for a document that does not exist.
    let (_, r) = patch(json!({"documents": [{"_id": "missing", "i": "x"}]})).await;
    assert!(
        r["items"][0]["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("Invalid value x"),
        "{r}"
    );
    // A whole body that is a list of one two-key document is, to pydantic 1, a dict with one
    // key: FastAPI's 422 names the missing `documents`.
    let (s, r) = patch(json!([{"_id": "1", "title": "x"}])).await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(r["detail"][0]["loc"], json!(["body", "documents"]), "{r}");
    assert_eq!(r["detail"][0]["msg"], "field required", "{r}");
    let (s, r) = patch(json!(7)).await;
    assert_eq!(
        (s, r["detail"][0]["msg"].as_str()),
        (422, Some("value is not a valid dict"))
    );
}

/// The first chunk's embedding of document 1 (`expose_facets`).
async fn facet_embedding(t: &Target, index: &str) -> Value {
    let (s, d) = t
        .get(&format!("/indexes/{index}/documents/1?expose_facets=true"))
        .await;
    assert_eq!(s, 200, "{d}");
    d["_tensor_facets"][0]["_embedding"].clone()
}

async fn embedding(t: &Target, index: &str, body: Value) -> Value {
    let (s, r) = t
        .req("POST", &format!("/indexes/{index}/embed"), body)
        .await;
    assert_eq!(s, 200, "{r}");
    r["embeddings"][0].clone()
}

/// Marqo's text prefixes (py-marqo's `test_create_simple_index_creation_with_prefix` and
/// `test_request_level_prefix_override_embed_add_docs`): the model's defaults from the
/// registry, the index's, the add request's, and `content_type` on embed.
async fn prefixes(t: &Target) {
    let doc = json!({"documents": [{"_id": "1", "t": "hello document"}], "tensorFields": ["t"]});
    for (index, settings, chunk, query) in [
        (
            "pdefault",
            json!({"model": "test_prefix"}),
            "test passage: ",
            "test query: ",
        ),
        (
            "poverride",
            json!({"model": "test_prefix", "textQueryPrefix": "q: ", "textChunkPrefix": "test: "}),
            "test: ",
            "q: ",
        ),
    ] {
        let (s, r) = t.req("POST", &format!("/indexes/{index}"), settings).await;
        assert_eq!(s, 200, "{r}");
        t.req("POST", &format!("/indexes/{index}/documents"), doc.clone())
            .await;
        let facet = facet_embedding(t, index).await;
        let raw = json!({"content": format!("{chunk}hello document"), "content_type": null});
        assert_eq!(embedding(t, index, raw).await, facet, "{index}");
        let as_document = json!({"content": "hello document", "content_type": "document"});
        assert_eq!(embedding(t, index, as_document).await, facet, "{index}");
        let as_query = json!({"content": "hello document"});
        let raw_query = json!({"content": format!("{query}hello document"), "content_type": null});
        let query_vector = embedding(t, index, as_query).await;
        assert_eq!(
            query_vector,
            embedding(t, index, raw_query).await,
            "{index}"
        );
        assert_ne!(query_vector, facet, "{index}");
        // Marqo's settings answer leaves the prefixes out.
        let (_, s) = t.get(&format!("/indexes/{index}/settings")).await;
        assert!(
            s.get("textQueryPrefix").is_none() && s.get("textChunkPrefix").is_none(),
            "{s}"
        );
    }
    // The add request's textChunkPrefix replaces the index's for its documents.
    let mut body = doc.clone();
    body["textChunkPrefix"] = json!("test query: ");
    t.req("POST", "/indexes/pdefault/documents", body).await;
    let raw = json!({"content": "test query: hello document", "content_type": null});
    assert_eq!(
        embedding(t, "pdefault", raw).await,
        facet_embedding(t, "pdefault").await
    );
}

/// Score modifiers reach a map field's keys as `field.key` (Marqo flattens maps of numbers).
async fn map_score_modifiers(t: &Target) {
    t.create("maps", json!({"model": "random/small"})).await;
    let docs = json!({"documents": [{"_id": "1", "t": "rider", "m": {"a": 20.0}, "add": {"a": 30.0}}],
        "tensorFields": ["t"]});
    t.req("POST", "/indexes/maps/documents", docs).await;
    let base = t.search("maps", json!({"q": "rider"})).await["hits"][0]["_score"]
        .as_f64()
        .unwrap_or(0.0);
    let mods = json!({"multiply_score_by": [{"field_name": "m.a", "weight": 1}],
        "add_to_score": [{"field_name": "add.a", "weight": 1}]});
    let r = t
        .search("maps", json!({"q": "rider", "scoreModifiers": mods}))
        .await;
    let got = r["hits"][0]["_score"].as_f64().unwrap_or(0.0);
    assert!((got - (base * 20.0 + 30.0)).abs() < 1e-3, "{base} {r}");
}

/// Facets of a collapsing search count collapse groups (py-marqo's
/// `test_search_with_valid_collapse_field_succeeds`): each product once per value.
async fn collapsed_facets(t: &Target) {
    let settings = json!({"model": "random/small", "collapseFields": [{"name": "pid"}]});
    t.create("variants", settings).await;
    let products = [
        ("1", "SnugNest", 10.0),
        ("2", "SnugNest", 20.0),
        ("3", "PulseWear", 30.0),
        ("4", "SprintX", 40.0),
        ("5", "PulseWear", 50.0),
        ("6", "RetroHue", 60.0),
    ];
    let mut docs = Vec::new();
    for (pid, brand, price) in products {
        for color in ["yellow", "red", "coral", "charcoal"] {
            docs.push(
                json!({"_id": format!("{pid}_{color}"), "pid": pid, "brand": brand,
                "price": price, "color": color, "title": format!("modern {brand} clothes")}),
            );
        }
    }
    added(
        t,
        "variants",
        json!({"documents": docs, "tensorFields": ["title"]}),
    )
    .await;
    for (retrieval, ranking) in [("disjunction", "rrf"), ("tensor", "tensor")] {
        let r = t
            .search(
                "variants",
                json!({"q": "modern clothes", "searchMethod": "HYBRID", "limit": 6,
                    "hybridParameters": {"retrievalMethod": retrieval, "rankingMethod": ranking,
                        "rerankDepthTensor": 30},
                    "collapseFields": [{"name": "pid"}],
                    "filter": "price:[15.0 TO *] AND (color:yellow OR color:red)",
                    "facets": {"fields": {
                        "price": {"type": "number", "ranges": [{"from": 15.0, "to": 40.0}, {"from": 40.0}]},
                        "color": {"type": "string"}, "brand": {"type": "string"}}}}),
            )
            .await;
        assert_eq!(r["hits"].as_array().map(Vec::len), Some(5), "{r}");
        let f = &r["facets"];
        assert_eq!(
            f["price"],
            json!({"15.0:40.0": {"count": 2}, "40.0:Inf": {"count": 3}}),
            "{retrieval}: {r}"
        );
        assert_eq!(
            f["color"],
            json!({"red": {"count": 5}, "yellow": {"count": 5}}),
            "{r}"
        );
        assert_eq!(
            f["brand"],
            json!({"PulseWear": {"count": 2}, "RetroHue": {"count": 1},
                "SnugNest": {"count": 1}, "SprintX": {"count": 1}}),
            "{r}"
        );
    }
}

/// `context.documents` (py-marqo's `test_search_with_context`), the string-`q` refusal of
/// HYBRID with context, and `efSearch` capping a TENSOR search's neighbours.
async fn context_documents(t: &Target) {
    t.create("ctx", json!({"model": "random/small"})).await;
    let docs = json!({"documents": [
        {"_id": "d1", "t": "A comparison of the best pets"},
        {"_id": "d2", "t": "The history of dogs and household pets"},
        {"_id": "d3", "t": "Another history of dogs and household pets"}],
        "tensorFields": ["t"]});
    t.req("POST", "/indexes/ctx/documents", docs).await;
    let search = |context: Value| json!({"q": {"best pets": 1}, "context": context});
    let ids = |r: &Value| -> Vec<String> {
        r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["_id"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let r = t
        .search("ctx", search(json!({"documents": {"ids": {"d2": 1}}})))
        .await;
    assert_eq!(ids(&r), ["d3", "d1"], "{r}");
    let keep =
        json!({"documents": {"ids": {"d2": 1}, "parameters": {"excludeInputDocuments": false}}});
    let r = t.search("ctx", search(keep)).await;
    assert!(ids(&r).contains(&"d2".to_string()), "{r}");
    let (s, r) = t
        .req(
            "POST",
            "/indexes/ctx/search",
            search(json!({"documents": {"parameters": {}}})),
        )
        .await;
    assert_eq!(s, 400, "{r}");
    assert!(
        message(&r).contains("must be present and a non-empty dict"),
        "{r}"
    );
    let (s, r) = t
        .req(
            "POST",
            "/indexes/ctx/search",
            search(json!({"documents": {"ids": {"zz": 1}}})),
        )
        .await;
    assert_eq!(
        (s, message(&r)),
        (400, "The following document IDs were not found: zz")
    );
    let (s, r) = t
        .req(
            "POST",
            "/indexes/ctx/search",
            json!({"q": "pets", "searchMethod": "HYBRID", "context": {"documents": {"ids": {"d2": 1}}}}),
        )
        .await;
    assert_eq!(s, 400, "{r}");
    assert!(message(&r).starts_with(
        "Cannot use 'context' for a search with a string 'q' (or queryTensor): 'pets'."
    ));
    // Current Marqo takes at most MARQO_MAX_SEARCH_CONTEXT_DOCS (10) context documents.
    let eleven: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("d{i}"), json!(1))).collect();
    let (s, r) = t
        .req(
            "POST",
            "/indexes/ctx/search",
            search(json!({"documents": {"ids": eleven}})),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str(), message(&r)),
        (
            400,
            Some("illegal_requested_doc_count"),
            "Search context documents limit exceeded. Maximum allowed is 10, but got 11. \
             To increase, set the environment variable 'MARQO_MAX_SEARCH_CONTEXT_DOCS'"
        )
    );
    // Marqo asks Vespa for min(limit + offset, efSearch) neighbours.
    let r = t.search("ctx", json!({"q": "pets", "efSearch": 2})).await;
    assert_eq!(ids(&r).len(), 2, "{r}");
    // HYBRID's tensor leg is the same nearestNeighbor term: at most efSearch hits from it.
    let tensor_only = json!({"retrievalMethod": "tensor", "rankingMethod": "tensor"});
    let r = t
        .search(
            "ctx",
            json!({"q": "pets", "searchMethod": "HYBRID", "efSearch": 2, "hybridParameters": tensor_only}),
        )
        .await;
    assert_eq!(ids(&r).len(), 2, "{r}");
    let r = t
        .search(
            "ctx",
            json!({"q": "pets", "searchMethod": "HYBRID", "hybridParameters": tensor_only}),
        )
        .await;
    assert!(ids(&r).len() > 2, "{r}");
}

/// A structured index's searched fields as Marqo's `_get_{tensor,lexical}_fields_to_search`
/// check them, and an index without the fields a method needs in Marqo's words for it.
async fn structured_search_fields(t: &Target) {
    for (name, tensor) in [("sf", json!(["title"])), ("notensor", json!([]))] {
        let body = json!({"type": "structured", "model": "random/small",
               "allFields": [{"name": "title", "type": "text", "features": ["lexical_search"]},
                             {"name": "body", "type": "text"}],
               "tensorFields": tensor});
        t.create(name, body).await;
    }
    let refused = |index: &'static str, body: Value| async move {
        let (s, r) = t
            .req("POST", &format!("/indexes/{index}/search"), body)
            .await;
        assert_eq!(s, 400, "{r}");
        (
            r["code"].as_str().unwrap_or_default().to_string(),
            message(&r).to_string(),
        )
    };
    let no_tensor = (
        "invalid_field_name".to_string(),
        "Index sf has no tensor field body. Available tensor fields are: title".to_string(),
    );
    let no_lexical = (
        "invalid_field_name".to_string(),
        "Index sf has no lexically searchable field body. Available lexically searchable fields are: title"
            .to_string(),
    );
    let body = json!({"q": "x", "searchableAttributes": ["body"]});
    assert_eq!(refused("sf", body.clone()).await, no_tensor);
    let mut lexical = body.clone();
    lexical["searchMethod"] = json!("LEXICAL");
    assert_eq!(refused("sf", lexical).await, no_lexical);
    let hybrid = |key: &str| json!({"q": "x", "searchMethod": "HYBRID", "hybridParameters": {key: ["body"]}});
    assert_eq!(
        refused("sf", hybrid("searchableAttributesTensor")).await,
        no_tensor
    );
    assert_eq!(
        refused("sf", hybrid("searchableAttributesLexical")).await,
        no_lexical
    );
    let (code, msg) = refused("notensor", json!({"q": "x"})).await;
    assert_eq!(code, "invalid_argument");
    assert!(
        msg.starts_with(
            "Index notensor has no tensor fields, thus tensor search cannot be performed."
        ),
        "{msg}"
    );
    let (_, msg) = refused("notensor", json!({"q": "x", "searchMethod": "HYBRID"})).await;
    assert!(
        msg.starts_with(
            "Index notensor either has no tensor fields or no lexically searchable fields"
        ),
        "{msg}"
    );
}

/// Root validators of current Marqo's request models that 2.13 lacked, as the newest
/// marqo-api-tests assert them: each a 422 item at `["body", "__root__"]`.
async fn newer_validators(t: &Target) {
    t.create("nv", json!({})).await;
    let h = json!({"k": "v"});
    let docs = json!([{"_id": "1", "t": "a"}]);
    let ctx = json!({"documents": {"ids": {"1": 1}}});
    let lexical_lexical = json!({"retrievalMethod": "lexical", "rankingMethod": "lexical"});
    let cases = [
        (
            "search",
            json!({"q": "a", "image_download_headers": h, "mediaDownloadHeaders": h}),
            "Cannot set both imageDownloadHeaders(image_download_headers) and mediaDownloadHeaders. ",
        ),
        (
            "documents",
            json!({"documents": docs, "tensorFields": ["t"], "imageDownloadHeaders": h, "mediaDownloadHeaders": h}),
            "Cannot set both imageDownloadHeaders and mediaDownloadHeaders. ",
        ),
        (
            "embed",
            json!({"content": ["a"], "imageDownloadHeaders": h, "mediaDownloadHeaders": h}),
            "Cannot set both imageDownloadHeaders and mediaDownloadHeaders. ",
        ),
        (
            "search",
            json!({"q": "a", "searchMethod": "LEXICAL", "context": ctx}),
            "Context is not supported for lexical search",
        ),
        (
            "search",
            json!({"q": "a", "searchMethod": "HYBRID", "context": ctx, "hybridParameters": lexical_lexical}),
            "Context is not supported for lexical/lexical hybrid search",
        ),
        (
            "search",
            json!({"q": "a", "searchMethod": "HYBRID", "rerankDepth": 5,
                   "hybridParameters": {"rerankDepthTensor": -1}}),
            "rerankDepthTensor cannot be negative.",
        ),
        (
            "search",
            json!({"q": "a", "searchMethod": "HYBRID", "sortBy": {"fields": [{"fieldName": "n"}]},
                   "scoreModifiers": {"add_to_score": [{"field_name": "n", "weight": 1}]}}),
            "'sortBy' cannot be used with 'scoreModifiers'(global score modifiers) in hybrid search ",
        ),
    ];
    for (route, body, msg) in cases {
        let (s, r) = t
            .req("POST", &format!("/indexes/nv/{route}"), body.clone())
            .await;
        assert_eq!(s, 422, "{body}: {r}");
        let d = &r["detail"][0];
        assert_eq!(d["loc"], json!(["body", "__root__"]), "{body}: {r}");
        assert!(
            d["msg"].as_str().unwrap_or_default().starts_with(msg),
            "{body}: {r}"
        );
    }
    // Headers of one kind, or an empty map of the other, are fine.
    t.search(
        "nv",
        json!({"q": "a", "image_download_headers": h, "mediaDownloadHeaders": {}}),
    )
    .await;
}

/// HYBRID's per-leg score modifiers are the legs' rank profiles: a lexically retrieved page
/// ranked by modified tensor scores, and RRF's `_lexical_score` / `_tensor_score` modified
/// (marqo-api-tests' `test_hybrid_search_score_modifiers`).
async fn hybrid_leg_modifiers(t: &Target) {
    t.create("hm", json!({})).await;
    let docs = json!([
        {"_id": "doc6", "t": "HELLO WORLD"},
        {"_id": "doc7", "t": "HELLO WORLD", "add_field_1": 1.0},
        {"_id": "doc8", "t": "HELLO WORLD", "mult_field_1": 2.0},
        {"_id": "doc9", "t": "HELLO WORLD", "mult_field_1": 3.0},
        {"_id": "doc10", "t": "HELLO WORLD", "mult_field_2": 3.0},
    ]);
    added(t, "hm", json!({"documents": docs, "tensorFields": ["t"]})).await;
    let tensor_mods = json!({
        "multiply_score_by": [{"field_name": "mult_field_1", "weight": 10}, {"field_name": "mult_field_2", "weight": -10}],
        "add_to_score": [{"field_name": "add_field_1", "weight": 5}]});
    let r = t
        .search(
            "hm",
            json!({"q": "HELLO WORLD", "searchMethod": "HYBRID",
                   "hybridParameters": {"retrievalMethod": "lexical", "rankingMethod": "tensor",
                                        "scoreModifiersTensor": tensor_mods}}),
        )
        .await;
    let got: Vec<(&str, f64)> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["_id"].as_str().unwrap(), h["_score"].as_f64().unwrap()))
        .collect();
    // Every document's tensor score is the same `b` (the same text; e5's prefixes keep it
    // under 1): multiplied by 3·10, 2·10 and 3·(−10), or plus 1·5.
    let b = got.iter().find(|g| g.0 == "doc6").map_or(0.0, |g| g.1);
    let want = [
        ("doc9", 30.0 * b),
        ("doc8", 20.0 * b),
        ("doc7", b + 5.0),
        ("doc6", b),
        ("doc10", -30.0 * b),
    ];
    assert_eq!(got.len(), want.len(), "{r}");
    for ((id, score), (wid, wscore)) in got.iter().zip(want) {
        assert_eq!(*id, wid, "{r}");
        assert!((score - wscore).abs() < 1e-4, "{r}");
    }
    let lexical_mods = json!({"add_to_score": [{"field_name": "add_field_1", "weight": 2}]});
    let r = t
        .search(
            "hm",
            json!({"q": "HELLO WORLD", "searchMethod": "HYBRID",
                   "hybridParameters": {"scoreModifiersTensor": tensor_mods, "scoreModifiersLexical": lexical_mods}}),
        )
        .await;
    let hit = |id: &str| {
        r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}: {r}"))
    };
    let (d6, d7, d9) = (hit("doc6"), hit("doc7"), hit("doc9"));
    let lexical = |h: &Value| h["_lexical_score"].as_f64().unwrap();
    assert!((lexical(&d7) - lexical(&d6) - 2.0).abs() < 1e-4, "{r}");
    let tensor = |h: &Value| h["_tensor_score"].as_f64().unwrap();
    assert!((tensor(&d9) - 30.0 * tensor(&d6)).abs() < 1e-3, "{r}");
    // RRF fuses the modified ranks: doc7 leads the lexical leg and is third in the tensor one.
    assert_eq!(r["hits"][0]["_id"], "doc7", "{r}");
}

/// A Marqtune model's properties are hidden from `GET settings` but for `isMarqtuneModel`.
async fn marqtune_properties(t: &Target) {
    let props = |marqtune: bool| {
        json!({"isMarqtuneModel": marqtune, "name": "ViT-B-32", "dimensions": 512, "type": "open_clip",
               "model_location": {"s3": {"Bucket": "marqtune-public-bucket", "Key": "m/epoch_1.pt"},
                                  "auth_required": false}})
    };
    for (name, marqtune) in [("tuned", true), ("plain", false)] {
        let settings =
            json!({"model": "marqtune/model-id/checkpoint", "modelProperties": props(marqtune)});
        t.create(name, settings).await;
        let (s, r) = t.get(&format!("/indexes/{name}/settings")).await;
        assert_eq!(s, 200, "{r}");
        let want = if marqtune {
            json!({"isMarqtuneModel": true})
        } else {
            props(false)
        };
        assert_eq!(r["modelProperties"], want, "{r}");
    }
}

async fn all(t: &Target) {
    model_registry(t).await;
    typed_values(t).await;
    partial_updates(t).await;
    prefixes(t).await;
    map_score_modifiers(t).await;
    collapsed_facets(t).await;
    context_documents(t).await;
    structured_search_fields(t).await;
    newer_validators(t).await;
    hybrid_leg_modifiers(t).await;
    marqtune_properties(t).await;
}

#[tokio::test]
async fn marqo_api_test_answers_in_process() {
    let (_dir, cell, app) = cell_with_index("unused").await;
    all(&Target::Router(app)).await;
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn marqo_api_test_answers_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    all(&Target::Http(cell.url.clone())).await;
}
