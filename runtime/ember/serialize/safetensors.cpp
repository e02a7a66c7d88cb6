// safetensors.cpp - the safetensors reader and writer.
#include "ember/serialize/safetensors.h"
#include "ember/serialize/atomic_file.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember {

namespace {

// Ordered: entries come back in the order they were written.
using json = nlohmann::ordered_json;

const char* format_dtype(DType t) {
  switch (t) {
    case DType::Bool:
      return "BOOL";
    case DType::Int32:
      return "I32";
    case DType::Int64:
      return "I64";
    case DType::Float32:
      return "F32";
    case DType::Float64:
      return "F64";
  }
  return "?";
}

std::optional<DType> parse_dtype(const std::string& s) {
  for (DType t : {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64})
    if (s == format_dtype(t)) return t;
  return std::nullopt;
}

// The file is read in full: weight files of the models ember trains are small
// next to memory, and one read keeps the checks simple.
std::string read_file(const std::string& path, const Loc& loc) {
  std::ifstream in(path, std::ios::binary);
  EMBER_CHECK(in.good(), loc, "load_safetensors: cannot open ", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void save_safetensors(const nn::NamedTensors& tensors, const std::string& path,
                      const std::map<std::string, std::string>& metadata, const Loc& loc) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    EMBER_CHECK(t.defined(), loc, "save_safetensors: tensor '", name, "' is undefined");
    EMBER_CHECK(!header.contains(name), loc, "save_safetensors: the name '", name, "' appears twice");
    NoGradGuard no_grad;
    contiguous.push_back(t.contiguous());
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.itemsize();
    header[name] = {{"dtype", format_dtype(t.dtype())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so that the data starts 8-byte aligned
  write_file_atomically(
      path,
      [&](std::ostream& out) {
        uint64_t n = text.size();
        unsigned char len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
        out.write(reinterpret_cast<const char*>(len), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const Tensor& t : contiguous)
          out.write(static_cast<const char*>(t.data_ptr()),
                    static_cast<std::streamsize>(t.numel() * t.itemsize()));
      },
      "save_safetensors", loc);
}

nn::NamedTensors load_safetensors(const std::string& path, const Loc& loc) {
  return parse_safetensors(read_file(path, loc), path, loc);
}

nn::NamedTensors parse_safetensors(std::string_view file, const std::string& path, const Loc& loc) {
  const std::string where = "load_safetensors: " + path;
  EMBER_CHECK(file.size() >= 8, loc, where, " is truncated: ", file.size(),
              " bytes, too short for the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t(static_cast<unsigned char>(file[i])) << (8 * i);
  EMBER_CHECK(header_len <= file.size() - 8, loc, where, " is truncated or corrupt: the header claims ",
              header_len, " bytes but only ", file.size() - 8, " follow");
  json header;
  try {
    header = json::parse(file.substr(8, static_cast<size_t>(header_len)));
  } catch (const json::exception& e) {
    throw_error(where + ": the header is not valid JSON (" + e.what() + ")", loc);
  }
  EMBER_CHECK(header.is_object(), loc, where, ": the header is not a JSON object");
  const uint64_t data_start = 8 + header_len, data_size = file.size() - data_start;
  nn::NamedTensors out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const json& e = it.value();
    const std::string entry = where + ": entry '" + name + "'";
    EMBER_CHECK(e.is_object() && e.contains("dtype") && e.contains("shape") && e.contains("data_offsets"),
                loc, entry, " needs dtype, shape and data_offsets");
    EMBER_CHECK(e["dtype"].is_string(), loc, entry, ": dtype is not a string");
    const auto dtype = parse_dtype(e["dtype"].get<std::string>());
    EMBER_CHECK(dtype.has_value(), loc, entry, ": dtype ", e["dtype"].dump(),
                " is not one ember reads (BOOL, I32, I64, F32, F64)");
    EMBER_CHECK(e["shape"].is_array() && e["shape"].size() <= size_t(kMaxDims), loc, entry, ": shape ",
                e["shape"].dump(), " is not a list of at most ", kMaxDims, " sizes");
    std::vector<int64_t> shape;
    for (const json& d : e["shape"]) {
      EMBER_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0, loc, entry, ": shape ", e["shape"].dump(),
                  " has an invalid size");
      shape.push_back(d.get<int64_t>());
    }
    const json& off = e["data_offsets"];
    EMBER_CHECK(
        off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(), loc,
        entry, ": data_offsets ", off.dump(), " is not [begin, end]");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    const Shape s(shape, loc);
    uint64_t bytes = itemsize(*dtype);
    for (int64_t d : shape)
      EMBER_CHECK(!__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes), loc, entry, ": shape ", s,
                  " has more bytes than a 64-bit count holds");
    EMBER_CHECK(begin <= end && end - begin == bytes, loc, entry, ": data_offsets [", begin, ", ", end,
                ") hold ", end - begin, " bytes but shape ", s, " of ", dtype_name(*dtype), " needs ", bytes);
    EMBER_CHECK(end <= data_size, loc, where, " is truncated: entry '", name, "' needs bytes [", begin, ", ",
                end, ") but the file has only ", data_size, " data bytes");
    Tensor t = empty(s, *dtype, loc);
    if (bytes) std::memcpy(t.data_ptr(), file.data() + data_start + begin, bytes);
    out.emplace_back(name, t);
  }
  return out;
}

}  // namespace ember

namespace ember::nn {

void save(const Module& module, const std::string& path, const Loc& loc) {
  save_safetensors(module.state(), path, {{"format", "ember"}, {"module", module.type_name()}}, loc);
}

void load(Module& module, const std::string& path, const Loc& loc) {
  NamedTensors file = load_safetensors(path, loc);
  std::map<std::string, Tensor> by_name(file.begin(), file.end());
  std::vector<std::string> problems;
  const NamedTensors state = module.state();
  for (const auto& [name, t] : state) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      problems.push_back("missing entry '" + name + "' (shape " + to_string(t.sizes()) + ")");
      continue;
    }
    if (it->second.sizes() != t.sizes())
      problems.push_back("entry '" + name + "' has shape " + to_string(it->second.sizes()) +
                         " but the module's is " + to_string(t.sizes()));
    else if (it->second.dtype() != t.dtype())
      problems.push_back("entry '" + name + "' is " + dtype_name(it->second.dtype()) +
                         " but the module's is " + dtype_name(t.dtype()));
    by_name.erase(it);
  }
  for (const auto& [name, t] : by_name) problems.push_back("unexpected entry '" + name + "'");
  if (!problems.empty()) {
    std::string msg = "load: " + path + " does not match " + module.type_name() + ": ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    throw_error(msg, loc);
  }
  NoGradGuard no_grad;
  std::map<std::string, Tensor> values(file.begin(), file.end());
  for (const auto& [name, t] : state) {
    Tensor target = t;
    target.copy_(values.at(name));
  }
}

}  // namespace ember::nn
