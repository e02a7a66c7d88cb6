// Every op of the op table (runtime/ember/ops.def), traced from its sample call
// (tests/tracer/op_samples.h), printed, parsed and printed again by ember-opt.
// RUN: ember-ir-samples --every-op | ember-opt | ember-opt | FileCheck %s

// CHECK-LABEL: func.func @neg(
// CHECK: ember.neg 
// CHECK-LABEL: func.func @exp(
// CHECK: ember.exp 
// CHECK-LABEL: func.func @log(
// CHECK: ember.log 
// CHECK-LABEL: func.func @sqrt(
// CHECK: ember.sqrt 
// CHECK-LABEL: func.func @rsqrt(
// CHECK: ember.rsqrt 
// CHECK-LABEL: func.func @abs(
// CHECK: ember.abs 
// CHECK-LABEL: func.func @sign(
// CHECK: ember.sign 
// CHECK-LABEL: func.func @sin(
// CHECK: ember.sin 
// CHECK-LABEL: func.func @cos(
// CHECK: ember.cos 
// CHECK-LABEL: func.func @tanh(
// CHECK: ember.tanh 
// CHECK-LABEL: func.func @sigmoid(
// CHECK: ember.sigmoid 
// CHECK-LABEL: func.func @relu(
// CHECK: ember.relu 
// CHECK-LABEL: func.func @gelu(
// CHECK: ember.gelu 
// CHECK-LABEL: func.func @silu(
// CHECK: ember.silu 
// CHECK-LABEL: func.func @erf(
// CHECK: ember.erf 
// CHECK-LABEL: func.func @clamp(
// CHECK: ember.clamp 
// CHECK-LABEL: func.func @copy(
// CHECK: ember.copy 
// CHECK-LABEL: func.func @full_like(
// CHECK: ember.full_like 
// CHECK-LABEL: func.func @add(
// CHECK: ember.add 
// CHECK-LABEL: func.func @sub(
// CHECK: ember.sub 
// CHECK-LABEL: func.func @mul(
// CHECK: ember.mul 
// CHECK-LABEL: func.func @div(
// CHECK: ember.div 
// CHECK-LABEL: func.func @pow(
// CHECK: ember.pow 
// CHECK-LABEL: func.func @maximum(
// CHECK: ember.maximum 
// CHECK-LABEL: func.func @minimum(
// CHECK: ember.minimum 
// CHECK-LABEL: func.func @eq(
// CHECK: ember.eq 
// CHECK-LABEL: func.func @ne(
// CHECK: ember.ne 
// CHECK-LABEL: func.func @lt(
// CHECK: ember.lt 
// CHECK-LABEL: func.func @le(
// CHECK: ember.le 
// CHECK-LABEL: func.func @gt(
// CHECK: ember.gt 
// CHECK-LABEL: func.func @ge(
// CHECK: ember.ge 
// CHECK-LABEL: func.func @where(
// CHECK: ember.where 
// CHECK-LABEL: func.func @sum(
// CHECK: ember.sum 
// CHECK-LABEL: func.func @mean(
// CHECK: ember.mean 
// CHECK-LABEL: func.func @var(
// CHECK: ember.var 
// CHECK-LABEL: func.func @logsumexp(
// CHECK: ember.logsumexp 
// CHECK-LABEL: func.func @amax(
// CHECK: ember.amax 
// CHECK-LABEL: func.func @amin(
// CHECK: ember.amin 
// CHECK-LABEL: func.func @max_dim(
// CHECK: ember.max_dim 
// CHECK-LABEL: func.func @min_dim(
// CHECK: ember.min_dim 
// CHECK-LABEL: func.func @argmax(
// CHECK: ember.argmax 
// CHECK-LABEL: func.func @argmin(
// CHECK: ember.argmin 
// CHECK-LABEL: func.func @matmul(
// CHECK: ember.matmul 
// CHECK-LABEL: func.func @view(
// CHECK: ember.view 
// CHECK-LABEL: func.func @permute(
// CHECK: ember.permute 
// CHECK-LABEL: func.func @slice(
// CHECK: ember.slice 
// CHECK-LABEL: func.func @select(
// CHECK: ember.select 
// CHECK-LABEL: func.func @expand(
// CHECK: ember.expand 
// CHECK-LABEL: func.func @squeeze(
// CHECK: ember.squeeze 
// CHECK-LABEL: func.func @unsqueeze(
// CHECK: ember.unsqueeze 
// CHECK-LABEL: func.func @slice_backward(
// CHECK: ember.slice_backward 
// CHECK-LABEL: func.func @select_backward(
// CHECK: ember.select_backward 
// CHECK-LABEL: func.func @softmax(
// CHECK: ember.softmax 
// CHECK-LABEL: func.func @log_softmax(
// CHECK: ember.log_softmax 
// CHECK-LABEL: func.func @layer_norm(
// CHECK: ember.layer_norm 
// CHECK-LABEL: func.func @cross_entropy(
// CHECK: ember.cross_entropy 
// CHECK-LABEL: func.func @nll_loss(
// CHECK: ember.nll_loss 
// CHECK-LABEL: func.func @embedding(
// CHECK: ember.embedding 
// CHECK-LABEL: func.func @embedding_backward(
// CHECK: ember.embedding_backward 
// CHECK-LABEL: func.func @cat(
// CHECK: ember.cat 
// CHECK-LABEL: func.func @conv2d(
// CHECK: ember.conv2d 
// CHECK-LABEL: func.func @conv2d_backward_input(
// CHECK: ember.conv2d_backward_input 
// CHECK-LABEL: func.func @conv2d_backward_weight(
// CHECK: ember.conv2d_backward_weight 
// CHECK-LABEL: func.func @max_pool2d(
// CHECK: ember.max_pool2d 
// CHECK-LABEL: func.func @max_pool2d_backward(
// CHECK: ember.max_pool2d_backward 
// CHECK-LABEL: func.func @avg_pool2d(
// CHECK: ember.avg_pool2d 
// CHECK-LABEL: func.func @avg_pool2d_backward(
// CHECK: ember.avg_pool2d_backward 
// CHECK-LABEL: func.func @full(
// CHECK: ember.full 
// CHECK-LABEL: func.func @arange(
// CHECK: ember.arange 
// CHECK-LABEL: func.func @linspace(
// CHECK: ember.linspace 
// CHECK-LABEL: func.func @eye(
// CHECK: ember.eye 
// CHECK-LABEL: func.func @rand(
// CHECK: ember.rand 
// CHECK-LABEL: func.func @randn(
// CHECK: ember.randn 
// CHECK-LABEL: func.func @randint(
// CHECK: ember.randint 
