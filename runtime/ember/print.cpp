// print.cpp - printing tensors like PyTorch: values (summarized when large),
// then shape, dtype and grad_fn.
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "ember/autograd/node.h"
#include "ember/kernels/common.h"

namespace ember {

namespace {
constexpr int64_t kSummarizeAbove = 1000;  // elements
constexpr int64_t kEdgeItems = 3;

void print_element(std::ostream& out, DType dtype, double x) {
  if (is_floating(dtype))
    out << std::fixed << std::setprecision(4) << x;
  else if (dtype == DType::Bool)
    out << (x != 0 ? "true" : "false");
  else
    out << static_cast<int64_t>(x);
}

void print_values(std::ostream& out, const Tensor& t, const std::vector<double>& v, int64_t dim,
                  int64_t offset, bool summarize, int indent) {
  if (t.dim() == 0) {
    print_element(out, t.dtype(), v[0]);
    return;
  }
  const int64_t size = t.size(dim);
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < t.dim(); ++d) inner *= t.size(d);
  out << '[';
  for (int64_t i = 0; i < size; ++i) {
    if (summarize && size > 2 * kEdgeItems && i == kEdgeItems) {
      out << "...";
      i = size - kEdgeItems - 1;
      out << (dim + 1 == t.dim() ? ", " : ",\n" + std::string(indent + 1, ' '));
      continue;
    }
    if (dim + 1 == t.dim()) {
      print_element(out, t.dtype(), v[offset + i]);
    } else {
      print_values(out, t, v, dim + 1, offset + i * inner, summarize, indent + 1);
    }
    if (i + 1 < size) out << (dim + 1 == t.dim() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  out << ']';
}
}  // namespace

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
  if (!t.defined()) return out << "tensor(undefined)";
  std::ostringstream s;
  s << "tensor(";
  std::vector<double> values;
  {
    kernels::InternalScope scope;
    values = t.to_vector<double>();
  }
  print_values(s, t, values, 0, 0, t.numel() > kSummarizeAbove, 7);
  s << ", shape=" << t.sizes() << ", dtype=" << dtype_name(t.dtype());
  if (auto fn = t.grad_fn())
    s << ", grad_fn=<" << fn->name() << ">";
  else if (t.requires_grad())
    s << ", requires_grad=true";
  s << ")";
  return out << s.str();
}

std::string to_string(const Tensor& t) {
  std::ostringstream s;
  s << t;
  return s.str();
}

}  // namespace ember
