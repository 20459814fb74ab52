// kn_threads_given_load: a CPU child takes fewer threads only when the machine is
// oversubscribed (the others' load plus its own threads above the CPU count).
#include <stdlib.h>

#include "kernels/backend.h"
#include "tests/check.h"

int main(void) {
  CHECK(kn_threads_given_load(2, 0.1, 2) == 2, "idle 2-CPU machine keeps 2");
  CHECK(kn_threads_given_load(2, 2.0, 2) == 2, "its own 2 threads are not others' load");
  CHECK(kn_threads_given_load(2, 3.0, 2) == 1, "one busy process beside: 1 thread");
  CHECK(kn_threads_given_load(2, 12.0, 2) == 1, "load 12 on 2 CPUs: 1 thread");
  CHECK(kn_threads_given_load(4, 5.0, 8) == 4, "room for 4: got %d", kn_threads_given_load(4, 5.0, 8));
  CHECK(kn_threads_given_load(8, 10.0, 8) == 6, "2 others on 8 CPUs: 6, got %d",
        kn_threads_given_load(8, 10.0, 8));
  CHECK(kn_threads_given_load(1, 50.0, 2) == 1, "1 stays 1");
  CHECK(kn_threads_given_load(0, 0.0, 2) == 1, "at least 1");
  CHECK(kn_threads_given_load(3, -1.0, 2) == 3, "unknown load: as requested");
  CHECK(kn_threads_given_load(3, 0.0, 0) == 3, "unknown CPU count: as requested");
  setenv("PNAS_FIXED_THREADS", "1", 1);
  CHECK(kn_threads_for_load(5) == 5, "PNAS_FIXED_THREADS=1 keeps the request");
  CHECK(kn_threads_for_load(1) == 1);
  return CHECK_DONE();
}
