"""Writes Marqo's model registry (src/marqo/s2_inference/model_registry.py and clip_utils.py) as JSON:
name -> dimensions, type, default text prefixes, modalities. Usage: gen.py DIR_WITH_BOTH_FILES."""
import ast, sys

def funcs(path):
    tree = ast.parse(open(path).read())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = node
    return out

def dict_of(fn):
    # the function's dict literal: the value of its first assignment, or of its return
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            return ast.literal_eval(node.value)
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            return ast.literal_eval(node.value)
    raise SystemExit(f"no dict literal in {fn.name}")

reg_dir = sys.argv[1]
reg = funcs(f"{reg_dir}/model_registry.py")
clip = funcs(f"{reg_dir}/clip_utils.py")
get = lambda name: dict_of(reg[name])
# load_model_properties' order: later updates win
sbert = get("_get_sbert_properties")
sbert.update({k.split('/')[-1]: v for k, v in list(sbert.items())})
models = dict(get("_get_clip_properties"))
for part in [sbert, get("_get_sbert_test_properties"), get("_get_sbert_onnx_properties"),
             get("_get_random_properties"), get("_get_hf_properties"), get("_get_open_clip_properties"),
             get("_get_onnx_clip_properties"), dict_of(clip["get_multilingual_clip_properties"]),
             get("_get_fp16_clip_properties"), get("_get_no_model_properties"),
             get("_get_languagebind_properties")]:
    models.update(part)
import json
KEEP = {"dimensions": "dimensions", "type": "type", "text_query_prefix": "textQueryPrefix",
        "text_chunk_prefix": "textChunkPrefix", "supported_modalities": "modalities"}
lines = []
for name, p in models.items():
    entry = {out: p[key] for key, out in KEEP.items() if p.get(key) is not None}
    lines.append(f"  {json.dumps(name)}: {json.dumps(entry, ensure_ascii=False)}")
print("{\n" + ",\n".join(lines) + "\n}")
