// Fuzz target: the MPI message decoder (mpi_decode_msg) and its structural pre-check.
// Properties: a rejected message has a message; an accepted one passes the pre-check, and
// re-encodes to bytes that decode and re-encode to the same bytes.
#include "fuzz_common.h"
#include "pnas/dispatch/mpi_msg.h"
#include "searchspace/msgpack_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mpi_msg *m = calloc(1, sizeof *m), *m2 = calloc(1, sizeof *m2);
  if (!m || !m2) return free(m), free(m2), 0;
  char err[1024] = "";
  if (mpi_decode_msg(data, size, m, err, sizeof err) == 0) {
    FUZZ_CHECK(space_msgpack_check(data, size, err, sizeof err) == 0, "decoded but check: %s", err);
    void *e1 = NULL, *e2 = NULL;
    size_t l1 = 0, l2 = 0;
    FUZZ_CHECK(mpi_encode_msg(m, &e1, &l1, err, sizeof err) == 0, "encode: %s", err);
    FUZZ_CHECK(mpi_decode_msg(e1, l1, m2, err, sizeof err) == 0, "re-decode: %s", err);
    FUZZ_CHECK(mpi_encode_msg(m2, &e2, &l2, err, sizeof err) == 0, "encode 2: %s", err);
    FUZZ_CHECK(l1 == l2 && !memcmp(e1, e2, l1), "encode(decode(encode(x))) != encode(x)");
    free(e1);
    free(e2);
  } else {
    FUZZ_CHECK(err[0], "message rejected without a message");
  }
  free(m);
  free(m2);
  return 0;
}
