// Rank metrics against hand-computed values (with ties), plus the O(n log n) Kendall tau-b
// against its O(n^2) definition on random data with many ties.
#include "predictor/rank.h"
#include "ptest.h"

int main(void) {
  { // Critical |rho| at 5% two-sided, from the published exact tables (e.g. Zar 1972):
    // n = 5: 1.000, 6: 0.886, 7: 0.786, 8: 0.738; none for n <= 4; normal approximation above.
    CHECK(isnan(rank_spearman_critical(2)) && isnan(rank_spearman_critical(4)));
    CHECK_NEAR(rank_spearman_critical(5), 1.0, 1e-12);
    CHECK_NEAR(rank_spearman_critical(6), 0.886, 0.0005);
    CHECK_NEAR(rank_spearman_critical(7), 0.786, 0.0005);
    CHECK_NEAR(rank_spearman_critical(8), 0.738, 0.0005);
    CHECK_NEAR(rank_spearman_critical(20), 1.96 / sqrt(19.0), 1e-12);
  }
  { // ties in b only. Ranks b = 1, 2, 3.5, 5, 3.5 -> rho = 8 / sqrt(10 * 9.5).
    // Pairs: 8 concordant, 1 discordant (4,5), 1 tied in b -> tau_b = 7 / sqrt(10 * 9).
    float a[] = {1, 2, 3, 4, 5}, b[] = {5, 6, 7, 8, 7};
    CHECK_NEAR(rank_spearman(a, b, 5), 8.0 / sqrt(95.0), 1e-12);
    CHECK_NEAR(rank_kendall_tau_b(a, b, 5), 7.0 / sqrt(90.0), 1e-12);
    CHECK_NEAR(rank_kendall_tau_b_naive(a, b, 5), 7.0 / sqrt(90.0), 1e-12);
    double rk[5];
    CHECK(rank_average(b, 5, rk) == 0);
    CHECK(rk[0] == 1.0 && rk[1] == 2.0 && rk[2] == 3.5 && rk[3] == 5.0 && rk[4] == 3.5);
  }
  { // ties in both: C = 5, D = 1, 2 ties in a, 2 ties in b -> tau_b = 4 / 8; rho = 5 / 9.
    float a[] = {1, 1, 2, 2, 3}, b[] = {1, 2, 1, 2, 3};
    CHECK_NEAR(rank_spearman(a, b, 5), 5.0 / 9.0, 1e-12);
    CHECK_NEAR(rank_kendall_tau_b(a, b, 5), 0.5, 1e-12);
    CHECK_NEAR(rank_kendall_tau_b_naive(a, b, 5), 0.5, 1e-12);
  }
  { // joint ties (pairs tied in both a and b) and a reversed order: a = 1 1 2 3, b = 4 4 3 1.
    // Pairs: (1,2) tied in both; the other 5 discordant. n1 = n2 = 1 -> tau_b = -5 / 5 = -1.
    float a[] = {1, 1, 2, 3}, b[] = {4, 4, 3, 1};
    CHECK_NEAR(rank_kendall_tau_b(a, b, 4), -1.0, 1e-12);
    CHECK_NEAR(rank_kendall_tau_b_naive(a, b, 4), -1.0, 1e-12);
    CHECK_NEAR(rank_spearman(a, b, 4), -1.0, 1e-12);
  }
  { // perfect, inverse, undefined
    float a[] = {0.1f, 0.5f, 0.3f, 0.9f}, inv[] = {4, 2, 3, 1}, c[] = {2, 2, 2, 2};
    CHECK_NEAR(rank_spearman(a, a, 4), 1.0, 1e-12);
    CHECK_NEAR(rank_spearman(a, inv, 4), -1.0, 1e-12);
    CHECK_NEAR(rank_kendall_tau_b(a, inv, 4), -1.0, 1e-12);
    CHECK(isnan(rank_spearman(a, c, 4)));
    CHECK(isnan(rank_kendall_tau_b(a, c, 4)));
    CHECK(isnan(rank_spearman(a, a, 1)));
  }
  { // precision@K
    float truth[] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f}, pred[] = {0.1f, 0.95f, 0.9f, 0.2f, 0.3f};
    CHECK_NEAR(rank_precision_at_k(truth, pred, 5, 2), 0.5, 1e-12);       // {0,1} vs {1,2}
    CHECK_NEAR(rank_precision_at_k(truth, pred, 5, 3), 2.0 / 3.0, 1e-12); // {0,1,2} vs {1,2,4}
    CHECK_NEAR(rank_precision_at_k(truth, truth, 5, 3), 1.0, 1e-12);
    CHECK_NEAR(rank_precision_at_k(truth, pred, 5, 99), 1.0, 1e-12); // k clamped to n
    // ties broken by the lower index: truth top-1 = index 0, pred top-1 = index 1
    float t2[] = {0.5f, 0.5f, 0.4f}, p2[] = {0.1f, 0.2f, 0.2f};
    CHECK_NEAR(rank_precision_at_k(t2, p2, 3, 1), 0.0, 1e-12);
    CHECK_NEAR(rank_precision_at_k(t2, p2, 3, 2), 0.5, 1e-12); // {0,1} vs {1,2}
  }
  { // Knight vs definition on random data with heavy ties
    space_rng r;
    space_rng_seed(&r, 3);
    for (int rep = 0; rep < 20; rep++) {
      int n = 2 + space_rng_below(&r, 300);
      float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
      for (int i = 0; i < n; i++) {
        a[i] = (float)space_rng_below(&r, 1 + rep);
        b[i] = (float)space_rng_below(&r, 7) + 0.1f * a[i];
      }
      double k1 = rank_kendall_tau_b(a, b, n), k2 = rank_kendall_tau_b_naive(a, b, n);
      CHECK((isnan(k1) && isnan(k2)) || fabs(k1 - k2) < 1e-12);
      free(a);
      free(b);
    }
  }
  PTEST_END();
}
