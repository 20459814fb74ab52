// The child network of DESIGN.md s.2 (CIFAR-style stem, 3N cells, reductions at N and 2N, head),
// built from a space_cell as a tape of kernel calls on a backend (kernels/backend.h). All buffers
// are planned first and allocated once per child: activations, liveness-packed gradients,
// parameters (contiguous, in the documented construction order), momentum and BN statistics.
// It does not train (see train.h) and never dereferences device memory itself.
#ifndef PNAS_NET_H
#define PNAS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/backend.h"
#include "searchspace/cell.h"
#include "searchspace/cost.h"

typedef struct {
  int N, F;              // cells per stage (3N cells), first-stage filters
  int in_c, in_h, in_w;  // image (C, H, W)
  int classes;
  double stem_mult;      // stem conv has (int)(F * stem_mult) channels; 3 for CIFAR/Fashion-MNIST
  int batch;             // largest batch the buffers are sized for
  const cost_widths *widths; // a pruned network's channels (searchspace/cost.h); NULL = none
} net_config;

// One trainable tensor. Construction (and memory) order: stem conv (3F,C,3,3), stem BN gamma,
// beta; per cell: H[c-2] preprocessing if any (factorized reduction: conv_a (F/2,Cin,1,1),
// conv_b (F-F/2,Cin,1,1), BN gamma, beta; or conv (F,Cin,1,1), BN gamma, beta), H[c-1] conv
// (F,Cin,1,1), BN gamma, beta; then per block its first then second branch: sepKxK: dw1 (C,1,k,k),
// pw1 (F,C,1,1), bn1 gamma, beta, dw2 (F,1,k,k), pw2 (F,F,1,1), bn2 gamma, beta; strided
// identity: conv (F,C,1,1), gamma, beta; conv1x7_7x1: (F,C,1,7), (F,F,7,1), gamma, beta; dil3x3:
// (F,C,3,3), gamma, beta; pools / plain identity: none. Head: fc weight (classes,Cin), bias.
typedef struct {
  char name[80];      // e.g. "cell1.b2.left.sep5x5.pw1"
  int ndim;           // 4 for conv weights, 2 for fc weight, 1 for BN and bias
  int shape[4];
  int64_t numel;
  int64_t offset;     // in floats, within the contiguous parameter vector
  float *data, *grad; // backend memory
  int decay;          // 1: weight decay applies (conv and fc weights); 0: BN gamma/beta, fc bias
} net_param;

typedef struct net net;

// Plans and allocates the network; parameters initialised from seed (PyTorch's default: uniform
// +-1/sqrt(fan_in) for conv/fc weights and fc bias; BN gamma 1, beta 0). 0 ok; -1 with err
// (invalid configuration, image too small, out of memory).
int net_create(net **out, const space_cell *cell, const net_config *cfg, kn_ctx *ctx,
               uint64_t seed, char *err, size_t errlen);
void net_free(net *nt);

int net_param_count(const net *nt);                 // number of parameter tensors
const net_param *net_param_at(const net *nt, int i);
int64_t net_num_params(const net *nt);              // total trainable floats
size_t net_memory_bytes(const net *nt);             // backend memory held by this child
int net_num_nodes(const net *nt);                   // kernel calls per forward pass
// Estimated compulsory memory traffic (bytes) of one training step on a batch of n: the figure
// a memory-bound GPU step is measured against (bytes / step time vs the card's bandwidth).
double net_step_bytes(const net *nt, int n);

// Copy a batch (host) into the network's input buffers: x (n, C, H, W) normalised floats,
// labels (n) in [0, classes). n <= cfg.batch.
void net_set_batch(net *nt, const float *x, const int32_t *labels, int n);
// Forward pass on the current batch; train=1 uses batch statistics and updates BN running stats.
void net_forward(net *nt, int n, int train);
// Copy the logits (n, classes) of the last forward to the host.
void net_get_logits(net *nt, float *logits, int n);
// Softmax cross-entropy on the last forward's logits, then backward through the whole network:
// parameter gradients are overwritten (not accumulated across calls). Returns the mean loss.
float net_backward(net *nt, int n);
// SGD with momentum on every parameter (weight decay only where decay=1).
void net_sgd(net *nt, float lr, float momentum, float weight_decay);

// The same steps without host round trips, for a training loop that keeps its state in backend
// memory (pnas/child/trainer.c) and may capture a step as a CUDA graph: net_backward_dev leaves the loss
// at net_loss_buf; net_sgd_dev reads the learning rate from backend memory (one float).
void net_backward_dev(net *nt, int n);
void net_sgd_dev(net *nt, const float *lr, float momentum, float weight_decay);
// [ours] Network slimming: adds lambda * sign(gamma) to the gradient of every BN gamma (the
// subgradient of lambda * sum |gamma|). Call between net_backward_dev and net_sgd_dev.
void net_l1_bn_dev(net *nt, float lambda);
// Backend buffers of the network: input (batch, C, H, W), labels (batch), loss (1), logits
// (batch, classes).
float *net_input_buf(net *nt);
int32_t *net_labels_buf(net *nt);
const float *net_loss_buf(const net *nt);
const float *net_logits_buf(net *nt);

// All parameters / their gradients as one host vector (net_num_params floats, construction order).
void net_params_get(net *nt, float *host);
void net_params_set(net *nt, const float *host);
void net_grads_get(net *nt, float *host);

#endif
