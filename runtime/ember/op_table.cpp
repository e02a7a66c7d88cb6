// op_table.cpp - builds the op table from ops.def and the family registrars.
#include "ember/op_table.h"

#include <string_view>

namespace ember {

// Kernels.
void register_unary_kernels(OpRegistry& r);
void register_binary_kernels(OpRegistry& r);
void register_reduce_kernels(OpRegistry& r);
void register_matmul_kernels(OpRegistry& r);
void register_view_kernels(OpRegistry& r);
void register_nn_kernels(OpRegistry& r);
void register_attention_kernels(OpRegistry& r);
void register_lstm_kernels(OpRegistry& r);
void register_gru_kernels(OpRegistry& r);
void register_collective_kernels(OpRegistry& r);
void register_conv_pool_kernels(OpRegistry& r);
void register_creation_kernels(OpRegistry& r);
// Backward formulas.
void register_elementwise_formulas(OpRegistry& r);
void register_reduce_formulas(OpRegistry& r);
void register_view_formulas(OpRegistry& r);
void register_nn_formulas(OpRegistry& r);

namespace {
struct Table {
  OpInfo rows[kNumOps];
  Table() {
    int i = 0;
#define EMBER_OP(name_, kind_, in_, out_, grad_, saves_, effect_, rule_) \
  rows[i].name = #name_;                                                 \
  rows[i].kind = OpKind::kind_;                                          \
  rows[i].num_inputs = in_;                                              \
  rows[i].num_outputs = out_;                                            \
  rows[i].differentiable = std::string_view(#grad_) == "Diff";           \
  rows[i].saves = OpSaves::saves_;                                       \
  rows[i].effect = OpEffect::effect_;                                    \
  rows[i].rule = OpRule::rule_;                                          \
  ++i;
#include "ember/ops.def"
#undef EMBER_OP
    OpRegistry r{rows};
    register_unary_kernels(r);
    register_binary_kernels(r);
    register_reduce_kernels(r);
    register_matmul_kernels(r);
    register_view_kernels(r);
    register_nn_kernels(r);
    register_attention_kernels(r);
    register_lstm_kernels(r);
    register_gru_kernels(r);
    register_collective_kernels(r);
    register_conv_pool_kernels(r);
    register_creation_kernels(r);
    register_elementwise_formulas(r);
    register_reduce_formulas(r);
    register_view_formulas(r);
    register_nn_formulas(r);
  }
};
const Table& table() {
  static const Table t;
  return t;
}
}  // namespace

const OpInfo& op_info(OpId op) { return table().rows[static_cast<int>(op)]; }

}  // namespace ember
