# PyTorch reference for bench/predictor_bench.c: the same LSTM predictor (one embedding table
# over the unified 19-token vocabulary = the paper's two tables, LSTM 100, FC, sigmoid, L1,
# Adam), the same cells, folds, epochs and batch size, on the CPU with the same thread count.
# Variable lengths go through pack_padded_sequence (the standard PyTorch way).
# Prints "torch_seconds <median>" for the C driver. Needs Debian's torch: /usr/bin/python3.
import argparse
import statistics
import time

import torch
import torch.nn as nn


class LSTMPredictor(nn.Module):
    def __init__(self, vocab=19, embed=100, hidden=100):
        super().__init__()
        self.emb = nn.Embedding(vocab, embed)
        nn.init.uniform_(self.emb.weight, -0.1, 0.1)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 1)
        nn.init.constant_(self.fc.bias, 1.8)

    def forward(self, tok, lengths):
        x = self.emb(tok)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return torch.sigmoid(self.fc(h[-1])).squeeze(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    lens, toks, accs = [], [], []
    with open(a.data) as f:
        for line in f:
            v = line.split()
            L = int(v[0])
            lens.append(L)
            toks.append([int(t) for t in v[1:1 + L]] + [0] * (40 - L))
            accs.append(float(v[1 + L]))
    tok = torch.tensor(toks, dtype=torch.long)
    length = torch.tensor(lens, dtype=torch.long)
    acc = torch.tensor(accs, dtype=torch.float32)
    n = len(lens)
    fold = torch.arange(n) % a.members

    def fit_all(seed, members, epochs):
        torch.manual_seed(seed)
        for m in range(members):
            idx = (fold != m).nonzero().squeeze(1) if a.members > 1 else torch.arange(n)
            model = LSTMPredictor()
            opt = torch.optim.Adam(model.parameters(), lr=0.002)
            for _ in range(epochs):
                perm = idx[torch.randperm(len(idx))]
                for s in range(0, len(perm), a.batch):
                    b = perm[s:s + a.batch]
                    L = length[b]
                    T = int(L.max())
                    y = model(tok[b, :T], L)
                    loss = (y - acc[b]).abs().mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()

    fit_all(0, 1, 1)  # warm-up: one member, one epoch
    times = []
    for rep in range(a.repeats):
        t0 = time.perf_counter()
        fit_all(rep + 1, a.members, a.epochs)
        times.append(time.perf_counter() - t0)
    print(f"  torch {torch.__version__}, {torch.get_num_threads()} threads, runs: "
          + " ".join(f"{t:.2f}" for t in times))
    print(f"torch_seconds {statistics.median(times):.6f}")


if __name__ == "__main__":
    main()
