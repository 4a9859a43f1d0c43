"""Record how Marqo's own request models answer request bodies, into fake-cell/tests/data/.

fake-cell's tests (`it::model_answers`, `it::score_modifiers`, the unit test of `q`'s union)
compare fake-cell with these answers. This script re-records them from a Marqo checkout, for
example after moving the emulated version:

    python3 -m venv /tmp/rec && /tmp/rec/bin/pip install pydantic==1.10.11 numpy requests semver
    /tmp/rec/bin/python fake-cell/tests/recorder/record.py MARQO_CHECKOUT/src fake-cell/tests/data

pydantic 1.10.11 is Marqo's pin. The script copies Marqo's model files from the checkout into a
temporary package. Stubs stand in for what those files import but the models never need: the
model registry, logging, the embedding code and the environment. It imports the models, runs
each body through the model, and writes the answer that FastAPI and Marqo's exception handlers
would give:
- 422 with the items;
- 400 with the message of an `InvalidArgError` that a validator raised;
- 400 with `json.dumps` of a `ValidationError` raised past the body model;
- 200 when the model takes the body.

Nothing of Marqo is kept: the package lives in a temporary directory. Marqo runs Python 3.9,
where a `str` enum prints as its value, so "SearchMethod.TENSOR" is written as "TENSOR". The
cases are this project's own.
"""

import json
import shutil
import sys
import tempfile
from enum import Enum
from pathlib import Path

DOCS_VERSION = "2.23"  # the version fake-cell emulates; Marqo builds its docs links from it

COPIED = [
    "base_model.py", "exceptions.py", "version.py", "marqo_docs.py", "case_insensitive_enum.py",
    "api/exceptions.py", "api/models/add_docs_objects.py", "api/models/update_documents.py",
    "api/models/recommend_query.py", "api/models/embed_request.py",
    "core/constants.py", "core/exceptions.py", "core/models/marqo_index.py",
    "core/models/marqo_index_request.py", "core/models/hybrid_parameters.py",
    "core/models/interpolation_method.py", "core/models/add_docs_params.py",
    "core/models/score_modifier.py",
    "tensor_search/enums.py", "tensor_search/models/api_models.py",
    "tensor_search/models/search.py", "tensor_search/models/private_models.py",
    "tensor_search/models/score_modifiers_object.py", "tensor_search/models/index_settings.py",
    "tensor_search/models/external_apis/abstract_classes.py",
    "tensor_search/models/external_apis/s3.py", "tensor_search/models/external_apis/hf.py",
]

STUBS = {
    "logging.py": "import logging\ndef get_logger(name):\n    return logging.getLogger(name)\n",
    "s2_inference/errors.py": (
        "class UnknownModelError(Exception):\n    pass\n"
        "class InvalidModelPropertiesError(Exception):\n    pass\n"
    ),
    # Only the models the cases name; others are unknown, as a typo would be.
    "s2_inference/s2_inference.py": (
        "from marqo.s2_inference.errors import UnknownModelError\n"
        "DIMS = {'hf/e5-base-v2': 768, 'hf/e5-small-v2': 384}\n"
        "def get_model_properties_from_registry(name):\n"
        "    if name in DIMS:\n"
        "        return {'name': name, 'dimensions': DIMS[name], 'type': 'hf'}\n"
        "    raise UnknownModelError(name)\n"
        "def validate_model_properties(name, props):\n    return props\n"
    ),
    # Marqo's defaults (api/configs.py) for the variables these models read.
    "tensor_search/utils.py": (
        "DEFAULTS = {'MARQO_IMAGE_DOWNLOAD_THREAD_COUNT_PER_REQUEST': 20,\n"
        "            'MARQO_MEDIA_DOWNLOAD_THREAD_COUNT_PER_REQUEST': 5,\n"
        "            'MARQO_MAX_DOCUMENTS_BATCH_SIZE': 128}\n"
        "def read_env_vars_and_defaults_ints(var):\n"
        "    return DEFAULTS[getattr(var, 'value', var)]\n"
        "def get_best_available_device():\n    return 'cpu'\n"
    ),
    "core/embed/embed.py": (
        "from enum import Enum\n"
        "class EmbedContentType(str, Enum):\n    Query = 'query'\n    Document = 'document'\n"
    ),
}


def build_package(src: Path, into: Path) -> None:
    """Marqo's model files, and the stubs, as an importable `marqo` package under `into`."""
    for rel in COPIED:
        target = into / "marqo" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / "marqo" / rel, target)
    for rel, text in STUBS.items():
        target = into / "marqo" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    # `validation` drags in the whole engine; the models use one function of it.
    validation = (src / "marqo/tensor_search/validation.py").read_text()
    start = validation.index("def validate_str_against_enum")
    end = validation.index("\ndef ", start + 1)
    (into / "marqo/tensor_search/validation.py").write_text(
        "from enum import Enum\nfrom typing import Any, Type\n\n" + validation[start:end] + "\n")
    version = into / "marqo/version.py"
    version.write_text(f'__version__ = "{DOCS_VERSION}.1"\ndef get_version():\n    return __version__\n')
    for d in (into / "marqo").rglob("*"):
        if d.is_dir():
            (d / "__init__.py").touch()
    (into / "marqo/__init__.py").touch()


def enum_values(o):
    return o.value if isinstance(o, Enum) else str(o)


def items(error, prefix):
    """pydantic's error items as FastAPI's handler answers them (`ctx` passed on)."""
    out = []
    for e in error.errors():
        item = {"loc": prefix + list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        if "ctx" in e:
            item["ctx"] = json.loads(json.dumps(e["ctx"], default=enum_values))
        out.append(item)
    return out


def answer(make, body, then=None):
    """Marqo's answer for `body`: the model `make(**body)`, then `then(model)` if given."""
    from pydantic import ValidationError
    import marqo.api.exceptions as api
    import marqo.exceptions as base
    try:
        model = make(**body)
    except ValidationError as e:
        return {"status": 422, "detail": items(e, ["body"])}
    except api.MarqoWebError as e:
        return {"status": int(e.status_code), "code": e.code, "message": e.message}
    if then is None:
        return {"status": 200}
    try:
        then(model)
    except ValidationError as e:
        # Marqo's handler for a ValidationError past the body model: an InvalidArgError.
        return {"status": 400, "code": "invalid_argument", "message": json.dumps(items(e, []))}
    except api.MarqoWebError as e:
        return {"status": int(e.status_code), "code": e.code, "message": e.message}
    except base.InvalidArgumentError as e:
        return {"status": 400, "code": "invalid_argument", "message": e.message}
    return {"status": 200}


def py39(answer):
    """Enum members as Marqo's Python 3.9 formats them in f-strings: their values."""
    return json.loads(json.dumps(answer).replace("SearchMethod.", ""))


def write(out: Path, name: str, source: str, cases):
    with open(out / name, "w") as f:
        json.dump({"source": source, "cases": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main(src: Path, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="marqo-models-"))
    try:
        build_package(src, tmp)
        sys.path.insert(0, str(tmp))
        import cases
        from marqo.tensor_search.models.api_models import SearchQuery
        from marqo.tensor_search.models.score_modifiers_object import ScoreModifierLists
        from marqo.tensor_search.models.index_settings import IndexSettings
        from marqo.api.models.add_docs_objects import AddDocsBodyParams
        from marqo.api.models.update_documents import UpdateDocumentsBodyParams
        from marqo.api.models.recommend_query import RecommendQuery
        from marqo.api.models.embed_request import EmbedRequest
        from marqo.tensor_search.models.api_models import CustomVectorQuery

        pin = "validated by pydantic 1.10.11, Marqo's pin, by fake-cell/tests/recorder/record.py"
        write(out, "score_modifiers.json",
              f"Marqo's ScoreModifierLists (tensor_search/models/score_modifiers_object.py) {pin}; "
              "each case is a scoreModifiers object and the InvalidArgError message it raised, or accepted",
              [dict({"scoreModifiers": m},
                    **({"accepted": True} if a["status"] == 200 else {"message": a["message"]}))
               for m in cases.SCORE_MODIFIERS for a in [answer(ScoreModifierLists, m)]])

        def q_answer(q):
            a = answer(SearchQuery, {"q": q, "searchMethod": "TENSOR"})
            if a["status"] == 422:
                return {"q": q, "errors": [dict(i, loc=i["loc"][1:]) for i in a["detail"]]}
            value = SearchQuery(q=q).q
            if isinstance(value, CustomVectorQuery):
                value = {"customVector": value.customVector.dict()}
            return {"q": q, "coerced": value}
        write(out, "search_q.json",
              f"Marqo's SearchQuery.q, Optional[Union[str, Dict[str, float], CustomVectorQuery]], {pin}; "
              "each case is a q and what the model made of it, or its error items",
              [q_answer(q) for q in cases.Q])

        write(out, "search_bodies.json",
              f"Marqo's SearchQuery (tensor_search/models/api_models.py) with the models it nests {pin}, "
              "answered as FastAPI and Marqo's handlers do: 422 with the items, 400 with an "
              "InvalidArgError's message, 200 when the model takes the body (a later check may still "
              "refuse it). Enum members print as their values, as on Marqo's Python 3.9.",
              [{"method": "POST", "path": "search", "body": b, "marqo": py39(answer(SearchQuery, b))}
               for b in cases.SEARCH_BODIES])

        models = {"add": AddDocsBodyParams, "update": UpdateDocumentsBodyParams,
                  "recommend": RecommendQuery, "embed": EmbedRequest}
        routes = {"add": ("POST", "documents"), "update": ("PATCH", "documents"),
                  "recommend": ("POST", "recommend"), "embed": ("POST", "embed")}
        write(out, "bodies.json",
              f"Marqo's AddDocsBodyParams, UpdateDocumentsBodyParams, RecommendQuery and EmbedRequest "
              f"(api/models/) with the models they nest {pin}, answered as FastAPI and Marqo's handlers "
              "do: 422 with the items, 400 with the message and code of what a validator raised, 200 "
              "when the model takes the body (a later check may still refuse it). Keys py-marqo 3.18 "
              "sends beyond these models are left out.",
              [{"method": routes[k][0], "path": routes[k][1], "body": b,
                "marqo": answer(models[k], b)}
               for k, bodies in cases.OTHER_BODIES.items() for b in bodies])

        write(out, "index_settings.json",
              f"Marqo's IndexSettings (tensor_search/models/index_settings.py) with FieldRequest and the "
              f"core index request it builds (to_marqo_index_request) {pin}, answered as FastAPI and "
              "Marqo's handlers do: 422 with the items, 400 with the message and code of what the core "
              "raised, 200 when the index would be created. path null: the body creates a new index.",
              [{"method": "POST", "path": None, "body": b,
                "marqo": answer(IndexSettings, b, lambda s: s.to_marqo_index_request("idx"))}
               for b in cases.INDEX_SETTINGS])
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main(Path(sys.argv[1]), Path(sys.argv[2]))
