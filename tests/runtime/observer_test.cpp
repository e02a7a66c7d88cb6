// observer_test.cpp - Note [Observers]: several dispatch observers at once
// (a tracer and a profiler, say), in installation order, hidden inside
// composite kernels, one stack per thread.
#include <gtest/gtest.h>

#include <thread>

#include "ember/dispatch.h"
#include "ember/ember.h"

namespace ember {
namespace {

struct Counter : DispatchObserver {
  std::vector<std::string>* log;
  std::string name;
  int ops = 0, reads = 0, grads = 0;
  Counter(std::vector<std::string>* l, std::string n) : log(l), name(std::move(n)) {}
  void on_op(const OpRecord& r) override {
    ++ops;
    if (log) log->push_back(name + ":" + op_name(r.op));
  }
  void on_data_read(const Tensor&, const Loc&) override { ++reads; }
  void on_grad_set(const Tensor&, const Tensor&) override { ++grads; }
};

TEST(Observers, SeveralSeeEveryOpInTheOrderTheyWereInstalled) {
  std::vector<std::string> log;
  Counter outer(&log, "outer"), inner(&log, "inner");
  Tensor x = ones({3}).requires_grad_();
  {
    ObserverScope a(&outer);
    Tensor y = x.exp();
    {
      ObserverScope b(&inner);
      Tensor z = (y * 2).sum();
      z.item<float>();
      z.backward();
    }
    y.neg();
  }
  ones({2}).exp();  // after both scopes: seen by none
  EXPECT_GE(outer.ops, inner.ops + 2);
  EXPECT_GT(inner.ops, 0);
  EXPECT_EQ(outer.reads, 1);
  EXPECT_EQ(inner.reads, 1);
  EXPECT_EQ(outer.grads, inner.grads);
  EXPECT_GE(inner.grads, 1) << "backward set x.grad";
  // Each op went to the outer observer first, then the inner one.
  for (size_t i = 0; i + 1 < log.size(); ++i) {
    if (log[i + 1].rfind("inner:", 0) != 0) continue;
    EXPECT_EQ(log[i].rfind("outer:", 0), 0u) << log[i];
    EXPECT_EQ(log[i].substr(log[i].find(':')), log[i + 1].substr(log[i + 1].find(':')));
  }
}

TEST(Observers, CompositeKernelsHideTheirOpsFromEveryObserver) {
  Counter a(nullptr, "a"), b(nullptr, "b");
  ObserverScope sa(&a), sb(&b);
  Tensor x = randn({4, 5});
  const int before = a.ops;
  x.var({1});  // a composite kernel: mean, sub, mul, sum inside
  EXPECT_EQ(a.ops - before, 1) << "one op seen, not its parts";
  EXPECT_EQ(b.ops, a.ops);
}

TEST(Observers, EachThreadHasItsOwnStack) {
  Counter here(nullptr, "here");
  ObserverScope scope(&here);
  int seen_elsewhere = -1;
  std::thread([&] {
    Counter there(nullptr, "there");
    {
      ObserverScope s(&there);
      ones({2}).exp();
    }
    seen_elsewhere = there.ops;
  }).join();
  EXPECT_EQ(seen_elsewhere, 2) << "ones and exp, on the other thread";
  EXPECT_EQ(here.ops, 0) << "nothing of the other thread's";
}

TEST(Observers, TooManyAtOnceIsAnError) {
  Counter c(nullptr, "c");
  std::vector<std::unique_ptr<ObserverScope>> scopes;
  for (int i = 0; i < kMaxObservers; ++i) scopes.push_back(std::make_unique<ObserverScope>(&c));
  EXPECT_THROW(ObserverScope extra(&c), Error);
}

}  // namespace
}  // namespace ember
