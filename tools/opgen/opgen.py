#!/usr/bin/env python3
"""opgen - writes the code derived from the op schema (runtime/ember/ops.yaml).

    opgen.py SCHEMA OUTDIR

Writes into OUTDIR/ember/:
  ops.def                 the op table's X-macro rows (OpId, OpInfo)
  op_attrs.h              a typed attribute struct per op, and the table of
                          every op's attributes (names, types, OpAttrs slots)
  api.h, api.cpp          functions and Tensor methods of ops whose API is
                          the op itself (`api:` in the schema)
  tensor_methods.inc      their declarations inside class Tensor
  EmberOpsGen.td          the ODS definition of every op of the dialect
  ember_attrs.inc         OpAttrs -> MLIR attributes (graph_to_mlir)
  elementwise_bodies.inc  the elementwise lowering table (EmberToLinalg)
  op_samples.inc          the sweeps' sample call of every op
  python_ops.inc          the Python functions and Tensor methods of ops
                          with a generated API, with docstrings

Like PyTorch's torchgen, it is the one place that knows how a row becomes
code: a new op is a schema row, its kernel, its formula and its lowering.
Only the standard library and PyYAML (Debian's python3-yaml) are used.
"""

import os
import re
import sys

import yaml

FAMILIES = ["Unary", "Binary", "Compare", "Ternary", "Reduce", "ReduceIndex", "Matmul", "View", "Scatter", "NN",
            "Creation"]
EFFECTS = {"pure": "Pure", "random": "Random", "reads_captured": "ReadsCaptured",
           "writes_captured": "WritesCaptured", "communicates": "Communicates"}
SAVES = ["None", "Inputs", "Output", "Both"]

# Attribute types: C++ type of the typed struct / of an API parameter, ODS
# attribute, and how to write a default.
ATTR_TYPES = {
    "int": ("int64_t", "int64_t", "I64Attr"),
    "int[]": ("Shape", "IntArrayRef", "DenseI64ArrayAttr"),
    "float": ("double", "double", "F64Attr"),
    "float?": ("std::optional<double>", "std::optional<double>", "OptionalAttr<F64Attr>"),
    "bool": ("bool", "bool", "BoolAttr"),
    "dtype": ("DType", "DType", "TypeAttr"),
    "Reduction": ("Reduction", "Reduction", "I64Attr"),
}
PYTHON_FIELDS = {"calls", "also", "numpy", "check", "tol", "gradient_of", "unbound"}
SLOT_RE = re.compile(r"^(dim|index|scalar|scalar2|dtype|ints|ints2|ints\[\d\]|ints2\[\d\]|flag:k\w+)$")


def fail(message):
    sys.exit("opgen: " + message)


def camel(name):
    return "".join(part.capitalize() for part in name.split("_"))


class Attr:
    def __init__(self, op, name, spec):
        self.name = name
        self.type = spec.get("type")
        self.slot = spec.get("slot")
        self.default = spec.get("default")
        self.present = spec.get("present")
        if self.type not in ATTR_TYPES:
            fail(f"{op}: attribute {name} has type {self.type!r}; known: {', '.join(ATTR_TYPES)}")
        if not self.slot or not SLOT_RE.match(self.slot):
            fail(f"{op}: attribute {name} has slot {self.slot!r}")
        if (self.type == "float?") != (self.present is not None):
            fail(f"{op}: attribute {name}: an optional float needs `present`, and only it")

    @property
    def cpp_type(self):
        return ATTR_TYPES[self.type][0]

    @property
    def param_type(self):
        return ATTR_TYPES[self.type][1]

    @property
    def ods_type(self):
        return ATTR_TYPES[self.type][2]

    def cpp_default(self):
        d = self.default
        if d is None:
            return {"int": "0", "int[]": "{}", "float": "0", "float?": "std::nullopt", "bool": "false",
                    "dtype": "DType::Float32", "Reduction": "Reduction::Mean"}[self.type]
        if self.type == "Reduction":
            return f"Reduction::{d}"
        if self.type == "dtype":
            return f"DType::{d}"
        if self.type == "bool":
            return "true" if d else "false"
        return repr(d)

    # C++ expressions between the typed field `v` and OpAttrs `a`.
    def store(self, v):
        s = self.slot
        if s.startswith("flag:"):
            return f"if ({v}) a.flags |= {s[5:]};"
        if self.type == "float?":
            return f"if ({v}) {{ a.{s} = *{v}; a.flags |= {self.present}; }}"
        if self.type == "int[]":
            return f"a.{s} = {v};"
        if self.type == "Reduction":
            return f"a.{s} = static_cast<int64_t>({v});"
        m = re.match(r"^(ints2?)\[(\d)\]$", s)
        if m:  # an element of a list slot: the list is at least that long
            field, i = m.group(1), int(m.group(2))
            return f"if (a.{field}.ndim() <= {i}) a.{field}.resize({i + 1});\n    a.{s} = {v};"
        return f"a.{s} = {v};"

    def load(self):
        s = self.slot
        if s.startswith("flag:"):
            return f"a.has({s[5:]})"
        if self.type == "float?":
            return f"a.has({self.present}) ? std::optional<double>(a.{s}) : std::nullopt"
        if self.type == "Reduction":
            return f"static_cast<Reduction>(a.{s})"
        return f"a.{s}"


class Op:
    def __init__(self, row):
        self.row = row
        self.name = row["name"]
        self.family = row["family"]
        if self.family not in FAMILIES:
            fail(f"{self.name}: family {self.family!r}")
        self.inputs = row.get("inputs", [])
        self.outputs = row.get("outputs", ["result"])
        self.grad = row["grad"]
        if self.grad not in ("Diff", "NonDiff"):
            fail(f"{self.name}: grad must be Diff or NonDiff")
        self.saves = row["saves"]
        if self.saves not in SAVES:
            fail(f"{self.name}: saves {self.saves!r}")
        self.effect = row.get("effect", "pure")
        if self.effect not in EFFECTS:
            fail(f"{self.name}: effect {self.effect!r}; known: {', '.join(EFFECTS)}")
        self.doc = row["doc"]
        self.attrs = [Attr(self.name, n, s) for n, s in (row.get("attrs") or {}).items()]
        self.api = row.get("api") or {}
        self.body = row.get("body")
        self.sample = row.get("sample") or {}
        self.variadic = any(i.endswith("*") for i in self.inputs)
        self.python = row.get("python")
        if not self.python:
            fail(f"{self.name}: no `python` entry (how Python reaches the op, and its reference)")
        unknown = set(self.python) - PYTHON_FIELDS
        if unknown:
            fail(f"{self.name}: python has unknown fields {sorted(unknown)}")

    @property
    def num_inputs(self):
        return -1 if self.variadic else len(self.inputs)

    @property
    def struct(self):
        return camel(self.name)


def load(path):
    with open(path) as f:
        schema = yaml.safe_load(f)
    ops = [Op(r) for r in schema["ops"]]
    seen = set()
    for op in ops:
        if op.name in seen:
            fail(f"{op.name} appears twice")
        seen.add(op.name)
    return ops


def write(path, text):
    """Writes only when the contents change, so that a rerun rebuilds nothing."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


BANNER = "// Generated by tools/opgen/opgen.py from runtime/ember/ops.yaml. Do not edit.\n"


RULES = {("Unary", "float"): "FloatDomain", ("Unary", "numeric"): "NumericDomain", ("Unary", "any"): "AnyDomain",
         ("Binary", "arith"): "Arith", ("Binary", "div"): "Div", ("Compare", "compare"): "Compare",
         ("Reduce", "sum"): "SumType", ("Reduce", "float"): "FloatType", ("Reduce", "same"): "SameType"}


def rule_of(op):
    """The dtype rule of a row (meta.cpp): a unary op's domain, a binary op's
    or a reduction's result type."""
    key = op.row.get("domain") or op.row.get("rule")
    if key is None:
        return "None"
    if (op.family, key) not in RULES:
        fail(f"{op.name}: no rule {key!r} for family {op.family}")
    return RULES[(op.family, key)]


def gen_ops_def(ops):
    out = [BANNER, "// EMBER_OP(name, kind, inputs, outputs, grad, saves, effect, rule)\n"]
    for op in ops:
        out.append(f"EMBER_OP({op.name}, {op.family}, {op.num_inputs}, {len(op.outputs)}, {op.grad}, {op.saves}, "
                   f"{EFFECTS[op.effect]}, {rule_of(op)})\n")
    return "".join(out)


def gen_op_attrs(ops):
    out = [BANNER, """// op_attrs.h - a typed struct of each op's attributes, and the table of
// every op's attributes by name. OpAttrs is the storage every op shares;
// these say, once, which of its fields holds which attribute.
//
//   const auto a = attrs::Softmax::from(call.attrs);   // a.dim
//   dispatch(OpId::softmax, {x}, attrs::Softmax{dim}.to_attrs(), loc);
#pragma once

#include <iosfwd>
#include <optional>

#include "ember/op_table.h"

namespace ember::attrs {
"""]
    for op in ops:
        out.append(f"\n// {op.name}: {op.doc}\nstruct {op.struct} {{\n")
        for a in op.attrs:
            out.append(f"  {a.cpp_type} {a.name} = {a.cpp_default()};\n")
        out.append(f"  static {op.struct} from(const OpAttrs& a) {{\n")
        if op.attrs:
            out.append(f"    {op.struct} v;\n")
            for a in op.attrs:
                out.append(f"    v.{a.name} = {a.load()};\n")
            out.append("    return v;\n")
        else:
            out.append("    (void)a;\n    return {};\n")
        out.append("  }\n  OpAttrs to_attrs() const {\n    OpAttrs a;\n")
        for a in op.attrs:
            out.append(f"    {a.store(a.name)}\n")
        out.append("    return a;\n  }\n};\n")
    out.append("""
// "dim=-1, keepdim=true": the op's attributes by name (graph dumps).
void print_attrs(std::ostream& out, OpId op, const OpAttrs& a);

// One attribute of an op: its name, its schema type and the OpAttrs slot.
enum class AttrType : uint8_t { Int, IntList, Float, OptionalFloat, Bool, DType, Reduction };
struct AttrField {
  const char* name;
  AttrType type;
  const char* slot;
};
struct OpAttrFields {
  const AttrField* fields;
  int count;
};
// The attributes of `op`, in schema order.
OpAttrFields attr_fields(OpId op);
""")
    type_enum = {"int": "Int", "int[]": "IntList", "float": "Float", "float?": "OptionalFloat", "bool": "Bool",
                 "dtype": "DType", "Reduction": "Reduction"}
    out.append("\ninline OpAttrFields attr_fields(OpId op) {\n  switch (op) {\n")
    for op in ops:
        if not op.attrs:
            continue
        fields = ", ".join(f'{{"{a.name}", AttrType::{type_enum[a.type]}, "{a.slot}"}}' for a in op.attrs)
        out.append(f"    case OpId::{op.name}: {{\n      static const AttrField f[] = {{{fields}}};\n"
                   f"      return {{f, {len(op.attrs)}}};\n    }}\n")
    out.append("    default: return {nullptr, 0};\n  }\n}\n\n}  // namespace ember::attrs\n")
    return "".join(out)


def api_params(op, skip_self):
    tensors = [i for i in op.inputs]
    if skip_self:
        tensors = tensors[1:]
    params = [f"const Tensor& {t}" for t in tensors]
    for a in op.attrs:
        params.append(f"{a.param_type} {a.name}")
    return tensors, params


def gen_api(ops):
    decls = [BANNER, """// api.h - the functions of ops whose API is the op itself (`api: function`
// in the schema). ops.h includes this file; Tensor's methods of the same ops
// are declared by tensor_methods.inc inside class Tensor.
#pragma once

#include "ember/op_attrs.h"
#include "ember/tensor.h"

namespace ember {
"""]
    methods = [BANNER]
    defs = [BANNER, """// api.cpp - the generated functions and methods: argument checks, the
// typed attributes, one dispatch; and the attributes printed by name.
#include "ember/api.h"

#include <ostream>

#include "ember/dispatch.h"

namespace ember {

namespace {
void check_defined(const Tensor& t, const char* op, const char* what, const Loc& loc) {
  EMBER_CHECK(t.defined(), loc, op, ": ", what, " is undefined");
}
}  // namespace
"""]
    for op in ops:
        fn, method = op.api.get("function"), op.api.get("method")
        if not fn and not method:
            continue
        if op.variadic or len(op.outputs) != 1:
            fail(f"{op.name}: generated APIs take fixed inputs and return one tensor")
        tensors = op.inputs
        attr_args = ", ".join(a.name for a in op.attrs)
        build = f"attrs::{op.struct}{{{attr_args}}}.to_attrs()" if op.attrs else "OpAttrs{}"
        checks = "".join(f'  check_defined({t}, "{op.name}", "{t}", loc);\n' for t in tensors)
        call = f"dispatch(OpId::{op.name}, {{{', '.join(tensors)}}}, {build}, loc)"
        if op.attrs:
            # Aggregate initialization needs the schema order: keep it explicit.
            pass
        if fn:
            _, params = api_params(op, False)
            sig = ", ".join(params + ["const Loc& loc"])
            decls.append(f"// {op.doc}\nTensor {fn}({', '.join(params + ['const Loc& loc = Loc::current()'])});\n")
            defs.append(f"\nTensor {fn}({sig}) {{\n{checks}  return {call};\n}}\n")
        if method:
            rest, params = api_params(op, True)
            methods.append(f"// {op.doc}\nTensor {method}({', '.join(params + ['const Loc& loc = Loc::current()'])}) const;\n")
            sig = ", ".join(params + ["const Loc& loc"])
            args = ", ".join(["*this"] + rest + [a.name for a in op.attrs] + ["loc"])
            if fn:
                defs.append(f"\nTensor Tensor::{method}({sig}) const {{ return ember::{fn}({args}); }}\n")
            else:
                self_name = tensors[0]
                body_checks = "".join(f'  check_defined({t}, "{op.name}", "{t}", loc);\n' for t in rest)
                defs.append(f"\nTensor Tensor::{method}({sig}) const {{\n"
                            f"  const Tensor& {self_name} = *this;\n{body_checks}  return {call};\n}}\n")
    decls.append("\n}  // namespace ember\n")
    defs.append("\n}  // namespace ember\n")
    defs.append(gen_print_attrs(ops))
    return "".join(decls), "".join(methods), "".join(defs)


def gen_print_attrs(ops):
    out = ["""
namespace ember::attrs {

namespace {
void print_value(std::ostream& o, int64_t v) { o << v; }
void print_value(std::ostream& o, double v) { o << v; }
void print_value(std::ostream& o, bool v) { o << (v ? "true" : "false"); }
void print_value(std::ostream& o, const Shape& v) { o << v; }
void print_value(std::ostream& o, DType v) { o << dtype_name(v); }
void print_value(std::ostream& o, Reduction v) {
  o << (v == Reduction::None ? "none" : v == Reduction::Sum ? "sum" : "mean");
}
void print_value(std::ostream& o, const std::optional<double>& v) {
  if (v) o << *v;
  else o << "none";
}
}  // namespace

void print_attrs(std::ostream& o, OpId op, const OpAttrs& a) {
  switch (op) {
"""]
    for op in ops:
        if not op.attrs:
            continue
        out.append(f"    case OpId::{op.name}: {{\n      const auto v = {op.struct}::from(a);\n")
        for i, a in enumerate(op.attrs):
            sep = ", " if i else ""
            out.append(f'      o << "{sep}{a.name}=";\n      print_value(o, v.{a.name});\n')
        out.append("      return;\n    }\n")
    out.append("    default: return;\n  }\n}\n\n}  // namespace ember::attrs\n")
    return "".join(out)


def ods_format(op):
    operands = [i.rstrip("*") for i in op.inputs]
    if op.variadic:
        return f"${operands[0]} attr-dict `:` type(${operands[0]}) `->` type(results)"
    if not operands:
        return "attr-dict `:` type(results)"
    lhs = " `,` ".join(f"${o}" for o in operands)
    types = " `,` ".join(f"type(${o})" for o in operands)
    return f"{lhs} attr-dict `:` {types} `->` type(results)"


def gen_ods(ops):
    out = [BANNER.replace("//", "//", 1), "// Included by EmberOps.td: one def per row of the schema.\n\n"]
    for op in ops:
        traits = "[Pure]" if op.effect == "pure" else "[MemoryEffects<[MemWrite]>]"
        ins = []
        for i in op.inputs:
            if i.endswith("*"):
                ins.append(f"Variadic<AnyRankedTensor>:${i[:-1]}")
            else:
                ins.append(f"AnyRankedTensor:${i}")
        for a in op.attrs:
            ins.append(f"{a.ods_type}:${a.name}")
        outs = ", ".join(f"AnyRankedTensor:${o}" for o in op.outputs)
        fill = []
        for a in op.attrs:
            getter = "adaptor.get" + camel(a.name) + "()"
            v = {"int": getter, "bool": getter, "float": f"{getter}.convertToDouble()",
                 "int[]": f"::ember::Shape(::ember::IntArrayRef({getter}.data(), {getter}.size()))",
                 "float?": f"({getter} ? std::optional<double>({getter}->convertToDouble()) : std::nullopt)",
                 "dtype": f"::ember::ir::dtype_of({getter})",
                 "Reduction": f"static_cast<::ember::Reduction>({getter})"}[a.type]
            fill.append(f"      v.{a.name} = {v};")
        fill_text = "\n".join(fill)
        out.append(f"""def Ember_{op.struct}Op : Ember_Op<"{op.name}", {traits}> {{
  let summary = "{op.doc.replace('"', "'")}";
  let arguments = (ins {', '.join(ins)});
  let results = (outs {outs});
  let assemblyFormat = "{ods_format(op)}";
  let extraClassDeclaration = [{{
    static constexpr ::ember::OpId kOpId = ::ember::OpId::{op.name};
    // The attributes as the runtime holds them (the schema's slots).
    static ::ember::OpAttrs op_attrs(Adaptor adaptor) {{
      ::ember::attrs::{op.struct} v;
{fill_text}
      (void)adaptor;
      return v.to_attrs();
    }}
  }}];
}}

""")
    return "".join(out)


def gen_ember_attrs(ops):
    out = [BANNER, """// Included by GraphToMLIR.cpp inside add_attributes(b, op, a, state):
// each attribute of the op's schema row, from its OpAttrs slot, by name.
switch (op) {
"""]
    for op in ops:
        if not op.attrs:
            continue
        out.append(f"  case OpId::{op.name}: {{\n    const auto v = attrs::{op.struct}::from(a);\n")
        for a in op.attrs:
            n = a.name
            if a.type == "int":
                out.append(f'    state.addAttribute("{n}", b.getI64IntegerAttr(v.{n}));\n')
            elif a.type == "Reduction":
                out.append(f'    state.addAttribute("{n}", b.getI64IntegerAttr(static_cast<int64_t>(v.{n})));\n')
            elif a.type == "int[]":
                out.append(f'    state.addAttribute("{n}", b.getDenseI64ArrayAttr(ints(v.{n})));\n')
            elif a.type == "float":
                out.append(f'    state.addAttribute("{n}", b.getF64FloatAttr(v.{n}));\n')
            elif a.type == "float?":
                out.append(f'    if (v.{n}) state.addAttribute("{n}", b.getF64FloatAttr(*v.{n}));\n')
            elif a.type == "bool":
                out.append(f'    state.addAttribute("{n}", b.getBoolAttr(v.{n}));\n')
            elif a.type == "dtype":
                out.append(f'    state.addAttribute("{n}", mlir::TypeAttr::get(element_type(*b.getContext(), v.{n})));\n')
        out.append("    return;\n  }\n")
    out.append("  default: return;\n}\n")
    return "".join(out)


def gen_bodies(ops):
    out = [BANNER, "// Included by EmberToLinalg.cpp: the elementwise lowering table, {OpId, {Compute, Body}}.\n"]
    for op in ops:
        if not op.body:
            continue
        compute = {"result": "Compute::Result", "promoted": "Compute::Promoted"}[op.body["compute"]]
        fn = op.body["fn"]
        body = fn if "(" in fn else f"&{fn}_body"
        out.append(f"{{OpId::{op.name}, {{{compute}, {body}}}}},\n")
    return "".join(out)


INPUT_RE = re.compile(r"^(x|pos|cond|int)\[([-\d, ]*)\]$")


def cpp_sample_input(text, op):
    m = INPUT_RE.match(text)
    if not m:
        fail(f"{op}: sample input {text!r} is not kind[shape]")
    kind, body = m.group(1), m.group(2)
    values = [v.strip() for v in body.split(",") if v.strip()]
    if kind == "int":
        return f"tensor<int64_t>({{{', '.join(values)}}})"
    shape = "{" + ", ".join(values) + "}"
    return {"x": f"sample_uniform({shape})", "pos": f"sample_uniform({shape}, 0.5, 2.0)",
            "cond": f"sample_uniform({shape}).gt(0)"}[kind]


def cpp_value(attr, value):
    if attr.type == "int[]":
        return "Shape{" + ", ".join(str(v) for v in value) + "}"
    if attr.type == "dtype":
        return f"DType::{value}"
    if attr.type == "Reduction":
        return f"Reduction::{value}"
    if attr.type == "bool":
        return "true" if value else "false"
    if attr.type == "float?":
        return f"std::optional<double>({float(value)!r})"
    return repr(value)


def gen_samples(ops):
    out = [BANNER, "// Included by tests/tracer/op_samples.h inside op_sample(op): the schema's sample call.\n",
           "switch (op) {\n"]
    for op in ops:
        if not op.sample and op.inputs:
            fail(f"{op.name}: no sample call (every op needs one: the sweeps run it)")
        inputs = ", ".join(cpp_sample_input(i, op.name) for i in op.sample.get("inputs", []))
        out.append(f"  case OpId::{op.name}: {{\n")
        values = op.sample.get("attrs") or {}
        out.append(f"    attrs::{op.struct} v;\n")
        known = {a.name: a for a in op.attrs}
        for n, value in values.items():
            if n not in known:
                fail(f"{op.name}: sample sets unknown attribute {n}")
            out.append(f"    v.{n} = {cpp_value(known[n], value)};\n")
        out.append(f"    (void)v;\n    return OpSample{{{{{inputs}}}, v.to_attrs()}};\n  }}\n")
    out.append("}\nreturn std::nullopt;\n")
    return "".join(out)


PYTHON_SHAPES = {
    "Unary": "Elementwise: the result has the input's shape.",
    "Binary": "Elementwise over the broadcast shape of input and other; either may be a Python number.",
    "Compare": "Elementwise over the broadcast shape of input and other (a bool tensor); either may be a "
               "Python number.",
    "Ternary": "Elementwise over the broadcast shape of condition, input and other.",
    "Matmul": "[..., n, k] @ [..., k, m] -> [..., n, m], leading dims broadcast; a 1-D operand is a vector, "
              "as in numpy.",
}
PYTHON_INPUT = {"x": "input", "lhs": "input", "rhs": "other", "cond": "condition", "a": "input", "b": "other"}
CPP_PARAM = {"int": "int64_t", "float": "double", "bool": "bool"}


def python_example(op, fn, method=False):
    """`ember.fn(...)` (or `first.fn(...)`) on the row's sample inputs, for the docstring."""
    made = []
    for text in op.sample.get("inputs", []):
        kind, body = INPUT_RE.match(text).groups()
        if kind == "int":
            made.append(f"ember.tensor([{body}])")
        elif kind == "cond":
            made.append(f"(ember.randn({body}) > 0)")
        else:
            made.append(f"ember.rand({body})")
    attrs = [f"{n}={v!r}" for n, v in (op.sample.get("attrs") or {}).items()]
    if method:
        return f"{made[0]}.{fn}({', '.join(made[1:] + attrs)})"
    return f"ember.{fn}({', '.join(made + attrs)})"


def gen_python(ops):
    """Bindings of the ops whose API is the op itself: ember.name(...) and
    Tensor.name(...), with PyTorch's argument names and a docstring from the
    row. Included by python/src/ops.cpp inside bind_table_ops(m, tensor)."""
    out = [BANNER, "// Included by python/src/ops.cpp inside bind_table_ops(m, tensor).\n"]
    for op in ops:
        fn, method = op.api.get("function"), op.api.get("method")
        if not fn and not method:
            continue
        name = fn or method
        names = [PYTHON_INPUT.get(i, i) for i in op.inputs]
        attr_names = [a.name for a in op.attrs]
        attr_params = [f"{CPP_PARAM[a.type]} {a.name}" for a in op.attrs]
        if op.family in ("Binary", "Compare"):
            call = f"binary_call(OpId::{op.name}, {names[0]}, {names[1]})"
            types = ["const Tensor&", "const py::object&"]
        elif op.family == "Matmul":
            call = f"matmul_released({names[0]}, {names[1]})"
            types = ["const Tensor&", "const Tensor&"]
        else:
            call = (f"ember::{fn}({', '.join(names + attr_names)})" if fn else
                    f"{names[0]}.{method}({', '.join(names[1:] + attr_names)})")
            types = ["const Tensor&"] * len(names)
        shape = PYTHON_SHAPES.get(op.family, "")
        summary = f"{op.doc[0].upper()}{op.doc[1:]}. {shape}".rstrip()
        example = python_example(op, name)
        # ember.name(input, ...): binary functions take a number on either side.
        fn_types = ["const py::object&"] * 2 if op.family in ("Binary", "Compare") else types
        params = ", ".join([f"{ty} {n}" for ty, n in zip(fn_types, names)] + attr_params)
        args = "".join(f', py::arg("{n}")' for n in names + attr_names)
        doc = f"{name}({', '.join(names + attr_names)}) -> Tensor\n\n{summary}\n\nExample::\n\n    >>> {example}\n"
        out.append(f'm.def("{name}", []({params}) {{ return {call}; }}{args},\n      R"doc({doc})doc");\n')
        # Tensor.name(...): the first input is the tensor (where's is not: PyTorch's is input.where(condition, other)).
        if op.family in ("Ternary",) or names[0] == "weight":
            continue
        params = ", ".join([f"{ty} {n}" for ty, n in zip(types, names)] + attr_params)
        args = "".join(f', py::arg("{n}")' for n in names[1:] + attr_names)
        doc = (f"{name}({', '.join(names[1:] + attr_names)}) -> Tensor\n\n{summary}\n\nExample::\n\n"
               f"    >>> {python_example(op, name, method=True)}\n")
        out.append(f'tensor.def("{name}", []({params}) {{ return {call}; }}{args},\n           R"doc({doc})doc");\n')
    return "".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: opgen.py SCHEMA OUTDIR")
    ops = load(sys.argv[1])
    out = os.path.join(sys.argv[2], "ember")
    write(os.path.join(out, "ops.def"), gen_ops_def(ops))
    write(os.path.join(out, "op_attrs.h"), gen_op_attrs(ops))
    api_h, methods, api_cpp = gen_api(ops)
    write(os.path.join(out, "api.h"), api_h)
    write(os.path.join(out, "tensor_methods.inc"), methods)
    write(os.path.join(out, "api.cpp"), api_cpp)
    write(os.path.join(out, "EmberOpsGen.td"), gen_ods(ops))
    write(os.path.join(out, "ember_attrs.inc"), gen_ember_attrs(ops))
    write(os.path.join(out, "elementwise_bodies.inc"), gen_bodies(ops))
    write(os.path.join(out, "op_samples.inc"), gen_samples(ops))
    write(os.path.join(out, "python_ops.inc"), gen_python(ops))


if __name__ == "__main__":
    main()
