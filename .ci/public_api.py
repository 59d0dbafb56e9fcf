#!/usr/bin/env python3
"""Renders aiokit's public API from rustdoc's JSON output, one item per line,
sorted: every public path, each function's signature, each type's fields and
variants, each impl (inherent and trait; auto traits and blanket impls left
out) and the attributes that are part of the API (#[non_exhaustive]).

Usage: public_api.py path/to/aiokit.json > public-api.txt
(.ci/public-api.sh builds the JSON and compares or rewrites the listing.)
"""

import json
import sys

doc = json.load(open(sys.argv[1]))
# Written against rustdoc's JSON format 57; a newer nightly may move fields.
if doc["format_version"] != 57:
    print(f"public_api.py: rustdoc JSON format {doc['format_version']}, written for 57", file=sys.stderr)
index = doc["index"]
paths = doc["paths"]

# The public path of every local item, found by walking the modules.
public = {}


def item(id_):
    return index.get(str(id_))


def ext_path(id_, fallback):
    entry = paths.get(str(id_))
    if id_ is not None and str(id_) in public:
        return public[str(id_)]
    if entry:
        return "::".join(entry["path"])
    return fallback


def args(a):
    if not a:
        return ""
    if "angle_bracketed" in a:
        ab = a["angle_bracketed"]
        parts = []
        for arg in ab.get("args", []):
            if "type" in arg:
                parts.append(ty(arg["type"]))
            elif "lifetime" in arg:
                parts.append(arg["lifetime"])
            elif "const" in arg:
                parts.append(arg["const"].get("expr", "_"))
            else:
                parts.append("_")
        for c in ab.get("constraints", []):
            binding = c["binding"]
            if "equality" in binding:
                eq = binding["equality"]
                parts.append(c["name"] + args(c.get("args")) + " = " + (ty(eq["type"]) if "type" in eq else "_"))
            else:
                parts.append(c["name"] + ": " + bounds(binding["constraint"]))
        return "<" + ", ".join(parts) + ">" if parts else ""
    if "parenthesized" in a:
        p = a["parenthesized"]
        out = "(" + ", ".join(ty(t) for t in p["inputs"]) + ")"
        if p.get("output"):
            out += " -> " + ty(p["output"])
        return out
    return ""


def path_of(p):
    return ext_path(p.get("id"), p["path"]) + args(p.get("args"))


def ty(t):
    if isinstance(t, str):
        return "_" if t == "infer" else t
    (kind, v), = t.items()
    if kind == "resolved_path":
        return path_of(v)
    if kind in ("generic", "primitive"):
        return v
    if kind == "borrowed_ref":
        lt = v["lifetime"] + " " if v.get("lifetime") else ""
        return "&" + lt + ("mut " if v["is_mutable"] else "") + ty(v["type"])
    if kind == "raw_pointer":
        return ("*mut " if v["is_mutable"] else "*const ") + ty(v["type"])
    if kind == "tuple":
        inner = ", ".join(ty(x) for x in v)
        return "(" + inner + ("," if len(v) == 1 else "") + ")"
    if kind == "slice":
        return "[" + ty(v) + "]"
    if kind == "array":
        return "[" + ty(v["type"]) + "; " + v["len"] + "]"
    if kind == "impl_trait":
        return "impl " + bounds(v)
    if kind == "dyn_trait":
        traits = [path_of(p["trait"]) for p in v["traits"]]
        if v.get("lifetime"):
            traits.append(v["lifetime"])
        return "dyn " + " + ".join(traits)
    if kind == "qualified_path":
        trait = " as " + path_of(v["trait"]) if v.get("trait") else ""
        return "<" + ty(v["self_type"]) + trait + ">::" + v["name"] + args(v.get("args"))
    if kind == "function_pointer":
        sig = v["sig"]
        out = "fn(" + ", ".join(ty(t) for _, t in sig["inputs"]) + ")"
        return out + (" -> " + ty(sig["output"]) if sig.get("output") else "")
    return kind


def bounds(bs):
    out = []
    for b in bs:
        if "trait_bound" in b:
            tb = b["trait_bound"]
            prefix = "?" if tb.get("modifier") == "maybe" else ""
            out.append(prefix + path_of(tb["trait"]))
        elif "outlives" in b:
            out.append(b["outlives"])
        else:
            out.append("use<..>")
    return " + ".join(out)


def generics(g):
    params = []
    for p in g["params"]:
        k = p["kind"]
        if "type" in k:
            if k["type"].get("is_synthetic"):
                continue
            b = bounds(k["type"]["bounds"])
            params.append(p["name"] + (": " + b if b else ""))
        elif "lifetime" in k:
            params.append(p["name"] + (": " + " + ".join(k["lifetime"]["outlives"]) if k["lifetime"]["outlives"] else ""))
        elif "const" in k:
            params.append("const " + p["name"] + ": " + ty(k["const"]["type"]))
    return "<" + ", ".join(params) + ">" if params else ""


def where(g):
    preds = []
    for w in g["where_predicates"]:
        if "bound_predicate" in w:
            bp = w["bound_predicate"]
            preds.append(ty(bp["type"]) + ": " + bounds(bp["bounds"]))
        elif "lifetime_predicate" in w:
            lp = w["lifetime_predicate"]
            preds.append(lp["lifetime"] + ": " + " + ".join(lp["outlives"]))
        elif "eq_predicate" in w:
            ep = w["eq_predicate"]
            preds.append(ty(ep["lhs"]) + " == " + ty(ep["rhs"]["type"]) if "type" in ep["rhs"] else "_")
    return " where " + ", ".join(preds) if preds else ""


def attrs(it):
    out = []
    for a in it.get("attrs", []):
        if a == "non_exhaustive":
            out.append("#[non_exhaustive] ")
    return "".join(out)


def function(name, f):
    h = f["header"]
    quals = ("const " if h["is_const"] else "") + ("async " if h["is_async"] else "") + ("unsafe " if h["is_unsafe"] else "")
    ins = []
    for n, t in f["sig"]["inputs"]:
        if n == "self":
            ins.append({"generic": "self"} == t and "self" or ("self: " + ty(t) if ty(t) != "Self" else "self"))
        else:
            ins.append(n + ": " + ty(t))
    ins = [("&self" if x == "self: &Self" else "&mut self" if x == "self: &mut Self" else x) for x in ins]
    out = " -> " + ty(f["sig"]["output"]) if f["sig"].get("output") else ""
    g = f["generics"]
    return quals + "fn " + name + generics(g) + "(" + ", ".join(ins) + ")" + out + where(g)


lines = set()


def assoc(prefix, ids):
    for id_ in ids:
        it = item(id_)
        if it is None:
            continue
        inner = it["inner"]
        if "function" in inner:
            vis = "pub " if it["visibility"] == "public" else ""
            lines.add(prefix + vis + function(it["name"], inner["function"]))
        elif "assoc_type" in inner:
            at = inner["assoc_type"]
            b = bounds(at["bounds"])
            val = " = " + ty(at["type"]) if at.get("type") else ""
            lines.add(prefix + "type " + it["name"] + (": " + b if b else "") + val)
        elif "assoc_const" in inner:
            lines.add(prefix + "const " + it["name"] + ": " + ty(inner["assoc_const"]["type"]))


def impls(self_path, ids):
    for id_ in ids:
        it = item(id_)
        if it is None:
            continue
        im = it["inner"]["impl"]
        if im["is_synthetic"] or im.get("blanket_impl"):
            continue
        g = im["generics"]
        neg = "!" if im["is_negative"] else ""
        head = "impl" + generics(g) + " "
        if im.get("trait"):
            head += neg + path_of(im["trait"]) + " for "
        head += ty(im["for"]) + where(g)
        lines.add(head)
        if im.get("trait"):
            # A trait's methods are the trait's; its associated types are
            # this impl's.
            ids = [i for i in im["items"] if item(i) and "function" not in item(i)["inner"]]
        else:
            ids = im["items"]
        assoc(head + " :: ", ids)


def walk(module_id, prefix):
    for id_ in item(module_id)["inner"]["module"]["items"]:
        it = item(id_)
        if it is None:
            continue
        inner = it["inner"]
        if "use" in inner:
            u = inner["use"]
            target = item(u["id"]) if u.get("id") is not None else None
            if target is None or target["crate_id"] != 0:
                lines.add("pub use " + prefix + "::" + u["name"] + " = " + u["source"])
                continue
            visit(u["id"], target, prefix + "::" + u["name"], u["name"])
        else:
            visit(id_, it, prefix + "::" + it["name"], it["name"])


def visit(id_, it, path, name):
    public.setdefault(str(id_), path)
    inner = it["inner"]
    a = attrs(it)
    if "module" in inner:
        lines.add("pub mod " + path)
        walk(id_, path)
    elif "function" in inner:
        lines.add(a + "pub " + function(path, inner["function"]))
    elif "struct" in inner:
        s = inner["struct"]
        g = s["generics"]
        kind = s["kind"]
        lines.add(a + "pub struct " + path + generics(g) + where(g))
        fields = kind["plain"]["fields"] if isinstance(kind, dict) and "plain" in kind else (kind.get("tuple", []) if isinstance(kind, dict) else [])
        for i, f in enumerate(fields):
            if f is None:
                continue
            fi = item(f)
            lines.add("pub " + path + "::" + (fi["name"]) + ": " + ty(fi["inner"]["struct_field"]))
        impls(path, s["impls"])
    elif "enum" in inner:
        e = inner["enum"]
        g = e["generics"]
        lines.add(a + "pub enum " + path + generics(g) + where(g))
        for v in e["variants"]:
            vi = item(v)
            kind = vi["inner"]["variant"]["kind"]
            shape = ""
            if isinstance(kind, dict) and "tuple" in kind:
                shape = "(" + ", ".join(ty(item(f)["inner"]["struct_field"]) if f is not None else "_" for f in kind["tuple"]) + ")"
            elif isinstance(kind, dict) and "struct" in kind:
                shape = " { " + ", ".join(item(f)["name"] + ": " + ty(item(f)["inner"]["struct_field"]) for f in kind["struct"]["fields"]) + " }"
            lines.add(attrs(vi) + "pub " + path + "::" + vi["name"] + shape)
        impls(path, e["impls"])
    elif "trait" in inner:
        t = inner["trait"]
        g = t["generics"]
        sup = bounds(t["bounds"])
        lines.add(a + "pub trait " + path + generics(g) + (": " + sup if sup else "") + where(g))
        assoc("trait " + path + " :: ", t["items"])
    elif "type_alias" in inner:
        ta = inner["type_alias"]
        lines.add("pub type " + path + generics(ta["generics"]) + " = " + ty(ta["type"]))
    elif "constant" in inner:
        lines.add("pub const " + path + ": " + ty(inner["constant"]["type"]))
    elif "macro" in inner:
        lines.add("pub macro " + path + "!")
    else:
        lines.add("pub " + next(iter(inner)) + " " + path)


root = str(doc["root"])
# Public paths first (a second pass renders types by their public path).
walk(root, "aiokit")
lines.clear()
walk(root, "aiokit")
print("\n".join(sorted(lines)))
