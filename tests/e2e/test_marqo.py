"""End-to-end: the official `marqo` Python client against fake-cell, unchanged.

Runs in single-URL mode (every call to one URL) and in cloud mode (MARQO_CLOUD_URL points at the
fake control plane; index calls go to each index's own `marqoEndpoint`). See cell_support.py for
how the cell is found or started.
"""

import json

import pytest
import marqo
from marqo.errors import MarqoCloudIndexNotFoundError, MarqoWebError

from cell_support import start_cell, unique_name

DOCS = [
    {"_id": "p1", "title": "Fresh green apples from the orchard", "category": "fruit", "price": 3.5, "in_stock": True},
    {"_id": "p2", "title": "Ripe yellow bananas", "category": "fruit", "price": 1.2, "in_stock": True},
    {"_id": "p3", "title": "Whole milk in a glass bottle", "category": "dairy", "price": 2.0, "in_stock": False},
    {"_id": "p4", "title": "Aged cheddar cheese", "category": "dairy", "price": 7.9, "in_stock": True},
    {"_id": "p5", "title": "Sourdough bread loaf", "category": "bakery", "price": 4.5, "in_stock": True},
    {"_id": "p6", "title": "Green apple pie with cinnamon", "category": "bakery", "price": 9.0, "in_stock": True},
]


@pytest.fixture(scope="module")
def cell():
    handle = start_cell()
    yield handle
    handle.stop()


@pytest.fixture(params=["single", "cloud"])
def client_factory(request, cell, monkeypatch):
    """Returns a function building a fresh client (cloud mode caches index endpoints for 15 s)."""
    if request.param == "cloud":
        monkeypatch.setenv("MARQO_CLOUD_URL", cell.url)
    else:
        monkeypatch.delenv("MARQO_CLOUD_URL", raising=False)

    def make():
        return marqo.Client(url=cell.url, api_key=cell.api_key)

    make.mode = request.param
    return make


def test_full_flow(client_factory):
    mq = client_factory()
    name = unique_name("e2e")
    mq.create_index(name, model="hf/e5-small-v2")
    try:
        # a fresh client sees the new index in cloud mode without waiting for the cache window
        mq = client_factory()
        assert name in [i["indexName"] for i in mq.get_indexes()["results"]]
        index = mq.index(name)
        base = mq.config.instance_mapping.get_index_base_url(name)
        if client_factory.mode == "cloud":
            # index calls go to the index's own server, not the control plane
            assert base.startswith("http://") and base.rstrip("/") != cell_url(mq)
        res = index.add_documents(DOCS, tensor_fields=["title"])
        assert res["errors"] is False, res
        assert [i["_id"] for i in res["items"]] == [d["_id"] for d in DOCS]

        batched = index.add_documents(DOCS[:2], tensor_fields=["title"], client_batch_size=1)
        assert isinstance(batched, list) and len(batched) == 2
        if client_factory.mode == "cloud":
            assert index.get_status()["indexStatus"] == "READY"

        doc = index.get_document("p1")
        assert doc["title"] == DOCS[0]["title"] and doc["price"] == 3.5 and doc["in_stock"] is True
        facets = index.get_document("p1", expose_facets=True)["_tensor_facets"]
        assert len(facets[0]["_embedding"]) == 384

        got = index.get_documents(["p2", "missing", "p3"])
        assert [r["_found"] for r in got["results"]] == [True, False, True]
        assert got["results"][0]["_id"] == "p2"

        # lexical with a filter, and pagination
        lex = index.search("green apple", search_method="LEXICAL", filter_string="category:bakery")
        assert [h["_id"] for h in lex["hits"]] == ["p6"]
        # a word finds its other forms (Vespa stems and drops accents in Marqo's lexical fields)
        forms = index.search("APPLE", search_method="LEXICAL")
        assert {h["_id"] for h in forms["hits"]} == {"p1", "p6"}
        assert [h["_id"] for h in index.search("chéeses", search_method="LEXICAL")["hits"]] == ["p4"]
        page1 = index.search("*", search_method="LEXICAL", limit=2, offset=0)
        page2 = index.search("*", search_method="LEXICAL", limit=2, offset=2)
        ids1 = [h["_id"] for h in page1["hits"]]
        ids2 = [h["_id"] for h in page2["hits"]]
        assert len(ids1) == 2 and len(ids2) == 2 and not set(ids1) & set(ids2)

        # tensor: lexically similar text ranks first; filters and highlights apply
        ten = index.search("green apples", limit=3)
        assert ten["hits"][0]["_id"] in ("p1", "p6")
        assert "title" in ten["hits"][0]["_highlights"][0]
        ten_f = index.search("green apples", filter_string="price:[0 TO 5] AND in_stock:true")
        assert {h["_id"] for h in ten_f["hits"]} <= {"p1", "p2", "p5"}
        assert ten_f["hits"][0]["_id"] == "p1"
        ten_p = index.search("green apples", limit=2, offset=1)
        assert len(ten_p["hits"]) == 2 and ten_p["offset"] == 1

        # hybrid (RRF)
        hyb = index.search("cheddar cheese", search_method="HYBRID", filter_string="category:(dairy)")
        assert hyb["hits"][0]["_id"] == "p4"
        assert all(h["category"] == "dairy" for h in hyb["hits"])

        upd = index.update_documents([{"_id": "p2", "price": 0.99}])
        assert upd["errors"] is False
        assert index.get_document("p2")["price"] == 0.99

        deleted = index.delete_documents(["p5", "p6"])
        assert deleted["details"]["deletedDocuments"] == 2
        assert index.get_stats()["numberOfDocuments"] == 4
        with pytest.raises(MarqoWebError) as e:
            index.get_document("p5")
        assert e.value.code == "document_not_found" and e.value.status_code == 404

        assert index.get_settings()["model"] == "hf/e5-small-v2"
        assert index.health()["status"] == "green"
    finally:
        client_factory().delete_index(name)

    # duplicate create → 409 index_already_exists
    name2 = unique_name("dup")
    mq = client_factory()
    mq.create_index(name2)
    try:
        with pytest.raises(MarqoWebError) as e:
            mq.create_index(name2)
        assert e.value.code == "index_already_exists" and e.value.status_code == 409
    finally:
        client_factory().delete_index(name2)


def test_structured_index_with_settings_dict(client_factory):
    name = unique_name("structured")
    mq = client_factory()
    mq.create_index(name, settings_dict={
        "type": "structured",
        "model": "hf/e5-small-v2",
        "allFields": [
            {"name": "title", "type": "text", "features": ["lexical_search"]},
            {"name": "brand", "type": "text", "features": ["filter"]},
            {"name": "price", "type": "float", "features": ["filter", "score_modifier"]},
        ],
        "tensorFields": ["title"],
    })
    try:
        index = client_factory().index(name)
        res = index.add_documents([
            {"_id": "1", "title": "green tea leaves", "brand": "Leaf", "price": 4.0},
            {"_id": "2", "title": "black tea bags", "brand": "Bold", "price": 2.0},
        ])
        assert res["errors"] is False, res
        hits = index.search("tea", filter_string="brand:Leaf")["hits"]
        assert [h["_id"] for h in hits] == ["1"]
        boosted = index.search("tea", search_method="LEXICAL", score_modifiers={
            "add_to_score": [{"field_name": "price", "weight": 10}]})["hits"]
        assert boosted[0]["_id"] == "1"
        assert index.get_settings()["allFields"][0]["name"] == "title"
    finally:
        client_factory().delete_index(name)


def cell_url(mq):
    return mq.config.instance_mapping.get_control_base_url().rstrip("/").removesuffix("/api")


def test_missing_index(client_factory):
    mq = client_factory()
    if client_factory.mode == "cloud":
        with pytest.raises(MarqoCloudIndexNotFoundError):
            mq.index("no-such-index-e2e").search("x")
    else:
        with pytest.raises(MarqoWebError) as e:
            mq.index("no-such-index-e2e").search("x")
        assert e.value.code == "index_not_found" and e.value.status_code == 404


def test_malformed_and_unknown_keys(cell):
    import requests

    h = {"x-api-key": cell.api_key}
    r = requests.post(f"{cell.url}/indexes/whatever/search", data=b"{not json", headers=h, timeout=10)
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
    r = requests.get(f"{cell.url}/indexes", headers={"x-api-key": "nope"}, timeout=10)
    assert r.status_code == 401 and "code" in r.json()


def _rejected(call):
    """Run a client call Marqo refuses; return the error (status, code, and the body as message)."""
    with pytest.raises(MarqoWebError) as e:
        call()
    return e.value


def test_strict_rejections_through_the_client(client_factory):
    """Issue 19: what Marqo's request models refuse, the client sees refused with Marqo's answer."""
    mq = client_factory()
    name = unique_name("strict")
    mq.create_index(name, model="hf/e5-small-v2")
    try:
        index = client_factory().index(name)
        index.add_documents(DOCS[:2], tensor_fields=["title"])
        # parameters only some search methods take
        e = _rejected(lambda: index.search("apples", language="en"))
        assert (e.status_code, e.code) == (422, "unprocessable_entity")
        assert e.message["detail"][0]["loc"] == ["body", "__root__"]
        assert e.message["detail"][0]["msg"].startswith("language parameter is not supported for TENSOR")
        e = _rejected(lambda: index.search("apples", search_method="LEXICAL", facets={"fields": {}}))
        assert e.message["detail"][0]["msg"] == (
            "Facets can only be provided for 'HYBRID' search. Search method is LEXICAL.")
        e = _rejected(lambda: index.search("apples", hybrid_parameters={"alpha": 0.5}))
        assert "Hybrid parameters can only be provided for 'HYBRID' search" in e.message["detail"][0]["msg"]
        # unknown keys and invalid pairs inside hybridParameters
        e = _rejected(lambda: index.search("apples", search_method="HYBRID", hybrid_parameters={"bogus": 1}))
        assert e.message["detail"][0] == {
            "loc": ["body", "hybridParameters", "bogus"],
            "msg": "extra fields not permitted", "type": "value_error.extra"}
        e = _rejected(lambda: index.search("apples", search_method="HYBRID",
                                           hybrid_parameters={"retrievalMethod": "tensor", "rankingMethod": "rrf"}))
        assert e.message["detail"][0]["msg"] == (
            "For retrievalMethod: tensor or lexical, rankingMethod must be: tensor or lexical")
        # wrong types and bounds
        e = _rejected(lambda: index.search("apples", search_method="FUZZY"))
        assert e.message["detail"][0]["type"] == "type_error.enum"
        e = _rejected(lambda: index.search("apples", limit=0))
        assert (e.status_code, e.code) == (400, "illegal_requested_doc_count")
        assert e.message["message"] == "result_count must be an integer greater than 0! Received 0"
        e = _rejected(lambda: index.search("apples", limit=1001))
        assert "MARQO_MAX_SEARCH_LIMIT limit of [1000]" in e.message["message"]
        # documents Marqo's add-documents handler refuses one by one, in its words
        r = index.add_documents([{"_id": 5, "title": "x"}, {}], tensor_fields=["title"])
        assert r["errors"] is True
        assert [(i["_id"], i["code"], i["message"]) for i in r["items"]] == [
            ("", "invalid_document_id", "Document _id must be a string type! Received _id 5 of type `int`"),
            ("", "invalid_argument", "Can't index an empty dict.")]
        # SearchContext and ModelAuth raise Marqo's 400s from inside the body model
        e = _rejected(lambda: index.search("apples", context={"tensor": [{"vector": [1.0]}]}))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert json.loads(e.message["message"]) == [
            {"loc": ["tensor", 0, "weight"], "msg": "field required", "type": "value_error.missing"}]
        e = _rejected(lambda: index.search("apples", model_auth={}))
        assert e.message["message"].startswith("Missing authentication object.")
        # a malformed score modifier: Marqo's ScoreModifierLists raises its InvalidArgError (400)
        e = _rejected(lambda: index.search("apples", score_modifiers={"multiply_score_by": []}))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert e.message["message"].startswith(
            "Error validating score_modifiers = `{}`. Reason: \nAt least one ScoreModifierOperator "
            "is required in multiply_score_by Please revise your score_modifiers")
        # embed and recommend bodies are models too
        e = _rejected(lambda: index.embed("apples", content_type="passage"))
        assert (e.status_code, e.message["detail"][0]["loc"]) == (422, ["body", "content_type"])
        e = _rejected(lambda: index.embed([]))
        assert e.message["detail"][0]["msg"] == "Embed content list should not be empty"
        assert len(index.embed("apples", content_type="document")["embeddings"]) == 1
        assert index.recommend(["p1"], limit=1)["hits"][0]["_id"] == "p2"
        # an unknown index setting
        e = _rejected(lambda: mq.create_index(unique_name("strict-bad"), settings_dict={
            "model": "hf/e5-small-v2", "bogus": 1}))
        assert (e.status_code, e.message["detail"][0]["loc"]) == (422, ["body", "bogus"])
        # what Marqo accepts still works: HYBRID with its own parameters, LEXICAL with language
        hits = index.search("apples", search_method="HYBRID", facets={"fields": {}},
                            hybrid_parameters={"retrievalMethod": "lexical", "rankingMethod": "tensor"})["hits"]
        assert hits and hits[0]["_id"] == "p1"
        assert index.search("apples", search_method="LEXICAL", language="en")["hits"][0]["_id"] == "p1"
        # a semi-structured index takes at most 100 string fields: the whole add is refused
        wide = {"_id": "wide", **{f"attr_{i:03}": "x" for i in range(100)}}
        e = _rejected(lambda: index.add_documents([wide], tensor_fields=[]))
        assert (e.status_code, e.code) == (400, "bad_request")
        assert e.message["message"].startswith(
            f"Index {name} has 100 lexical fields. Your request to add attr_098 as a lexical field "
            "is rejected since it exceeds the limit of 100.")
    finally:
        client_factory().delete_index(name)


def test_telemetry_and_system_routes(client_factory, cell):
    """Issue 19: `return_telemetry=True` gets Marqo's telemetry object; devices, models, version."""
    mq = client_factory()
    name = unique_name("telemetry")
    mq.create_index(name, model="hf/e5-small-v2")
    try:
        timed = marqo.Client(url=cell.url, api_key=cell.api_key, return_telemetry=True)
        res = timed.index(name).search("apples")
        times = res["telemetry"]["timesMs"]
        # Marqo's timers, in the order Marqo records them
        assert list(times) == [
            "search.vector_inference_full_pipeline",
            "search.vector.processing_before_vespa",
            "search.vector.vespa",
            "search.vector.postprocess",
            f"POST /indexes/{name}/search",
        ]
        assert all(isinstance(ms, float) for ms in times.values())
        assert "telemetry" not in client_factory().index(name).search("apples")
        index = client_factory().index(name)
        assert index.get_marqo()["version"] == "2.23.1"
        assert index.health()["status"] == "green"
        assert index.get_cpu_info()["cpu_usage_percent"].endswith(" %")
        with pytest.raises(MarqoWebError) as e:
            index.get_cuda_info()
        assert (e.value.status_code, e.value.code) == (400, "hardware_compatability_error")
        assert {"model_name": "hf/e5-small-v2", "model_device": "cpu"} in index.get_loaded_models()["models"]
        # py-marqo sends only model_name; the cell takes the device as cpu
        assert index.eject_model("hf/e5-small-v2")["result"] == "success"
        # ejected: not listed, not ejectable, until a search embeds with it again
        loaded = lambda: [m["model_name"] for m in index.get_loaded_models()["models"]]
        assert "hf/e5-small-v2" not in loaded()
        with pytest.raises(MarqoWebError) as e:
            index.eject_model("hf/e5-small-v2")
        assert e.value.code == "model_not_in_cache"
        index.search("apples")
        assert "hf/e5-small-v2" in loaded()
        with pytest.raises(MarqoWebError) as e:
            index.eject_model("no/such-model")
        assert (e.value.status_code, e.value.code) == (404, "model_not_in_cache")
    finally:
        client_factory().delete_index(name)


def test_bulk_search_as_marqo_2(client_factory):
    """Marqo 2.x has no bulk route (removed in 2.0): `/indexes/bulk/search` is the search route for
    an index named `bulk`, whose body model refuses py-marqo's `queries` before any index lookup."""
    mq = client_factory()
    name = unique_name("bulk")
    mq.create_index(name, model="hf/e5-small-v2")
    try:
        client_factory().index(name).add_documents(DOCS[:2], tensor_fields=["title"])
        e = _rejected(lambda: client_factory().bulk_search([{"index": name, "q": "apples", "limit": 1}]))
        assert (e.status_code, e.code) == (422, "unprocessable_entity")
        assert e.message["detail"][0] == {
            "loc": ["body", "queries"], "msg": "extra fields not permitted", "type": "value_error.extra"}
    finally:
        client_factory().delete_index(name)


DIM = 384  # hf/e5-small-v2


def _unit(i):
    v = [0.0] * DIM
    v[i] = 1.0
    return v


def test_custom_and_context_vectors(client_factory):
    """Issue 19: `custom_vector` mappings (content + vector), `context` vectors in TENSOR and
    HYBRID, `customVector` queries and `q` as a weighted dict, as py-marqo sends them."""
    mq = client_factory()
    name = unique_name("vectors")
    mq.create_index(name, model="hf/e5-small-v2")
    try:
        index = client_factory().index(name)
        res = index.add_documents([
            {"_id": "v1", "title": "plain apples", "vec": {"content": "orchard fruit", "vector": _unit(0)}},
            {"_id": "v2", "title": "ripe bananas", "vec": {"content": "tropical fruit", "vector": _unit(1)}},
        ], tensor_fields=["title", "vec"], mappings={"vec": {"type": "custom_vector"}})
        assert res["errors"] is False, res
        # Marqo keeps a custom vector field's content as its value; the vector is a tensor facet
        assert index.get_document("v1")["vec"] == "orchard fruit"
        facets = index.get_document("v2", expose_facets=True)["_tensor_facets"]
        vec_facet = next(f for f in facets if "vec" in f)
        assert vec_facet["vec"] == "tropical fruit" and vec_facet["_embedding"][1] > 0.99
        # content is lexically searchable
        assert index.search("tropical", search_method="LEXICAL")["hits"][0]["_id"] == "v2"
        # context vectors alone, and added to a query
        hits = index.search(context={"tensor": [{"vector": _unit(1), "weight": 1}]})["hits"]
        assert hits[0]["_id"] == "v2" and hits[0]["vec"] == "tropical fruit"
        hits = index.search({"plain apples": 0.1}, context={"tensor": [{"vector": _unit(1), "weight": 2}]})["hits"]
        assert hits[0]["_id"] == "v2"
        # context needs a weighted q or none at all (Marqo's get_query_vectors_from_jobs)
        e = _rejected(lambda: index.search("apples", search_method="HYBRID",
                                           context={"tensor": [{"vector": _unit(0), "weight": 1}]}))
        assert e.message["message"].startswith("Cannot use 'context' for a search with a string 'q'")
        hits = index.search(search_method="HYBRID",
                            hybrid_parameters={"retrievalMethod": "tensor", "rankingMethod": "tensor"},
                            context={"tensor": [{"vector": _unit(0), "weight": 1}]})["hits"]
        assert hits[0]["_id"] == "v1"
        # context documents: their vectors join the query's, and they are left out of the hits
        hits = index.search({"fruit": 1}, context={"documents": {"ids": {"v2": 1}}})["hits"]
        assert "v2" not in [h["_id"] for h in hits]
        hits = index.search({"customVector": {"content": "x", "vector": _unit(1)}})["hits"]
        assert hits[0]["_id"] == "v2"
        # a weighted dict is TENSOR-only (validation.validate_query)
        assert index.search({"ripe bananas": 1.0, "apples": -0.3})["hits"][0]["_id"] == "v2"
        e = _rejected(lambda: index.search({"apples": 1.0}, search_method="HYBRID"))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert e.message["message"].startswith(
            'Multi-query search is currently only supported for search_method="TENSOR" '
            "\nReceived search_method `HYBRID`.")
        # wrong dimensions: Marqo's messages
        e = _rejected(lambda: index.search(context={"tensor": [{"vector": [1.0, 2.0], "weight": 1}]}))
        assert e.message["message"].endswith("Expected dimension 384 but got 2")
        e = _rejected(lambda: index.add_documents(
            [{"_id": "bad", "vec": {"content": "c", "vector": [1.0]}}],
            tensor_fields=["vec"], mappings={"vec": {"type": "custom_vector"}}))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert "Custom vector must have dimension of 384, but given vector is of length 1" in e.message["message"]
    finally:
        client_factory().delete_index(name)


def test_recommend_and_embed_parameters(client_factory):
    """Issue 19: recommend and embed with every parameter py-marqo 3.18 passes."""
    mq = client_factory()
    name = unique_name("recembed")
    mq.create_index(name, model="hf/e5-small-v2")
    try:
        index = client_factory().index(name)
        index.add_documents(DOCS, tensor_fields=["title"])
        res = index.recommend(
            ["p1"], tensor_fields=["title"], interpolation_method="slerp", exclude_input_documents=True,
            searchable_attributes=["title"], limit=2, offset=0, filter_string="category:(bakery)",
            show_highlights=False, attributes_to_retrieve=["title"], ef_search=100, approximate=True,
            allow_missing_documents=False, allow_missing_embeddings=False)
        assert [h["_id"] for h in res["hits"]] == ["p6", "p5"], res
        assert set(res["hits"][0]) == {"_id", "title", "_score"}
        assert (res["query"], res["limit"], res["offset"]) == (None, 2, 0)
        res = index.recommend({"p1": 1.0, "p2": 0.5}, interpolation_method="lerp", limit=3)
        assert "p1" not in [h["_id"] for h in res["hits"]] and len(res["hits"]) == 3
        res = index.recommend(["p1", "nope"], allow_missing_documents=True, exclude_input_documents=False)
        assert res["hits"][0]["_id"] == "p1"
        e = _rejected(lambda: index.recommend(["nope"]))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert e.message["message"] == "The following document IDs were not found: nope"
        res = index.embed(["apples", {"green apples": 1.0, "pie": 0.5}], content_type=None,
                          image_download_headers={}, media_download_headers={}, model_auth=None)
        assert res["content"] == ["apples", {"green apples": 1.0, "pie": 0.5}]
        assert [len(v) for v in res["embeddings"]] == [DIM, DIM]
        query = index.embed("apples")["embeddings"][0]
        assert index.embed("apples", content_type="query")["embeddings"][0] == query
        assert len(index.embed("apples", content_type="document")["embeddings"][0]) == DIM
    finally:
        client_factory().delete_index(name)


def test_interpolation_and_cutoff_through_the_client(client_factory):
    """Issue 19 (also HYBRID's queryLexical/queryTensor and trackTotalHits=False):
    `interpolation_method` combines context vectors as Marqo's vector_interpolation.py
    does, recommend interpolates document vectors, and `overrideSortCandidatesWithRelevantCandidates`
    trims the fused hits before `sort_by`. Expected scores are Vespa's prenormalized-angular
    closeness 1 / (1 + (1 - q.d)) for q from context [e0 weight 1, e1 weight 3]:
    lerp (0.25, 0.75) -> 0.8; nlerp (0.3162, 0.9487) -> 0.9511897; slerp (sin pi/8, sin 3pi/8)
    -> 0.9292648."""
    mq = client_factory()
    name = unique_name("interp")
    mq.create_index(name, model="hf/e5-small-v2")
    try:
        index = client_factory().index(name)
        res = index.add_documents([
            {"_id": "a", "vec": {"content": "first", "vector": _unit(0)}},
            {"_id": "b", "vec": {"content": "second", "vector": _unit(1)}},
        ], tensor_fields=["vec"], mappings={"vec": {"type": "custom_vector"}})
        assert res["errors"] is False, res
        ctx = {"tensor": [{"vector": _unit(0), "weight": 1}, {"vector": _unit(1), "weight": 3}]}
        for method, want in (("lerp", 0.8), ("nlerp", 0.9511897), (None, 0.9511897), ("slerp", 0.9292648)):
            hits = index.search(context=ctx, interpolation_method=method, approximate=False)["hits"]
            assert hits[0]["_id"] == "b" and abs(hits[0]["_score"] - want) < 1e-5, (method, hits)
        res = index.recommend({"a": 1.0, "b": 3.0}, exclude_input_documents=False)
        assert abs(res["hits"][0]["_score"] - 0.9292648) < 1e-5, res
        # weights are scaled by the sum of their absolute values: only all-zero weights fail
        assert index.search({"first": 1.0, "second": -1.0})["hits"]
        e = _rejected(lambda: index.search({"first": 0.0, "second": 0.0}))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert e.message["message"] == (
            "All weights are zero. LERP cannot interpolate vectors with all zero weights.")
        e = _rejected(lambda: index.search({"first": 0.0, "second": 0.0}, interpolation_method="slerp"))
        assert e.message["message"] == (
            "All weights are zero. SLERP cannot interpolate vectors with all zero weights.")
        e = _rejected(lambda: index.recommend({"a": 0.0}))
        assert e.message["message"] == "No documents with non-zero weight provided"
    finally:
        client_factory().delete_index(name)
    # relevance cutoff: the lexical probe finds a and b relevant; each leg retrieves 2 hits
    # (lexical a, b; tensor c, d); sort_by sorts all four unless the override trims to the 2 relevant.
    name = unique_name("override")
    mq.create_index(name, model="hf/e5-small-v2")
    try:
        index = client_factory().index(name)
        assert index.add_documents([
            {"_id": "a", "t": "alpha beta gamma", "u": "zzz one", "price": 40},
            {"_id": "b", "t": "alpha beta gamma", "u": "zzz two", "price": 30},
            {"_id": "c", "t": "alpha words", "u": "alpha beta gamma", "price": 10},
            {"_id": "d", "t": "alpha other", "u": "alpha beta gamma delta", "price": 20},
            {"_id": "e", "t": "alpha more", "u": "unrelated", "price": 5},
        ], tensor_fields=["u"])["errors"] is False

        def ranked(override):
            return [h["_id"] for h in index.search(
                "alpha beta gamma", search_method="HYBRID",
                hybrid_parameters={"alpha": 0.4, "searchableAttributesLexical": ["t"],
                                   "searchableAttributesTensor": ["u"]},
                relevance_cutoff={"method": "gap_detection",
                                  "overrideSortCandidatesWithRelevantCandidates": override},
                sort_by={"fields": [{"fieldName": "price", "order": "asc"}]})["hits"]]

        assert ranked(False) == ["c", "d", "b", "a"]
        assert ranked(True) == ["b", "a"]
        # hybridParameters.queryLexical / queryTensor instead of q: each leg searches its own
        # query (c is the only lexical match of "words", e the nearest to "unrelated")
        hits = index.search(search_method="HYBRID", hybrid_parameters={
            "queryLexical": "words", "queryTensor": "unrelated",
            "searchableAttributesLexical": ["t"], "searchableAttributesTensor": ["u"]})["hits"]
        assert [h["_id"] for h in hits[:2]] == ["c", "e"]
        e = _rejected(lambda: index.search(search_method="HYBRID", hybrid_parameters={"queryTensor": "x"}))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert e.message["message"].startswith("Either 'hybridParameters.queryLexical' or just 'q'")
        # trackTotalHits false: 0 without facets, the count when the facet queries run
        lexical = {"retrievalMethod": "lexical", "rankingMethod": "lexical"}
        res = index.search("alpha", search_method="HYBRID", hybrid_parameters=lexical, track_total_hits=False)
        assert res["totalHits"] == 0
        res = index.search("alpha", search_method="HYBRID", hybrid_parameters=lexical, track_total_hits=False,
                           facets={"fields": {"price": {"type": "number"}}})
        assert res["totalHits"] == 5 and res["facets"]["price"]["count"] == 5
    finally:
        client_factory().delete_index(name)


SHIRTS = [
    {"_id": f"s{i}", "title": f"shirt number {i}", "color": c, "group": f"g{i // 3}",
     "tags": [f"c:{c}", "all"], **({"price": 10.0 * i + 1.5} if i != 9 else {})}
    for i, c in enumerate(["red", "green", "green", "red", "blue", "green", "gray", "red", "blue", "green"])
]


def test_search_parameters_through_the_client(client_factory):
    """Issue 19: Marqo 2.23's HYBRID-only parameters, sent by py-marqo's own keyword arguments."""
    mq = client_factory()
    name = unique_name("params")
    mq.create_index(name, settings_dict={"model": "hf/e5-small-v2", "collapseFields": [{"name": "group"}]})
    try:
        index = client_factory().index(name)
        assert index.add_documents(SHIRTS, tensor_fields=["title"])["errors"] is False
        lexical = {"retrievalMethod": "lexical", "rankingMethod": "lexical"}

        def hybrid(**kw):
            kw.setdefault("hybrid_parameters", lexical)
            return index.search("shirt", search_method="HYBRID", **kw)

        res = hybrid(track_total_hits=True, facets={"fields": {
            "color": {"type": "string"}, "tags": {"type": "array"},
            "price": {"type": "number", "ranges": [{"to": 50}, {"from": 50, "name": "high"}]}}})
        assert res["totalHits"] == 10
        assert res["facets"]["color"] == {"green": {"count": 4}, "red": {"count": 3},
                                          "blue": {"count": 2}, "gray": {"count": 1}}
        assert res["facets"]["tags"]["all"] == {"count": 10}
        assert res["facets"]["price"]["-Inf:50.0"]["count"] == 5
        assert res["facets"]["price"]["high"] == {"min": 51.5, "max": 81.5, "avg": 66.5, "count": 4, "sum": 266.0}
        assert "totalHits" not in hybrid()
        # sortBy: numeric order, missing values last, scores by position
        res = hybrid(sort_by={"fields": [{"fieldName": "price", "order": "desc"}], "minSortCandidates": 10})
        assert [h["_id"] for h in res["hits"]] == [f"s{i}" for i in (8, 7, 6, 5, 4, 3, 2, 1, 0, 9)]
        assert res["hits"][0]["_score"] == 1.0 and abs(res["hits"][1]["_score"] - 0.5) < 1e-6
        # relevanceCutoff: only the documents well above the rest
        res = index.search("shirt number 3", search_method="HYBRID", hybrid_parameters=lexical,
                           relevance_cutoff={"method": "gap_detection"})
        assert [h["_id"] for h in res["hits"]] == ["s3"]
        # collapseFields: one hit per group
        res = hybrid(collapse_fields=[{"name": "group"}])
        assert sorted(h["group"] for h in res["hits"]) == ["g0", "g1", "g2", "g3"]
        # rerankDepth: global score modifiers rescore only the first hits of RRF
        mods = {"add_to_score": [{"field_name": "price", "weight": 1.0}]}
        rrf = {"alpha": 0.0}
        plain = [h["_id"] for h in hybrid(hybrid_parameters=rrf)["hits"]]
        boosted = [h["_id"] for h in hybrid(hybrid_parameters=rrf, score_modifiers=mods)["hits"]]
        assert boosted[0] == "s8"
        assert [h["_id"] for h in hybrid(hybrid_parameters=rrf, score_modifiers=mods, rerank_depth=0)["hits"]] == plain
        # the other ranking methods run
        for params in ({"retrievalMethod": "tensor", "rankingMethod": "lexical"},
                       {"retrievalMethod": "lexical", "rankingMethod": "tensor"},
                       {"retrievalMethod": "disjunction", "rankingMethod": "rrf", "rrfK": 10}):
            assert hybrid(hybrid_parameters=params)["hits"]
        # textQueryPrefix is part of what is embedded; without one, the model's default
        # ("query: " for hf/e5-small-v2 in Marqo's registry) is
        a = index.search("query: number 3", text_query_prefix="", limit=1)["hits"][0]
        b = index.search("number 3", text_query_prefix="query: ", limit=1)["hits"][0]
        c = index.search("number 3", limit=1)["hits"][0]
        assert a["_id"] == b["_id"] == c["_id"]
        assert abs(a["_score"] - b["_score"]) < 1e-5 and abs(b["_score"] - c["_score"]) < 1e-5
        d = index.search("number 3", text_query_prefix="", limit=1)["hits"][0]
        assert abs(d["_score"] - c["_score"]) > 1e-3
        # what Marqo refuses
        e = _rejected(lambda: hybrid(facets={"fields": {"price": {"type": "number", "ranges": [
            {"from": 0, "to": 60}, {"from": 50, "to": 100}]}}}))
        assert (e.status_code, e.message["detail"][0]["msg"]) == (422, "Range configurations must not overlap")
        e = _rejected(lambda: hybrid(relevance_cutoff={"method": "relative_max_score"}))
        assert e.message["detail"][0]["loc"] == ["body", "relevanceCutoff", "__root__"]
        e = _rejected(lambda: hybrid(sort_by={"fields": []}))
        assert e.message["detail"][0]["type"] == "value_error.list.min_items"
        e = _rejected(lambda: index.search("shirt", search_method="HYBRID", rerank_depth=2,
                                           hybrid_parameters={"retrievalMethod": "tensor", "rankingMethod": "tensor"}))
        assert "'RRF' rankingMethod" in e.message["detail"][0]["msg"]
        e = _rejected(lambda: hybrid(hybrid_parameters={"rankingMethod": "normalize_linear"}))
        assert e.message["detail"][0]["type"] == "type_error.enum"
        e = _rejected(lambda: hybrid(facets={"fields": {"color": {"type": "string", "excludeTerms": ["color:red"]}}}))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert e.message == {"message": "Exclude terms can only be used when a filter string is provided",
                             "code": "invalid_argument", "type": "invalid_request", "link": None}
    finally:
        client_factory().delete_index(name)


def test_index_settings_as_marqo(client_factory):
    """Issue 19: what py-marqo's create_index sends comes back from get_settings with Marqo's
    defaults, and IndexSettings' refusals reach the client as Marqo's answers."""
    mq = client_factory()
    name = unique_name("settings")
    mq.create_index(name, settings_dict={
        "type": "structured", "model": "hf/e5-small-v2",
        "allFields": [{"name": "title", "type": "text", "features": ["lexical_search"]},
                      {"name": "price", "type": "float", "features": ["score_modifier", "filter"]}],
        "tensorFields": ["title"],
        "annParameters": {"spaceType": "euclidean", "parameters": {"efConstruction": 128, "m": 8}}})
    try:
        s = client_factory().index(name).get_settings()
        assert s["allFields"] == [{"name": "title", "type": "text", "features": ["lexical_search"]},
                                  {"name": "price", "type": "float", "features": ["score_modifier", "filter"]}]
        assert s["textPreprocessing"] == {"splitLength": 2, "splitOverlap": 0, "splitMethod": "sentence"}
        assert s["annParameters"] == {"spaceType": "euclidean", "parameters": {"efConstruction": 128, "m": 8}}
        assert s["vectorNumericType"] == "float" and s["imagePreprocessing"] == {}
        assert "filterStringMaxLength" not in s
        e = _rejected(lambda: mq.create_index(unique_name("bad"), settings_dict={
            "textPreprocessing": {"splitLength": 3}}))
        assert (e.status_code, e.message["detail"][0]["loc"]) == (422, ["body", "textPreprocessing", "splitOverlap"])
        e = _rejected(lambda: mq.create_index(unique_name("bad"), settings_dict={
            "type": "structured", "allFields": [{"name": "p", "type": "float", "features": ["lexical_search"]}],
            "tensorFields": []}))
        assert e.message["detail"][0]["msg"] == "p: Field with lexical_search feature must be of type text or array<text>"
        e = _rejected(lambda: mq.create_index(unique_name("bad"), settings_dict={
            "type": "structured", "allFields": [{"name": "t", "type": "text"}], "tensorFields": ["q"]}))
        assert (e.status_code, e.code, e.message["link"]) == (400, "invalid_argument", "")
        assert "Tensor field 'q' is not a defined field" in e.message["message"]
    finally:
        client_factory().delete_index(name)


def test_what_marqos_api_suite_asserts(client_factory):
    """What Marqo's own API tests (marqo-ai/marqo-api-tests) assert through py-marqo: registry
    models, a structured index's typed values and partial updates in Marqo's words."""
    mq = client_factory()
    name = unique_name("apisuite")
    mq.create_index(name, settings_dict={
        "type": "structured", "model": "sentence-transformers/all-MiniLM-L6-v2",
        "allFields": [{"name": "title", "type": "text", "features": ["lexical_search"]},
                      {"name": "f", "type": "float", "features": ["filter"]},
                      {"name": "n", "type": "long"},
                      {"name": "v", "type": "custom_vector", "features": ["lexical_search", "filter"]}],
        "tensorFields": ["title", "v"]})
    try:
        index = client_factory().index(name)
        res = index.add_documents([
            {"_id": "1", "title": "a", "f": 1e-50, "v": {"content": "vector text", "vector": [1.0] * 384}},
            {"_id": "2", "n": "7"},
        ])
        assert res["errors"] is True and res["items"][0]["status"] == 200
        assert res["items"][1]["error"] == (
            "Invalid value 7 for field n with Marqo type long. "
            "Expected a value of type <class 'int'>, but found <class 'str'>")
        assert index.get_document("1")["f"] == 0  # a Vespa float is 32 bits
        assert index.search("", filter_string="v:(vector text)")["hits"][0]["_id"] == "1"
        upd = index.update_documents([{"title": "x"}, {"_id": "1", "title": "b"}])
        assert [i.get("error") for i in upd["items"]] == [
            "'_id' is a required field but it does not exist",
            "You cannot modify 'title' field as this is a tensor field"]
        e = _rejected(lambda: index.search("a", filter_string="n:(3)"))
        assert e.message["message"].startswith(f"Index '{name}' has no filterable field 'n'.")
        e = _rejected(lambda: mq.create_index(unique_name("bad"), model="hf/no-such-model"))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert e.message["message"].startswith("Could not find model properties for model=hf/no-such-model.")
    finally:
        client_factory().delete_index(name)


PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0"


@pytest.fixture(scope="module")
def image_server():
    """A local image server on a free port: /cat.png is a PNG, anything else a 404."""
    import http.server
    import threading

    class Images(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.path == "/cat.png"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "image/png" if ok else "text/plain")
            self.end_headers()
            self.wfile.write(PNG if ok else b"not found")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Images)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_images_are_downloaded_as_marqo_downloads_them(client_factory, image_server):
    """A CLIP index downloads its documents' and queries' images: a missing one fails its
    document (the others are written) and a search by it, in Marqo's words."""
    mq = client_factory()
    name = unique_name("images")
    mq.create_index(name, model="open_clip/ViT-B-32/laion2b_s34b_b79k", treat_urls_and_pointers_as_images=True)
    try:
        index = client_factory().index(name)
        good, missing = f"{image_server}/cat.png", f"{image_server}/gone.png"
        res = index.add_documents([{"_id": "1", "img": good}, {"_id": "2", "img": missing}],
                                  tensor_fields=["img"])
        assert res["errors"] is True
        assert [i["status"] for i in res["items"]] == [200, 400]
        assert res["items"][1]["error"] == (
            f"Could not process the media file found at `{missing}`. "
            f"Reason: media url `{missing}` returned 404")
        assert index.search(good)["hits"][0]["_id"] == "1"
        e = _rejected(lambda: index.search(missing))
        assert (e.status_code, e.code) == (400, "invalid_argument")
        assert e.message["message"].startswith(f"Error vectorising content: ['{missing}']. ")
    finally:
        client_factory().delete_index(name)


def test_typeahead_as_marqo_api_tests_drive_it(client_factory, cell):
    """Marqo's typeahead routes over raw HTTP, as marqo-api-tests drive them (py-marqo has no
    typeahead methods yet): index queries, count, get, suggest, delete."""
    import requests

    mq = client_factory()
    name = unique_name("typeahead")
    mq.create_index(name)
    try:
        h = {"x-api-key": cell.api_key, "Content-Type": "application/json"}
        base = f"{cell.url}/indexes/{name}/suggestions"
        r = requests.post(f"{base}/queries", headers=h, timeout=10, data=json.dumps({"queries": [
            {"query": "machine learning algorithms", "popularity": 10.0},
            {"query": "machine learning basics", "popularity": 8.0},
            {"query": "artificial intelligence", "popularity": 9.0, "metadata": {"hit_count": 500}},
        ]}))
        assert r.status_code == 200 and r.json()["indexed"] == 3
        assert requests.get(f"{base}/stats", headers=h, timeout=10).json() == {"indexedQueries": 3}
        got = requests.get(f"{base}/queries", headers=h, timeout=10,
                           data=json.dumps(["artificial intelligence"])).json()["queries"]
        assert got[0]["metadata"] == {"hit_count": 500}
        r = requests.post(base, headers=h, timeout=10, data=json.dumps({"q": "machine", "limit": 5}))
        assert [s["suggestion"] for s in r.json()["suggestions"]] == [
            "machine learning algorithms", "machine learning basics"]
        r = requests.post(base, headers=h, timeout=10, data=json.dumps({"q": "", "limit": 2}))
        assert [s["suggestion"] for s in r.json()["suggestions"]] == [
            "machine learning algorithms", "artificial intelligence"]
        assert requests.post(base, headers=h, timeout=10, data=json.dumps({"limit": 2})).status_code == 422
        r = requests.delete(f"{base}/queries", headers=h, timeout=10, data=json.dumps(["machine learning basics"]))
        assert r.json() == "Queries deleted successfully"
        assert requests.get(f"{base}/stats", headers=h, timeout=10).json() == {"indexedQueries": 2}
    finally:
        client_factory().delete_index(name)
