// Fuzz target: the predictor file reader (pred_ensemble_load_mem). Properties: a rejected file
// has a message; an accepted one saves to bytes that load again and save to the same bytes, and
// it can score a cell without crashing (the weights may be anything, so NaN scores are allowed).
#include "fuzz_common.h"
#include "predictor/predictor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pred_ensemble *e = NULL;
  char err[512] = "";
  if (pred_ensemble_load_mem(&e, (const char *)data, size, err, sizeof err) != PRED_OK) {
    FUZZ_CHECK(e == NULL, "failed load returned an ensemble");
    FUZZ_CHECK(err[0], "predictor file rejected without a message");
    return 0;
  }
  FUZZ_CHECK(pred_ensemble_is_fitted(e), "loaded ensemble is not fitted");
  char *buf1 = NULL, *buf2 = NULL;
  size_t len1 = 0, len2 = 0;
  FUZZ_CHECK(pred_ensemble_save_mem(e, &buf1, &len1, err, sizeof err) == PRED_OK, "save: %s", err);
  pred_ensemble *e2 = NULL;
  FUZZ_CHECK(pred_ensemble_load_mem(&e2, buf1, len1, err, sizeof err) == PRED_OK,
             "saved file does not load: %s", err);
  FUZZ_CHECK(pred_ensemble_save_mem(e2, &buf2, &len2, err, sizeof err) == PRED_OK, "save 2: %s",
             err);
  FUZZ_CHECK(len1 == len2 && !memcmp(buf1, buf2, len1), "save(load(save(x))) != save(x)");
  space_cell c;
  FUZZ_CHECK(space_parse("pnasnet-5", &c, err, sizeof err) == 0, "%s", err);
  float mean = 0, sd = 0;
  FUZZ_CHECK(pred_ensemble_predict(e, &c, 1, &mean, &sd, 1, err, sizeof err) == PRED_OK,
             "predict: %s", err);
  free(buf1);
  free(buf2);
  pred_ensemble_free(e);
  pred_ensemble_free(e2);
  return 0;
}
