// Rank metrics (see rank.h). Spearman = Pearson correlation of average ranks. Kendall tau-b =
// (concordant - discordant) / sqrt((n0 - n1)(n0 - n2)), with n1, n2 the tied pairs in a, b.
#include "predictor/rank.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  float v;
  int i;
} vi;

static int vi_cmp(const void *pa, const void *pb) {
  const vi *a = pa, *b = pb;
  if (a->v < b->v) return -1;
  if (a->v > b->v) return 1;
  return a->i - b->i;
}

int rank_average(const float *x, int n, double *ranks) {
  vi *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
  if (!s) return -1;
  for (int i = 0; i < n; i++) s[i] = (vi){x[i], i};
  qsort(s, (size_t)n, sizeof *s, vi_cmp);
  for (int i = 0; i < n;) {
    int j = i;
    while (j + 1 < n && s[j + 1].v == s[i].v) j++;
    double r = 0.5 * (i + j) + 1.0; // average of positions i..j, 1-based
    for (int k = i; k <= j; k++) ranks[s[k].i] = r;
    i = j + 1;
  }
  free(s);
  return 0;
}

double rank_spearman(const float *a, const float *b, int n) {
  if (n < 2) return NAN;
  double *ra = malloc((size_t)n * sizeof *ra), *rb = malloc((size_t)n * sizeof *rb);
  double res = NAN;
  if (ra && rb && !rank_average(a, n, ra) && !rank_average(b, n, rb)) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) ma += ra[i], mb += rb[i];
    ma /= n, mb /= n;
    for (int i = 0; i < n; i++) {
      double da = ra[i] - ma, db = rb[i] - mb;
      sab += da * db, saa += da * da, sbb += db * db;
    }
    if (saa > 0 && sbb > 0) res = sab / sqrt(saa * sbb);
  }
  free(ra);
  free(rb);
  return res;
}

double rank_kendall_tau_b_naive(const float *a, const float *b, int n) {
  if (n < 2) return NAN;
  int64_t s = 0, n0 = (int64_t)n * (n - 1) / 2, ta = 0, tb = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      int da = (a[i] > a[j]) - (a[i] < a[j]), db = (b[i] > b[j]) - (b[i] < b[j]);
      s += da * db;
      ta += da == 0;
      tb += db == 0;
    }
  double den = sqrt((double)(n0 - ta) * (double)(n0 - tb));
  return den > 0 ? (double)s / den : NAN;
}

typedef struct {
  float a, b;
} ab;

static int ab_cmp(const void *pa, const void *pb) {
  const ab *x = pa, *y = pb;
  if (x->a != y->a) return x->a < y->a ? -1 : 1;
  if (x->b != y->b) return x->b < y->b ? -1 : 1;
  return 0;
}

// Merge sort of v by b, counting inversions (pairs i < j with b_i > b_j strictly).
static int64_t sort_count(ab *v, ab *tmp, int n) {
  if (n < 2) return 0;
  int h = n / 2;
  int64_t sw = sort_count(v, tmp, h) + sort_count(v + h, tmp, n - h);
  int i = 0, j = h, k = 0;
  while (i < h && j < n) {
    if (v[j].b < v[i].b) {
      sw += h - i;
      tmp[k++] = v[j++];
    } else {
      tmp[k++] = v[i++];
    }
  }
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, (size_t)n * sizeof *v);
  return sw;
}

static int64_t tied_pairs_b(const ab *v, int n) { // v sorted by b
  int64_t t = 0;
  for (int i = 0; i < n;) {
    int j = i;
    while (j + 1 < n && v[j + 1].b == v[i].b) j++;
    int64_t c = j - i + 1;
    t += c * (c - 1) / 2;
    i = j + 1;
  }
  return t;
}

double rank_kendall_tau_b(const float *a, const float *b, int n) {
  if (n < 2) return NAN;
  ab *v = malloc((size_t)n * sizeof *v), *tmp = malloc((size_t)n * sizeof *tmp);
  if (!v || !tmp) {
    free(v);
    free(tmp);
    return NAN;
  }
  for (int i = 0; i < n; i++) v[i] = (ab){a[i], b[i]};
  qsort(v, (size_t)n, sizeof *v, ab_cmp);
  // n1: pairs tied in a; n3: pairs tied in both a and b.
  int64_t n0 = (int64_t)n * (n - 1) / 2, n1 = 0, n3 = 0;
  for (int i = 0; i < n;) {
    int j = i;
    while (j + 1 < n && v[j + 1].a == v[i].a) j++;
    int64_t c = j - i + 1;
    n1 += c * (c - 1) / 2;
    for (int k = i; k <= j;) {
      int l = k;
      while (l + 1 <= j && v[l + 1].b == v[k].b) l++;
      int64_t d = l - k + 1;
      n3 += d * (d - 1) / 2;
      k = l + 1;
    }
    i = j + 1;
  }
  // Within a-ties b is ascending, so every inversion is a pair discordant in (a, b).
  int64_t swaps = sort_count(v, tmp, n);
  int64_t n2 = tied_pairs_b(v, n);
  // concordant - discordant = (n0 - n1 - n2 + n3) - 2 * discordant
  double num = (double)(n0 - n1 - n2 + n3 - 2 * swaps);
  double den = sqrt((double)(n0 - n1) * (double)(n0 - n2));
  free(v);
  free(tmp);
  return den > 0 ? num / den : NAN;
}

static int vi_cmp_desc(const void *pa, const void *pb) {
  const vi *a = pa, *b = pb;
  if (a->v > b->v) return -1;
  if (a->v < b->v) return 1;
  return a->i - b->i;
}

double rank_precision_at_k(const float *truth, const float *pred, int n, int k) {
  if (k > n) k = n;
  if (k < 1) return NAN;
  vi *s = malloc((size_t)n * sizeof *s);
  unsigned char *top = calloc((size_t)n, 1);
  double res = NAN;
  if (s && top) {
    for (int i = 0; i < n; i++) s[i] = (vi){truth[i], i};
    qsort(s, (size_t)n, sizeof *s, vi_cmp_desc);
    for (int i = 0; i < k; i++) top[s[i].i] = 1;
    for (int i = 0; i < n; i++) s[i] = (vi){pred[i], i};
    qsort(s, (size_t)n, sizeof *s, vi_cmp_desc);
    int hit = 0;
    for (int i = 0; i < k; i++) hit += top[s[i].i];
    res = (double)hit / k;
  }
  free(s);
  free(top);
  return res;
}

double rank_spearman_critical(int n) {
  if (n < 3) return NAN;
  if (n > 8) return 1.96 / sqrt(n - 1.0);
  int perm[8], c[8] = {0}, d2max = n * (n * n - 1) / 3; // sum of d^2 lies in [0, d2max]
  long hist[200] = {0}, total = 0;                      // d2max <= 168 for n <= 8
  for (int i = 0; i < n; i++) perm[i] = i;
  for (int i = 0;;) { // Heap's algorithm over every order
    int d2 = 0;
    for (int k = 0; k < n; k++) d2 += (perm[k] - k) * (perm[k] - k);
    hist[d2]++, total++;
    while (i < n && c[i] >= i) c[i++] = 0;
    if (i >= n) break;
    int t = perm[i % 2 ? c[i] : 0];
    perm[i % 2 ? c[i] : 0] = perm[i], perm[i] = t;
    c[i]++, i = 1;
  }
  // |rho| >= r <=> d2 <= lo or d2 >= d2max - lo (rho = 1 - 6 d2 / (n (n^2 - 1)) is symmetric).
  double crit = NAN;
  long tail = 0;
  for (int lo = 0; 2 * lo < d2max; lo++) {
    if (!hist[lo]) continue; // a value no order attains
    tail += hist[lo] + hist[d2max - lo];
    if ((double)tail / total > 0.05) break;
    crit = 1.0 - 6.0 * lo / (n * (n * n - 1.0));
  }
  return crit;
}
