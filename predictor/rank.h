// Rank metrics for judging predictors: Spearman (average ranks for ties), Kendall tau-b (with
// ties; O(n log n) Knight algorithm plus the O(n^2) definition as oracle) and precision@K.
// All return NaN when undefined (n < 2, a constant input) or when memory runs out.
#ifndef PNAS_PREDICTOR_RANK_H
#define PNAS_PREDICTOR_RANK_H

// ranks: (n) 1-based ranks of x, ties get the average of their positions. 0 ok, -1 OOM.
int rank_average(const float *x /* (n) */, int n, double *ranks /* (n) */);
double rank_spearman(const float *a /* (n) */, const float *b /* (n) */, int n);
double rank_kendall_tau_b(const float *a /* (n) */, const float *b /* (n) */, int n);
// The smallest |Spearman| that n untied pairs reach with probability at most 5% (two-sided)
// under random order: exact over all n! orders for n <= 8, the normal approximation
// 1.96 / sqrt(n - 1) above. NAN when no order of n is that rare (n <= 4: even rho = +-1 has
// probability >= 1/12) or n < 3.
double rank_spearman_critical(int n);
double rank_kendall_tau_b_naive(const float *a, const float *b, int n);
// |true top-k (by truth) intersect predicted top-k (by pred)| / k; both sorted descending,
// ties broken by the lower index first. k is clamped to n.
double rank_precision_at_k(const float *truth /* (n) */, const float *pred /* (n) */, int n,
                           int k);

#endif
