// failing_rank.cpp - rank 1 throws while rank 0 waits in an all-reduce:
// Note [One rank's failure stops them all] must end both within seconds
// (expect_failure.cmake runs it under mpirun and checks).
#include "ember/distributed/distributed.h"
#include "ember/ember.h"

int main() {
  ember::distributed::init();
  if (ember::distributed::rank() == 1) throw ember::Error("rank 1 fails on purpose");
  ember::Tensor t = ember::ones({4});
  ember::distributed::all_reduce(t);  // never completes: rank 1 is gone
  return 0;
}
